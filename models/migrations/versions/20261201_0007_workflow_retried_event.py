"""workflow retried event

Support's retry of an order's workflow (`POST /admin/orders/{id}/retry`, issue 9) is written to
the order's timeline as `workflow_retried`, with the reason and the key's name: the timeline's
CHECK of known event types gains it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES_BEFORE = (
    "'placed', 'captured', 'capture_failed', 'payment_voided', 'shipped', "
    "'canceled', 'refund_requested', 'refund_succeeded', 'refund_failed', "
    "'return_requested', 'return_received', 'return_canceled', 'dispute_opened', "
    "'dispute_updated', 'dispute_funds_withdrawn', 'dispute_funds_reinstated', "
    "'dispute_closed', 'email_sent', 'email_resent'"
)


def _check(types: str) -> None:
    op.drop_constraint(op.f("ck_order_events_type_known"), "order_events", type_="check")
    op.create_check_constraint(op.f("ck_order_events_type_known"), "order_events", f"type IN ({types})")


def upgrade() -> None:
    _check(f"{TYPES_BEFORE}, 'workflow_retried'")


def downgrade() -> None:
    op.execute("DELETE FROM order_events WHERE type = 'workflow_retried'")
    _check(TYPES_BEFORE)

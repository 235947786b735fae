"""outbox delivery

The outbox's delivery state: attempts, when the next one is due, the last error, and the
`failed` status of a message given up; the order timeline's `email_resent` (support's resend);
`checkouts.reservation_released_at`, after which a checkout's reservation is never made again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_TYPES = (
    "'placed', 'captured', 'capture_failed', 'payment_voided', 'shipped', "
    "'canceled', 'refund_requested', 'refund_succeeded', 'refund_failed', "
    "'return_requested', 'return_received', 'return_canceled', 'dispute_opened', "
    "'dispute_updated', 'dispute_funds_withdrawn', 'dispute_funds_reinstated', "
    "'dispute_closed', 'email_sent'"
)


def upgrade() -> None:
    op.add_column(
        "checkouts", sa.Column("reservation_released_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("outbox_messages", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "outbox_messages",
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.add_column("outbox_messages", sa.Column("last_error", sa.Text(), nullable=True))
    op.drop_constraint(op.f("ck_outbox_messages_status_known"), "outbox_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbox_messages_status_known"),
        "outbox_messages",
        "status IN ('pending', 'sent', 'outbox', 'failed')",
    )
    op.create_check_constraint(
        op.f("ck_outbox_messages_attempts_non_negative"), "outbox_messages", "attempts >= 0"
    )
    op.create_check_constraint(
        op.f("ck_outbox_messages_failed_has_error"),
        "outbox_messages",
        "status != 'failed' OR last_error IS NOT NULL",
    )
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_constraint(op.f("ck_order_events_type_known"), "order_events", type_="check")
    op.create_check_constraint(
        op.f("ck_order_events_type_known"), "order_events", f"type IN ({_EVENT_TYPES}, 'email_resent')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM order_events WHERE type = 'email_resent'")
    op.drop_constraint(op.f("ck_order_events_type_known"), "order_events", type_="check")
    op.create_check_constraint(
        op.f("ck_order_events_type_known"), "order_events", f"type IN ({_EVENT_TYPES})"
    )
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_constraint(op.f("ck_outbox_messages_failed_has_error"), "outbox_messages", type_="check")
    op.drop_constraint(op.f("ck_outbox_messages_attempts_non_negative"), "outbox_messages", type_="check")
    op.drop_constraint(op.f("ck_outbox_messages_status_known"), "outbox_messages", type_="check")
    # A message given up goes back to waiting: the old schema knows no `failed`.
    op.execute("UPDATE outbox_messages SET status = 'pending' WHERE status = 'failed'")
    op.create_check_constraint(
        op.f("ck_outbox_messages_status_known"), "outbox_messages", "status IN ('pending', 'sent', 'outbox')"
    )
    op.drop_column("outbox_messages", "last_error")
    op.drop_column("outbox_messages", "next_attempt_at")
    op.drop_column("outbox_messages", "attempts")
    op.drop_column("checkouts", "reservation_released_at")

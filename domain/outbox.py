"""The outbox's delivery rules: what a message's status may be, and when a failed one is tried again."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.orders.workflow import EmailKind


class OutboxStatus(StrEnum):
    PENDING = "pending"  # due at `next_attempt_at` (the delivery Schedule's workflow picks it up)
    SENT = "sent"  # the provider took it
    OUTBOX = "outbox"  # no provider is configured: the row itself is the delivery (dev)
    FAILED = "failed"  # given up after the last attempt; `last_error` says why


class OutboxChannel(StrEnum):
    EMAIL = "email"
    ANALYTICS = "analytics"


def retry_delay(attempts: int, *, base_seconds: float, cap_seconds: float) -> timedelta:
    """How long after its `attempts`-th attempt (1, 2, ...) a message is due again: doubling, capped.

    Taken when a message is claimed, so it is also the lease of an attempt whose worker died.
    """
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


def email_key(order_id: str, kind: EmailKind, subject_id: str | None = None) -> str:
    """The outbox key of an order's email: one message per order (and fulfillment, refund or dispute)."""
    if kind in (EmailKind.CONFIRMATION, EmailKind.CANCELLATION):
        return f"{order_id}:{kind}-email"
    return f"{order_id}:{kind}-email:{subject_id}"


def resend_key(order_id: str, kind: EmailKind, message_id: str) -> str:
    """A resend's own key (a new one each time): never the prefix of an original email's."""
    return f"{order_id}:resend:{kind}:{message_id}"


def outbox_schedule_id(task_queue: str) -> str:
    """The delivery Schedule of the workers on this task queue."""
    return f"outbox-delivery-{task_queue}"


class DeliveryRun(BaseModel):
    """What one run of the delivery workflow did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

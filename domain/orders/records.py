"""The kinds of records an order accumulates: timeline events and money movements."""

from __future__ import annotations

from enum import StrEnum


class OrderEventType(StrEnum):
    """One entry of the order's timeline (`GET /admin/orders/{id}` → `events`)."""

    PLACED = "placed"
    CAPTURED = "captured"
    CAPTURE_FAILED = "capture_failed"
    PAYMENT_VOIDED = "payment_voided"
    SHIPPED = "shipped"
    CANCELED = "canceled"
    REFUND_REQUESTED = "refund_requested"
    REFUND_SUCCEEDED = "refund_succeeded"  # created at Stripe (pending or succeeded): the money left
    REFUND_FAILED = "refund_failed"  # refused by Stripe, or failed later (the money came back)
    RETURN_REQUESTED = "return_requested"
    RETURN_RECEIVED = "return_received"
    RETURN_CANCELED = "return_canceled"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_UPDATED = "dispute_updated"
    DISPUTE_FUNDS_WITHDRAWN = "dispute_funds_withdrawn"
    DISPUTE_FUNDS_REINSTATED = "dispute_funds_reinstated"
    DISPUTE_CLOSED = "dispute_closed"
    EMAIL_SENT = "email_sent"
    EMAIL_RESENT = "email_resent"  # support sent one again on purpose (the resend route)
    WORKFLOW_RETRIED = "workflow_retried"  # support reset or retried the order's workflow


class TransactionReference(StrEnum):
    """What an OrderTransaction is; its `reference_id` names the Stripe object it is."""

    CAPTURE = "capture"  # > 0, the PaymentIntent
    REFUND = "refund"  # < 0, the Refund (re_…)
    REFUND_REVERSAL = "refund_reversal"  # > 0, a failed refund's money back, the Refund (re_…)
    DISPUTE = "dispute"  # != 0, the dispute's balance transaction (txn_…): withdrawn < 0, reinstated > 0


# Who made a change no admin key made.
SYSTEM_ACTOR = "system"  # the checkout and the order's own workflow
STRIPE_ACTOR = "stripe"  # learned from Stripe (a dashboard refund, a dispute)

"""The OrderWorkflow's names, input, carried state and the messages its activities return.

The workflow definition declares these names and services.dispatch sends by them. Running
workflows and recorded histories know them: never rename one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.attention import Attention
from domain.orders.operations import CancelRequest, OperationOutcome
from domain.orders.snapshot import OrderSnapshot

ORDER_WORKFLOW = "OrderWorkflow"
SHIP_UPDATE = "ship"
CANCEL_UPDATE = "cancel"
REFUND_UPDATE = "refund"
REQUEST_RETURN_UPDATE = "request_return"
RECEIVE_RETURN_UPDATE = "receive_return"
CANCEL_RETURN_UPDATE = "cancel_return"
STRIPE_EVENT_SIGNAL = "stripe_event"
ORDER_STATE_QUERY = "state"

# How many processed requests and Stripe event IDs a run remembers (and carries over
# continue-as-new); older ones are answered from the database, the durable record.
REMEMBERED_REQUESTS = 200
REMEMBERED_EVENTS = 500


class CarriedState(BaseModel):
    """What a run hands to the next one when it continues-as-new."""

    outcomes: list[OperationOutcome] = []
    seen_event_ids: list[str] = []
    sync_pending: bool = False


class OrderWorkflowInput(BaseModel):
    order_id: str
    payment_intent_id: str
    # Loaded by whoever starts the workflow (the API); None: the workflow loads it first.
    snapshot: OrderSnapshot | None = None
    # From settings, fixed when the run starts; None: the loading activity gives the worker's.
    return_window_days: int | None = None
    dispute_window_days: int | None = None
    # A run continues-as-new once its history has this many events (or Temporal suggests it).
    continue_as_new_after: int = 4_000
    carried: CarriedState | None = None
    # Started by the checkout that placed the order: the run's first task sends the order's
    # confirmation email and analytics event (once each, by their outbox keys).
    confirm_placed: bool = False


class OrderStart(BaseModel):
    """What a run that was started without its order loads first."""

    snapshot: OrderSnapshot
    return_window_days: int
    dispute_window_days: int


class StripeEventHint(BaseModel):
    """A Stripe event about the order's charge: only a hint to re-read Stripe."""

    event_id: str
    type: str


class EmailKind(StrEnum):
    CONFIRMATION = "confirmation"
    SHIPMENT = "shipment"
    REFUND = "refund"
    CANCELLATION = "cancellation"
    DISPUTE = "dispute"  # to the shop, not the customer


class EmailRequest(BaseModel):
    order_id: str
    kind: EmailKind
    # The fulfillment, refund or dispute the email is about (none for confirmation/cancellation).
    subject_id: str | None = None


class Applied(BaseModel):
    """What an activity that changed the order returns: the order as it now is, what it made."""

    snapshot: OrderSnapshot
    fulfillment_id: str | None = None
    refund_id: str | None = None
    return_id: str | None = None
    # A received return's units per order item (what its refund is computed from).
    received: dict[str, int] = {}


class RefundRef(BaseModel):
    order_id: str
    refund_id: str


class StripeRefundOutcome(BaseModel):
    """What Stripe answered to our refund: made (as it holds it now) or refused (a code and message)."""

    order_id: str
    refund_id: str
    stripe_refund_id: str | None = None
    stripe_status: str | None = None
    failure_reason: str | None = None
    refusal_code: str | None = None
    refusal_message: str | None = None


class CancelOrderStep(BaseModel):
    request: CancelRequest
    # The authorization was voided (no money moved), rather than the captured amount refunded.
    voided: bool
    # Set when the checkout cancels because Stripe refused the capture (shown on the timeline).
    capture_failure: str | None = None


class SyncResult(BaseModel):
    """The order after reconciling it with Stripe, and the emails that follow from what was new."""

    snapshot: OrderSnapshot
    emails: list[EmailRequest] = []


class OrderWorkflowState(BaseModel):
    """Answer to the `state` Query."""

    order_id: str
    payment_intent_id: str
    snapshot: OrderSnapshot | None
    closes_at: datetime | None = None
    operations: int = 0
    events_seen: int = 0
    stripe_syncs: int = 0
    # Set while a step keeps failing (the workflow waits to retry it); None otherwise.
    attention: Attention | None = None

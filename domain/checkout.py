"""Checkout workflow inputs, outputs and states: pure data, safe inside the workflow sandbox."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.attention import Attention

# Every custom search attribute a workflow sets (the OrderWorkflow sets OrderId and OrderStatus).
SEARCH_ATTRIBUTES = {
    "CartId": "Keyword",
    "OrderId": "Keyword",
    "CheckoutStatus": "Keyword",
    "OrderStatus": "Keyword",
    "NeedsAttention": "Bool",  # domain.attention: a step keeps failing (the UI's `NeedsAttention = true`)
    "AttentionReason": "Keyword",
}

# The names the checkout workflow answers to: its definition declares them, services.dispatch
# sends by them. Running checkouts and recorded histories know them: never rename one.
CHECKOUT_WORKFLOW = "CheckoutWorkflow"
PAYMENT_EVENT_SIGNAL = "payment_event"
SYNC_RESERVATION_UPDATE = "sync_reservation"
COMPLETE_UPDATE = "complete"
CHECKOUT_STATE_QUERY = "state"


class CheckoutStatus(StrEnum):
    RESERVING = "reserving"
    AWAITING_PAYMENT = "awaiting_payment"
    # Declined: still open, the customer can pay the same PaymentIntent with another card.
    PAYMENT_FAILED = "payment_failed"
    PLACING_ORDER = "placing_order"
    CAPTURING = "capturing"
    COMPLETED = "completed"
    # Terminal states without an order; the authorization (if any) was voided.
    CANCELED = "canceled"
    EXPIRED = "expired"
    FAILED = "failed"
    IGNORED = "ignored"


TERMINAL_STATUSES = frozenset(
    {
        CheckoutStatus.COMPLETED,
        CheckoutStatus.CANCELED,
        CheckoutStatus.EXPIRED,
        CheckoutStatus.FAILED,
        CheckoutStatus.IGNORED,
    }
)


class FailureCode(StrEnum):
    INSUFFICIENT_INVENTORY = "insufficient_inventory"
    AMOUNT_MISMATCH = "amount_mismatch"
    PAYMENT_REQUIRED = "payment_required"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_CANCELED = "payment_canceled"
    CHECKOUT_EXPIRED = "checkout_expired"
    CART_NOT_FOUND = "cart_not_found"
    CART_ALREADY_ORDERED = "cart_already_ordered"
    CART_EMPTY = "cart_empty"
    NOT_OUR_PAYMENT = "not_our_payment"
    # Stripe refused the capture for good: the authorization is voided, the order canceled.
    CAPTURE_FAILED = "capture_failed"
    # The checkout already gave its stock back (expired, canceled, failed): start a new payment session.
    CHECKOUT_CLOSED = "checkout_closed"


class PaymentIntentSnapshot(BaseModel):
    """What we know of a PaymentIntent, re-read from Stripe: never from an event's payload."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str
    amount: int
    amount_capturable: int
    amount_received: int
    currency: str
    latest_charge_id: str | None = None
    cart_id: str | None = None
    last_payment_error_code: str | None = None

    @property
    def authorized(self) -> bool:
        return self.status == "requires_capture"

    @property
    def captured(self) -> bool:
        return self.status == "succeeded"

    @property
    def canceled(self) -> bool:
        return self.status == "canceled"

    @property
    def declined(self) -> bool:
        return self.status == "requires_payment_method" and self.last_payment_error_code is not None


class CheckoutInput(BaseModel):
    """Started by the API with everything known; by a webhook with only the PaymentIntent ID."""

    payment_intent_id: str
    payment_timeout_seconds: int  # from settings, fixed when the checkout starts
    cart_id: str | None = None


class PaymentEvent(BaseModel):
    """A hint that the payment may have changed; the workflow re-reads the PaymentIntent."""

    event_id: str
    type: str


class ReservationResult(BaseModel):
    reserved: bool
    failure_code: FailureCode | None = None
    failure_message: str | None = None


class OrderRef(BaseModel):
    order_id: str
    total: int
    currency_code: str


class CheckoutState(BaseModel):
    """Answer to the `state` Query, and the workflow's result."""

    payment_intent_id: str
    cart_id: str | None = None
    status: CheckoutStatus = CheckoutStatus.RESERVING
    order_id: str | None = None
    failure_code: FailureCode | None = None
    failure_message: str | None = None
    payment_checks: int = 0
    events_seen: int = 0
    # Set while a step keeps failing (the workflow waits to retry it); None otherwise.
    attention: Attention | None = None


class CompletionResult(BaseModel):
    """What `complete` answers: an order, or why there is none yet."""

    order_id: str | None
    status: CheckoutStatus
    failure_code: FailureCode | None = None
    failure_message: str | None = None


class ReserveInput(BaseModel):
    payment_intent_id: str
    cart_id: str


class CheckoutRecord(BaseModel):
    """A checkout's state as written to the database's read cache."""

    payment_intent_id: str
    cart_id: str
    status: CheckoutStatus
    order_id: str | None = None
    failure_code: FailureCode | None = None


class CancelPaymentInput(BaseModel):
    payment_intent_id: str
    # False at expiry: an authorization found then is a late payment that becomes an order.
    void_authorization: bool


class ReconcileInput(BaseModel):
    lookback_seconds: int = 86_400


class ReconcileResult(BaseModel):
    examined: int = 0
    nudged: int = 0
    already_finished: int = 0

"""Every status of an order and of what hangs off it, as one state machine.

The allowed transitions are data (`TRANSITIONS`); `transition()` is the only way services move a
status, and refuses any move the table does not list. The derivations compute the payment and
fulfillment statuses from the order's money and item counters, so no code decides them by hand.
The database's CHECK constraints are built from these enums (models/), and a test compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar


class OrderStatus(StrEnum):
    PENDING = "pending"  # placed, not everything shipped yet
    COMPLETED = "completed"  # every unit shipped
    CANCELED = "canceled"


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"  # the authorization was voided: no money moved


class FulfillmentStatus(StrEnum):
    NOT_FULFILLED = "not_fulfilled"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELED = "canceled"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"
    CANCELED = "canceled"


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # reserved by us, Stripe has not answered yet
    PENDING = "pending"  # created at Stripe, not final (Stripe's pending / requires_action)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # refused by Stripe, or failed later (the money came back)
    CANCELED = "canceled"


class DisputeStatus(StrEnum):
    """Stripe's dispute statuses (https://docs.stripe.com/api/disputes/object#dispute_object-status)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"


OPEN_DISPUTE_STATUSES = frozenset(
    {
        DisputeStatus.WARNING_NEEDS_RESPONSE,
        DisputeStatus.WARNING_UNDER_REVIEW,
        DisputeStatus.NEEDS_RESPONSE,
        DisputeStatus.UNDER_REVIEW,
    }
)
OPEN_REFUND_STATUSES = frozenset({RefundStatus.REQUESTED, RefundStatus.PENDING})
# Refunds whose money has left (or is leaving) the balance: each has its `refund` transaction.
REFUND_MONEY_SENT = frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED})

S = TypeVar("S", bound=StrEnum)

TRANSITIONS: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    OrderStatus: {
        OrderStatus.PENDING: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELED}),
        OrderStatus.COMPLETED: frozenset(),
        OrderStatus.CANCELED: frozenset(),
    },
    PaymentStatus: {
        PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.CAPTURED, PaymentStatus.CANCELED}),
        PaymentStatus.CAPTURED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
        # A refund that fails later gives the money back: refunded -> partially_refunded/captured.
        PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED, PaymentStatus.CAPTURED}),
        PaymentStatus.REFUNDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.CAPTURED}),
        PaymentStatus.CANCELED: frozenset(),
    },
    FulfillmentStatus: {
        FulfillmentStatus.NOT_FULFILLED: frozenset(
            {FulfillmentStatus.PARTIALLY_SHIPPED, FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELED}
        ),
        FulfillmentStatus.PARTIALLY_SHIPPED: frozenset(
            {FulfillmentStatus.SHIPPED, FulfillmentStatus.PARTIALLY_RETURNED}
        ),
        FulfillmentStatus.SHIPPED: frozenset(
            {FulfillmentStatus.PARTIALLY_RETURNED, FulfillmentStatus.RETURNED}
        ),
        FulfillmentStatus.PARTIALLY_RETURNED: frozenset({FulfillmentStatus.RETURNED}),
        FulfillmentStatus.RETURNED: frozenset(),
        FulfillmentStatus.CANCELED: frozenset(),
    },
    ReturnStatus: {
        ReturnStatus.REQUESTED: frozenset({ReturnStatus.RECEIVED, ReturnStatus.CANCELED}),
        ReturnStatus.RECEIVED: frozenset(),
        ReturnStatus.CANCELED: frozenset(),
    },
    RefundStatus: {
        RefundStatus.REQUESTED: frozenset(
            {RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED}
        ),
        RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED}),
        RefundStatus.SUCCEEDED: frozenset({RefundStatus.FAILED}),  # a card refund can fail days later
        RefundStatus.FAILED: frozenset(),
        RefundStatus.CANCELED: frozenset(),
    },
    # Stripe decides a dispute; we follow it from any open status to any other, never out of a closed one.
    DisputeStatus: {
        status: (frozenset(DisputeStatus) - {status} if status in OPEN_DISPUTE_STATUSES else frozenset())
        for status in DisputeStatus
    },
}


class InvalidTransition(ValueError):
    """A status move the state machine does not allow: a bug, since the checks refuse such requests."""


def can_transition(current: S, target: S) -> bool:
    """Whether `current` may become `target` (staying the same is always allowed)."""
    return current == target or target in TRANSITIONS[type(current)][current]


def transition(current: S, target: S) -> S:
    """`target`, if the state machine allows moving there from `current`; raises InvalidTransition."""
    if not can_transition(current, target):
        raise InvalidTransition(f"{type(current).__name__} cannot go from {current} to {target}")
    return target


# --- derivations ---------------------------------------------------------------------------


def payment_status_of(*, captured: bool, voided: bool, paid: int, refunded: int) -> PaymentStatus:
    """The payment status that the money says: `paid` captured, `refunded` given back (minor units)."""
    if voided and not captured:
        return PaymentStatus.CANCELED
    if not captured or paid <= 0:
        return PaymentStatus.AUTHORIZED
    if refunded <= 0:
        return PaymentStatus.CAPTURED
    if refunded >= paid:
        return PaymentStatus.REFUNDED
    return PaymentStatus.PARTIALLY_REFUNDED


def fulfillment_status_of(counters: Iterable[tuple[int, int, int]], *, canceled: bool) -> FulfillmentStatus:
    """From each line's (quantity, shipped, received back): what the order's parcels say."""
    lines = list(counters)
    if canceled:
        return FulfillmentStatus.CANCELED
    quantity = sum(line[0] for line in lines)
    shipped = sum(line[1] for line in lines)
    received = sum(line[2] for line in lines)
    if received > 0:
        return FulfillmentStatus.RETURNED if received >= quantity else FulfillmentStatus.PARTIALLY_RETURNED
    if shipped == 0:
        return FulfillmentStatus.NOT_FULFILLED
    return FulfillmentStatus.SHIPPED if shipped >= quantity else FulfillmentStatus.PARTIALLY_SHIPPED


def order_status_of(fulfillment: FulfillmentStatus, *, left_to_ship: int) -> OrderStatus:
    """Canceled, or completed once nothing is left to ship (every unit shipped or refunded), else pending."""
    if fulfillment == FulfillmentStatus.CANCELED:
        return OrderStatus.CANCELED
    return OrderStatus.PENDING if left_to_ship > 0 else OrderStatus.COMPLETED


__all__ = [
    "OPEN_DISPUTE_STATUSES",
    "OPEN_REFUND_STATUSES",
    "REFUND_MONEY_SENT",
    "TRANSITIONS",
    "DisputeStatus",
    "FulfillmentStatus",
    "InvalidTransition",
    "OrderStatus",
    "PaymentStatus",
    "RefundStatus",
    "ReturnStatus",
    "can_transition",
    "fulfillment_status_of",
    "order_status_of",
    "payment_status_of",
    "transition",
]

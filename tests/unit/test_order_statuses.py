"""The order's state machine: every allowed transition, a sample of refused ones, the derivations."""

from __future__ import annotations

import pytest

from domain.orders.statuses import (
    TRANSITIONS,
    DisputeStatus,
    FulfillmentStatus,
    InvalidTransition,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    ReturnStatus,
    fulfillment_status_of,
    order_status_of,
    payment_status_of,
    transition,
)

ALLOWED = [
    (current, target)
    for table in TRANSITIONS.values()
    for current, targets in table.items()
    for target in targets
]


def test_every_status_of_every_machine_has_its_row() -> None:
    for machine, table in TRANSITIONS.items():
        assert set(table) == set(machine), machine


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{c}->{t}" for c, t in ALLOWED])
def test_allowed_transition(current, target) -> None:  # type: ignore[no-untyped-def]
    assert transition(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.CANCELED, OrderStatus.PENDING),
        (OrderStatus.COMPLETED, OrderStatus.CANCELED),
        (PaymentStatus.CANCELED, PaymentStatus.CAPTURED),
        (PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED),
        (PaymentStatus.REFUNDED, PaymentStatus.CANCELED),
        (FulfillmentStatus.SHIPPED, FulfillmentStatus.NOT_FULFILLED),
        (FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELED),
        (FulfillmentStatus.RETURNED, FulfillmentStatus.SHIPPED),
        (ReturnStatus.RECEIVED, ReturnStatus.CANCELED),
        (ReturnStatus.CANCELED, ReturnStatus.RECEIVED),
        (RefundStatus.FAILED, RefundStatus.SUCCEEDED),
        (RefundStatus.SUCCEEDED, RefundStatus.PENDING),
        (DisputeStatus.WON, DisputeStatus.LOST),
        (DisputeStatus.LOST, DisputeStatus.NEEDS_RESPONSE),
    ],
)
def test_refused_transition(current, target) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        transition(current, target)


def test_staying_is_always_allowed() -> None:
    for machine in TRANSITIONS:
        for status in machine:
            assert transition(status, status) == status


@pytest.mark.parametrize(
    ("captured", "voided", "paid", "refunded", "expected"),
    [
        (False, False, 0, 0, PaymentStatus.AUTHORIZED),
        (False, True, 0, 0, PaymentStatus.CANCELED),
        (True, False, 5000, 0, PaymentStatus.CAPTURED),
        (True, False, 5000, 1, PaymentStatus.PARTIALLY_REFUNDED),
        (True, False, 5000, 5000, PaymentStatus.REFUNDED),
        (True, True, 5000, 5000, PaymentStatus.REFUNDED),
    ],
)
def test_payment_status_follows_the_money(captured, voided, paid, refunded, expected) -> None:  # type: ignore[no-untyped-def]
    assert payment_status_of(captured=captured, voided=voided, paid=paid, refunded=refunded) == expected


@pytest.mark.parametrize(
    ("lines", "canceled", "expected"),
    [
        ([(2, 0, 0), (1, 0, 0)], False, FulfillmentStatus.NOT_FULFILLED),
        ([(2, 1, 0), (1, 0, 0)], False, FulfillmentStatus.PARTIALLY_SHIPPED),
        ([(2, 2, 0), (1, 1, 0)], False, FulfillmentStatus.SHIPPED),
        ([(2, 2, 1), (1, 1, 0)], False, FulfillmentStatus.PARTIALLY_RETURNED),
        ([(2, 2, 2), (1, 1, 1)], False, FulfillmentStatus.RETURNED),
        ([(2, 0, 0)], True, FulfillmentStatus.CANCELED),
    ],
)
def test_fulfillment_status_follows_the_item_counters(lines, canceled, expected) -> None:  # type: ignore[no-untyped-def]
    assert fulfillment_status_of(lines, canceled=canceled) == expected


@pytest.mark.parametrize(
    ("fulfillment", "left_to_ship", "expected"),
    [
        (FulfillmentStatus.NOT_FULFILLED, 3, OrderStatus.PENDING),
        (FulfillmentStatus.PARTIALLY_SHIPPED, 1, OrderStatus.PENDING),
        # The rest was refunded before it shipped: nothing is left to send.
        (FulfillmentStatus.PARTIALLY_SHIPPED, 0, OrderStatus.COMPLETED),
        (FulfillmentStatus.PARTIALLY_RETURNED, 1, OrderStatus.PENDING),
        (FulfillmentStatus.SHIPPED, 0, OrderStatus.COMPLETED),
        (FulfillmentStatus.RETURNED, 0, OrderStatus.COMPLETED),
        (FulfillmentStatus.CANCELED, 2, OrderStatus.CANCELED),
    ],
)
def test_order_is_completed_once_nothing_is_left_to_ship(fulfillment, left_to_ship, expected) -> None:  # type: ignore[no-untyped-def]
    assert order_status_of(fulfillment, left_to_ship=left_to_ship) == expected

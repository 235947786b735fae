"""The operations' pure checks: what a request comes to, and what it is refused with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.orders.operations import (
    ItemQuantity,
    OrderRefused,
    RefundReason,
    RefundRequest,
    ReturnRequest,
    ShipRequest,
    check_refund,
    check_return,
    check_ship,
    item_refund_plan,
)
from domain.orders.snapshot import ItemSnapshot, OrderSnapshot
from domain.orders.statuses import FulfillmentStatus, OrderStatus, PaymentStatus
from domain.pricing import compute_totals


def snapshot(
    lines: list[tuple[int, int]], *, shipping: int = 500, tax_bps: int = 1900, **changes
) -> OrderSnapshot:  # type: ignore[no-untyped-def]
    totals = compute_totals(lines, shipping, tax_bps)
    base = OrderSnapshot(
        order_id="order_1",
        payment_intent_id="pi_1",
        currency_code="eur",
        subtotal=totals.subtotal,
        shipping_total=totals.shipping_total,
        tax_total=totals.tax_total,
        total=totals.total,
        status=OrderStatus.PENDING,
        payment_status=PaymentStatus.CAPTURED,
        fulfillment_status=FulfillmentStatus.NOT_FULFILLED,
        paid=totals.total,
        items=[
            ItemSnapshot(id=f"item_{n}", unit_price=price, quantity=qty)
            for n, (price, qty) in enumerate(lines)
        ],
        placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return base.model_copy(update=changes)


def ship(items: list[tuple[str, int]] | None = None) -> ShipRequest:
    lines = None if items is None else [ItemQuantity(item_id=i, quantity=q) for i, q in items]
    return ShipRequest(
        order_id="order_1", request_id="r", actor="a", carrier="DHL", tracking_number="1", items=lines
    )


def refund(**fields) -> RefundRequest:  # type: ignore[no-untyped-def]
    return RefundRequest(
        order_id="order_1", request_id="k", fingerprint="f", actor="a", reason=RefundReason.OTHER, **fields
    )


def refused(call, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OrderRefused) as raised:
        call()
    assert raised.value.code == code


def test_ship_everything_or_the_listed_units_never_more() -> None:
    order = snapshot([(2500, 2), (1000, 1)])
    assert check_ship(order, ship()) == {"item_0": 2, "item_1": 1}
    assert check_ship(order, ship([("item_0", 1), ("item_0", 1)])) == {"item_0": 2}
    refused(lambda: check_ship(order, ship([("item_0", 3)])), "shipment_exceeds_unshipped")
    refused(lambda: check_ship(order, ship([("nope", 1)])), "order_item_not_found")
    refused(
        lambda: check_ship(order.model_copy(update={"payment_status": PaymentStatus.AUTHORIZED}), ship()),
        "order_not_paid",
    )
    refused(
        lambda: check_ship(order.model_copy(update={"status": OrderStatus.CANCELED}), ship()),
        "order_canceled",
    )
    shipped = order.model_copy(
        update={"items": [i.model_copy(update={"shipped": i.quantity}) for i in order.items]}
    )
    refused(lambda: check_ship(shipped, ship()), "already_shipped")


def test_refund_never_above_refundable_nor_while_disputed() -> None:
    order = snapshot([(2500, 2)], reserved=1000)
    assert check_refund(order, refund(amount=order.total - 1000)).amount == order.total - 1000
    refused(lambda: check_refund(order, refund(amount=order.total - 999)), "refund_exceeds_refundable")
    refused(
        lambda: check_refund(order.model_copy(update={"open_dispute_ids": ["du_1"]}), refund(amount=1)),
        "order_disputed",
    )
    refused(lambda: check_refund(order.model_copy(update={"paid": 0}), refund(amount=1)), "order_not_paid")


def test_return_never_more_than_shipped_and_not_yet_returned() -> None:
    order = snapshot([(2500, 3)])
    order.items[0].shipped, order.items[0].returned = 2, 1
    request = ReturnRequest(
        order_id="order_1", request_id="r", actor="a", items=[ItemQuantity(item_id="item_0", quantity=1)]
    )
    assert check_return(order, request) == {"item_0": 1}
    refused(
        lambda: check_return(
            order, request.model_copy(update={"items": [ItemQuantity(item_id="item_0", quantity=2)]})
        ),
        "return_exceeds_shipped",
    )


@given(
    lines=st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 5)), min_size=1, max_size=4),
    shipping=st.integers(0, 5_000),
    tax_bps=st.integers(0, 2_500),
    cut=st.integers(0, 3),
)
def test_refunding_every_item_and_the_shipping_in_two_parts_gives_back_exactly_the_total(
    lines: list[tuple[int, int]], shipping: int, tax_bps: int, cut: int
) -> None:
    order = snapshot(lines, shipping=shipping, tax_bps=tax_bps)
    everything = {item.id: item.quantity for item in order.items}
    first = dict(list(everything.items())[: cut % len(everything)])
    plan = item_refund_plan(order, first, include_shipping=False)
    after = order.model_copy(
        update={"items": [i.model_copy(update={"refunded": first.get(i.id, 0)}) for i in order.items]}
    )
    rest = {item_id: units - first.get(item_id, 0) for item_id, units in everything.items()}
    second = item_refund_plan(after, {k: v for k, v in rest.items() if v}, include_shipping=True)
    assert plan.amount + second.amount == order.total

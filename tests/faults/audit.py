"""The one audit every fault scenario ends with: the design's invariants, seen from outside.

For every cart that was paid: exactly one order; exactly one capture of exactly `Order.total`, in
our books (one capture OrderTransaction) and at the fake Stripe (its PaymentIntent and charge, and
the capture requests it answered, as the fault proxy in front of it saw them); one confirmation
email; its stock taken once (one `sale` ledger row per order and level, no reservation left, and
every touched level's stock equal to the sum of its ledger). And across the whole fake: no
PaymentIntent left `requires_capture` without an order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowExecutionStatus

from devstack.faultproxy import request_log
from domain.money import to_stripe_amount
from models import (
    InventoryAdjustment,
    InventoryLevel,
    Order,
    OrderItem,
    OrderTransaction,
    OutboxMessage,
    Reservation,
)
from tests.checkout.conftest import attempt_ended
from tests.conftest import eventually
from tests.faults.stack import FaultStack

# A checkout under faults retries with backoff: give it more than the usual deadline.
SETTLE_BOUND = 120.0


async def audit(stack: FaultStack, paid_carts: Sequence[str]) -> list[Order]:
    """Wait (bounded) until every paid cart's checkout has finished, then check it all; returns the orders."""
    orders = await eventually(lambda: _settled_orders(stack, paid_carts), within=SETTLE_BOUND, interval=0.5)
    intents = await _all_payment_intents(stack)
    async with stack.sessionmaker() as session:
        for cart_id, order in zip(paid_carts, orders, strict=True):
            await _audit_order(stack, session, cart_id, order, intents)
        ordered = set(await session.scalars(select(Order.payment_intent_id)))
    authorized_without_order = [
        intent["id"]
        for intent in intents
        if intent["status"] == "requires_capture" and intent["id"] not in ordered
    ]
    assert authorized_without_order == [], "authorized at Stripe, but no order"
    return orders


async def _settled_orders(stack: FaultStack, cart_ids: Sequence[str]) -> list[Order] | None:
    """Each cart's orders once every one has an order whose checkout workflow has closed and whose
    confirmation email's first attempt has ended (the order's workflow tries it); else None."""
    async with stack.sessionmaker() as session:
        found = []
        for cart_id in cart_ids:
            orders = list(await session.scalars(select(Order).where(Order.cart_id == cart_id)))
            if not orders:
                return None
            found.append(orders)
    for orders in found:
        for order in orders:
            described = await stack.temporal.get_workflow_handle(order.payment_intent_id).describe()
            if described.status == WorkflowExecutionStatus.RUNNING:
                return None
            assert described.status == WorkflowExecutionStatus.COMPLETED, (
                order.payment_intent_id,
                described.status,
            )
            if not await _confirmation_tried(stack, order.id):
                return None
    for cart_id, orders in zip(cart_ids, found, strict=True):
        assert len(orders) == 1, f"cart {cart_id} has {len(orders)} orders"
    return [orders[0] for orders in found]


async def _confirmation_tried(stack: FaultStack, order_id: str) -> bool:
    """The first attempt at the order's confirmation has ended (it left, or failed and waits)."""
    async with stack.sessionmaker() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == f"{order_id}:confirmation-email")
        )
    return message is not None and attempt_ended(message)


async def _audit_order(
    stack: FaultStack, session: AsyncSession, cart_id: str, order: Order, intents: list[dict[str, Any]]
) -> None:
    pi = order.payment_intent_id
    stripe_total = to_stripe_amount(order.total, order.currency_code)

    captures = list(
        await session.scalars(
            select(OrderTransaction).where(
                OrderTransaction.order_id == order.id, OrderTransaction.reference == "capture"
            )
        )
    )
    assert [(t.amount, t.reference_id) for t in captures] == [(order.total, pi)], f"order {order.id} captures"
    assert order.payment_status == "captured"

    # The fake's view: the cart's one paid PaymentIntent, captured in full, by one capture it answered.
    paid = [i["id"] for i in intents if i["metadata"].get("cart_id") == cart_id and i["status"] != "canceled"]
    assert paid == [pi], f"cart {cart_id}: PaymentIntents {paid}"
    intent = next(i for i in intents if i["id"] == pi)
    charge = intent["latest_charge"]
    assert (intent["status"], charge["amount_captured"]) == ("succeeded", stripe_total), f"{pi} at the fake"
    seen = await request_log(stack.proxy_url, f"/v1/payment_intents/{pi}/capture")
    answered = [request for request in seen if request["status"] == 200 and not request["replayed"]]
    assert len(answered) == 1, f"{pi}: the fake answered {len(answered)} captures: {seen}"

    emails = list(
        await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == "email", OutboxMessage.payload["order_id"].astext == order.id
            )
        )
    )
    # No Resend key in the stack: a sent email is one delivered to the outbox.
    assert [(m.idempotency_key, m.status) for m in emails] == [(f"{order.id}:confirmation-email", "outbox")]

    await _audit_stock(session, order)


async def _audit_stock(session: AsyncSession, order: Order) -> None:
    sales = list(
        await session.scalars(select(InventoryAdjustment).where(InventoryAdjustment.order_id == order.id))
    )
    assert {sale.reason for sale in sales} == {"sale"}, f"order {order.id} ledger"
    per_level = Counter(sale.inventory_level_id for sale in sales)
    assert set(per_level.values()) == {1}, (
        f"order {order.id}: more than one sale row for a level: {per_level}"
    )
    items = list(await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)))
    assert len(sales) == len({item.variant_id for item in items})
    assert sum(sale.delta for sale in sales) == -sum(item.quantity for item in items)

    left = await session.scalar(
        select(func.count())
        .select_from(Reservation)
        .where(Reservation.payment_intent_id == order.payment_intent_id)
    )
    assert left == 0, f"order {order.id} still holds a reservation"
    for level_id in per_level:
        level = await session.get(InventoryLevel, level_id)
        assert level is not None
        ledger = await session.scalar(
            select(func.sum(InventoryAdjustment.delta)).where(
                InventoryAdjustment.inventory_level_id == level_id
            )
        )
        assert level.stocked_quantity == ledger, (
            f"level {level_id}: stock {level.stocked_quantity} != ledger {ledger}"
        )
        assert level.reserved_quantity >= 0


async def _all_payment_intents(stack: FaultStack) -> list[dict[str, Any]]:
    """Every PaymentIntent the fake holds, straight from it (not through the proxy)."""
    intents: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = await stack.stripe.v1.payment_intents.list_async(params)
        intents.extend(intent.to_dict() for intent in page.data)
        if not page.has_more or not page.data:
            return intents
        params = {"limit": 100, "starting_after": page.data[-1].id}

"""The OrderWorkflow's activities, each run twice with the same input as Temporal retries it after a
lost response: its effect lands once (see test_idempotency.py, whose registry these join)."""

from __future__ import annotations

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.refunds import RefundActivities
from core.db import get_sessionmaker
from core.stripe_gateway import get_stripe_client
from domain.orders.operations import (
    CancelRequest,
    CancelReturnRequest,
    ItemQuantity,
    ReceivedItem,
    ReceiveReturnRequest,
    RefundReason,
    RefundRequest,
    ReturnRequest,
    ShipRequest,
)
from domain.orders.workflow import CancelOrderStep, EmailKind, EmailRequest, RefundRef
from models import InventoryAdjustment, OrderEvent, OrderItem, OrderTransaction, OutboxMessage, Refund, Return
from tests.activities.conftest import Activities, Placed
from tests.activities.test_idempotency import answer_lost, count, env, idempotency_test
from tests.checkout.conftest import level_of
from tests.conftest import Outgoing

__all__ = ["env"]  # the fixture of test_idempotency.py


async def _captured(env: ActivityEnvironment, activities: Activities, placed: Placed) -> str:
    await env.run(activities["capture_order_payment"], placed.order.order_id)
    return placed.order.order_id


async def _item(order_id: str) -> OrderItem:
    async with get_sessionmaker()() as session:
        return (await session.scalars(select(OrderItem).where(OrderItem.order_id == order_id))).one()


def _ship(order_id: str) -> ShipRequest:
    return ShipRequest(
        order_id=order_id, request_id="ship-1", actor="test", carrier="DHL", tracking_number="JD1"
    )


def _refund(order_id: str, amount: int = 500) -> RefundRequest:
    return RefundRequest(
        order_id=order_id,
        request_id="refund-1",
        fingerprint="f",
        actor="test",
        amount=amount,
        reason=RefundReason.REQUESTED_BY_CUSTOMER,
    )


async def _return(env: ActivityEnvironment, activities: Activities, order_id: str) -> tuple[str, str]:
    """The order shipped, and one unit asked back: (return ID, item ID)."""
    await env.run(activities["ship_order"], _ship(order_id))
    item = await _item(order_id)
    asked = ReturnRequest(
        order_id=order_id,
        request_id="return-1",
        actor="test",
        items=[ItemQuantity(item_id=item.id, quantity=1)],
    )
    applied = await env.run(activities["request_return"], asked)
    assert applied.return_id is not None
    return applied.return_id, item.id


@idempotency_test(OrderActivities.load_order_start)
async def test_load_order_start_twice_reads_the_same(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    first, again = [await env.run(activities["load_order_start"], placed.order.order_id) for _ in range(2)]
    assert again == first and first.snapshot.order_id == placed.order.order_id


@idempotency_test(OrderActivities.ship_order)
async def test_ship_twice_is_one_fulfillment(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)

    first, again = [await env.run(activities["ship_order"], _ship(order_id)) for _ in range(2)]

    assert again.fulfillment_id == first.fulfillment_id
    assert (await _item(order_id)).shipped_quantity == 2
    assert await count(OrderEvent, OrderEvent.order_id == order_id, OrderEvent.type == "shipped") == 1


@idempotency_test(OrderActivities.cancel_order)
async def test_cancel_twice_puts_the_stock_back_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    step = CancelOrderStep(
        request=CancelRequest(order_id=placed.order.order_id, request_id="c", actor="test"), voided=True
    )

    for _ in range(2):
        await env.run(activities["cancel_order"], step)

    assert (await level_of(placed.variant_id)).stocked_quantity == 5
    cancels = await count(
        InventoryAdjustment,
        InventoryAdjustment.order_id == placed.order.order_id,
        InventoryAdjustment.reason == "cancel",
    )
    assert cancels == 1


@idempotency_test(OrderActivities.reserve_refund)
async def test_reserve_refund_twice_is_one_refund(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)

    first, again = [await env.run(activities["reserve_refund"], _refund(order_id)) for _ in range(2)]

    assert again.refund_id == first.refund_id
    assert again.snapshot.reserved == 500
    assert await count(Refund, Refund.order_id == order_id) == 1


@idempotency_test(RefundActivities.create_stripe_refund)
async def test_stripe_refund_after_a_lost_answer_is_made_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, stripe_proxy: str
) -> None:
    order_id = await _captured(env, activities, placed)
    reserved = await env.run(activities["reserve_refund"], _refund(order_id))
    ref = RefundRef(order_id=order_id, refund_id=reserved.refund_id or "")
    await answer_lost(env, stripe_proxy, "/v1/refunds", activities["create_stripe_refund"], ref)

    first, again = [await env.run(activities["create_stripe_refund"], ref) for _ in range(2)]

    assert again == first and first.stripe_refund_id is not None
    listed = await get_stripe_client().v1.refunds.list_async({"payment_intent": placed.payment.id})
    assert [refund.id for refund in listed.data] == [first.stripe_refund_id]


@idempotency_test(OrderActivities.record_refund)
async def test_record_refund_twice_is_one_transaction(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)
    reserved = await env.run(activities["reserve_refund"], _refund(order_id))
    made = await env.run(
        activities["create_stripe_refund"], RefundRef(order_id=order_id, refund_id=reserved.refund_id or "")
    )

    for _ in range(2):
        recorded = await env.run(activities["record_refund"], made)

    assert (recorded.snapshot.refunded, recorded.snapshot.reserved) == (500, 0)
    assert (
        await count(
            OrderTransaction, OrderTransaction.order_id == order_id, OrderTransaction.reference == "refund"
        )
        == 1
    )


@idempotency_test(OrderActivities.request_return)
async def test_request_return_twice_is_one_return(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)
    return_id, item_id = await _return(env, activities, order_id)
    asked = ReturnRequest(
        order_id=order_id,
        request_id="return-1",
        actor="test",
        items=[ItemQuantity(item_id=item_id, quantity=1)],
    )

    again = await env.run(activities["request_return"], asked)

    assert again.return_id == return_id
    assert await count(Return, Return.order_id == order_id) == 1
    assert (await _item(order_id)).returned_quantity == 1


@idempotency_test(OrderActivities.receive_return)
async def test_receive_return_twice_restocks_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)
    return_id, item_id = await _return(env, activities, order_id)
    received = ReceiveReturnRequest(
        order_id=order_id,
        request_id="receive-1",
        actor="test",
        return_id=return_id,
        items=[ReceivedItem(item_id=item_id, quantity=1, restock=True)],
    )

    answers = [await env.run(activities["receive_return"], received) for _ in range(2)]

    assert answers[0].received == answers[1].received == {item_id: 1}
    assert (await level_of(placed.variant_id)).stocked_quantity == 4
    assert (
        await count(
            InventoryAdjustment,
            InventoryAdjustment.order_id == order_id,
            InventoryAdjustment.reason == "return",
        )
        == 1
    )


@idempotency_test(OrderActivities.cancel_return)
async def test_cancel_return_twice_frees_its_units_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)
    return_id, _ = await _return(env, activities, order_id)
    canceled = CancelReturnRequest(
        order_id=order_id, request_id="cancel-1", actor="test", return_id=return_id
    )

    for _ in range(2):
        await env.run(activities["cancel_return"], canceled)

    assert (await _item(order_id)).returned_quantity == 0


@idempotency_test(RefundActivities.sync_order_with_stripe)
async def test_sync_twice_records_a_dashboard_refund_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    order_id = await _captured(env, activities, placed)
    await get_stripe_client().v1.refunds.create_async({"payment_intent": placed.payment.id, "amount": 300})

    first, again = [await env.run(activities["sync_order_with_stripe"], order_id) for _ in range(2)]

    assert [e.kind for e in first.emails] == [EmailKind.REFUND] and again.emails == []
    assert again.snapshot.refunded == 300
    assert await count(Refund, Refund.order_id == order_id, Refund.source == "stripe") == 1
    assert (
        await count(
            OrderTransaction, OrderTransaction.order_id == order_id, OrderTransaction.reference == "refund"
        )
        == 1
    )


@idempotency_test(NotificationActivities.send_order_email)
async def test_order_email_twice_is_one_message_sent_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, outgoing: Outgoing
) -> None:
    order_id = await _captured(env, activities, placed)
    shipped = await env.run(activities["ship_order"], _ship(order_id))
    request = EmailRequest(order_id=order_id, kind=EmailKind.SHIPMENT, subject_id=shipped.fulfillment_id)
    key = f"{order_id}:shipment-email:{shipped.fulfillment_id}"

    for _ in range(2):
        await env.run(activities["send_order_email"], request)

    assert await count(OutboxMessage, OutboxMessage.idempotency_key == key) == 1
    assert sum(1 for _, sent_key in outgoing.emails if sent_key == key) == 1
    assert await count(OrderEvent, OrderEvent.dedupe_key == key) == 1

"""Every activity the worker registers, run again with the same input as Temporal retries it after
a lost response, has its effect once: on the real database and the fake Stripe.

Temporal runs an activity at least once: the worker may die after the work and before the
report, the report may be lost, the attempt may time out while Stripe still answers. The
workflow calls each activity once, so only these tests run one twice. Stripe's answers are lost
for real where it matters: the fault proxy lets the fake do the work, then closes the
connection (every try of the client), so the activity fails as that attempt would and runs again.

Every registered activity needs a test here (`test_every_registered_activity_has_an_idempotency_test`):
mark it with `@idempotency_test(TheActivities.the_activity)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.fulfillment import FulfillmentActivities
from activities.inventory import InventoryActivities
from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from activities.reconciler import ReconcilerActivities
from core.db import get_sessionmaker
from core.settings import Settings
from core.stripe_gateway import get_stripe_client, retrieve_payment_intent
from devstack.faultproxy import inject_fault, pending_faults, request_log
from domain.checkout import (
    CancelPaymentInput,
    CheckoutRecord,
    CheckoutStatus,
    ReconcileInput,
    ReserveInput,
)
from domain.fulfillment import RecordShipmentInput, Shipment
from domain.ids import new_id
from domain.money import to_stripe_amount
from domain.outbox import OutboxChannel
from models import (
    Checkout,
    Fulfillment,
    InventoryAdjustment,
    Order,
    OrderTransaction,
    OutboxMessage,
    Region,
    Reservation,
)
from services import outbox
from tests.activities.conftest import (
    Activities,
    Placed,
    activity_name,
    authorized_payment,
    registered_activities,
)
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    level_of,
    orders_of_cart,
    pay,
    store_on_own_queue,
    workflow_outcome,
)
from tests.conftest import Outgoing, stack_activities
from worker import build_worker

TESTED: dict[str, Callable[..., Any]] = {}
Test = TypeVar("Test", bound=Callable[..., Any])

# Every try of one Stripe call: the client makes 3 (core.stripe_gateway).
ALL_TRIES = 3


def idempotency_test(activity_method: Callable[..., Any]) -> Callable[[Test], Test]:
    """Marks the test as the one that runs `activity_method` twice."""

    def mark(test: Test) -> Test:
        TESTED[activity_name(activity_method)] = test
        return test

    return mark


def test_every_registered_activity_has_an_idempotency_test() -> None:
    registered = registered_activities(
        Settings(), async_sessionmaker(), stripe.StripeClient("sk_test_idempotency"), Outgoing()
    )
    assert sorted(set(registered) - set(TESTED)) == [], "activities without an idempotency test"
    assert sorted(set(TESTED) - set(registered)) == [], "tests of activities no longer registered"


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


async def answer_lost(
    env: ActivityEnvironment, proxy: str, path: str, activity: Callable[..., Any], arg: Any
) -> None:
    """Run the activity while the fake does every POST to `path` and its answer never arrives."""
    await inject_fault(proxy, path, "reset", when="after", method="POST", times=ALL_TRIES)
    with pytest.raises(stripe.APIConnectionError):
        await env.run(activity, arg)
    assert await pending_faults(proxy) == []


async def made_at_the_fake(proxy: str, path: str) -> int:
    """How many POSTs to `path` the fake carried out (answers that were not an Idempotency-Key replay)."""
    return sum(
        1
        for seen in await request_log(proxy, path)
        if seen["method"] == "POST" and seen["status"] == 200 and not seen["replayed"]
    )


async def count(model: type[Any], *where: Any) -> int:
    async with get_sessionmaker()() as session:
        found: int = await session.scalar(select(func.count()).select_from(model).where(*where))
        return found


async def order_and_its(model: type[Any], order_id: str) -> tuple[Order, list[Any]]:
    """The order, and its rows of `model` (a table with an `order_id`)."""
    async with get_sessionmaker()() as session:
        order = await session.get(Order, order_id)
        rows = list(await session.scalars(select(model).where(model.order_id == order_id)))
    assert order is not None
    return order, rows


# --- inventory -----------------------------------------------------------------------------------


@idempotency_test(InventoryActivities.reserve_cart_inventory)
async def test_reserve_twice_holds_the_cart_once(
    env: ActivityEnvironment, activities: Activities, shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 3)])
    request = ReserveInput(payment_intent_id=new_id("pi"), cart_id=cart["id"])

    for _ in range(2):
        assert (await env.run(activities["reserve_cart_inventory"], request)).reserved

    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (5, 3)
    assert await count(Reservation, Reservation.payment_intent_id == request.payment_intent_id) == 1


@idempotency_test(InventoryActivities.release_cart_inventory)
async def test_release_twice_gives_the_stock_back_once(
    env: ActivityEnvironment, activities: Activities, shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 3)])
    payment_intent_id = new_id("pi")
    await env.run(
        activities["reserve_cart_inventory"],
        ReserveInput(payment_intent_id=payment_intent_id, cart_id=cart["id"]),
    )

    released = [await env.run(activities["release_cart_inventory"], payment_intent_id) for _ in range(2)]

    assert released == [3, 0]
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (5, 0)


# --- orders --------------------------------------------------------------------------------------


@idempotency_test(OrderActivities.place_order)
async def test_place_order_twice_makes_one_order_and_takes_the_stock_once(
    env: ActivityEnvironment, activities: Activities, shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 2)])
    payment = await authorized_payment(cart)
    await env.run(
        activities["reserve_cart_inventory"], ReserveInput(payment_intent_id=payment.id, cart_id=cart["id"])
    )

    first = await env.run(activities["place_order"], payment)
    again = await env.run(activities["place_order"], payment)

    assert again == first
    assert [order.id for order in await orders_of_cart(cart["id"])] == [first.order_id]
    sales = await count(InventoryAdjustment, InventoryAdjustment.order_id == first.order_id)
    assert sales == 1
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (3, 0)


@idempotency_test(OrderActivities.record_checkout)
async def test_record_checkout_twice_leaves_one_row_in_that_state(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    async with get_sessionmaker()() as session, session.begin():
        session.add(
            Checkout(
                payment_intent_id=placed.payment.id,
                cart_id=placed.cart["id"],
                status=CheckoutStatus.PLACING_ORDER.value,
                amount=placed.order.total,
                currency_code=placed.order.currency_code,
            )
        )
    record = CheckoutRecord(
        payment_intent_id=placed.payment.id,
        cart_id=placed.cart["id"],
        status=CheckoutStatus.COMPLETED,
        order_id=placed.order.order_id,
    )

    for _ in range(2):
        await env.run(activities["record_checkout"], record)

    async with get_sessionmaker()() as session:
        rows = list(await session.scalars(select(Checkout).where(Checkout.cart_id == placed.cart["id"])))
    assert [(row.status, row.order_id) for row in rows] == [("completed", placed.order.order_id)]


# --- payments ------------------------------------------------------------------------------------


@idempotency_test(PaymentActivities.retrieve_payment_intent)
async def test_retrieve_twice_reads_and_changes_nothing(
    env: ActivityEnvironment, activities: Activities, placed: Placed, stripe_proxy: str
) -> None:
    read = [await env.run(activities["retrieve_payment_intent"], placed.payment.id) for _ in range(2)]

    assert read == [placed.payment.model_copy(update={"cart_id": None})] * 2
    seen = await request_log(stripe_proxy, f"/v1/payment_intents/{placed.payment.id}*")
    assert {request["method"] for request in seen} == {"GET"}


@idempotency_test(PaymentActivities.capture_order_payment)
async def test_capture_after_a_lost_answer_captures_and_records_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, stripe_proxy: str
) -> None:
    capture = f"/v1/payment_intents/{placed.payment.id}/capture"
    await answer_lost(env, stripe_proxy, capture, activities["capture_order_payment"], placed.order.order_id)
    for _ in range(2):
        await env.run(activities["capture_order_payment"], placed.order.order_id)

    assert await made_at_the_fake(stripe_proxy, capture) == 1
    intent = await get_stripe_client().v1.payment_intents.retrieve_async(placed.payment.id)
    expected = to_stripe_amount(placed.order.total, placed.order.currency_code)
    assert (intent.status, intent.to_dict()["latest_charge"]["amount_captured"]) == ("succeeded", expected)
    order, captures = await order_and_its(OrderTransaction, placed.order.order_id)
    assert [(t.reference, t.amount) for t in captures] == [("capture", placed.order.total)]
    assert order.payment_status == "captured"


@idempotency_test(PaymentActivities.cancel_payment_intent)
async def test_cancel_after_a_lost_answer_cancels_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, stripe_proxy: str
) -> None:
    cancel = f"/v1/payment_intents/{placed.payment.id}/cancel"
    request = CancelPaymentInput(payment_intent_id=placed.payment.id, void_authorization=True)
    await answer_lost(env, stripe_proxy, cancel, activities["cancel_payment_intent"], request)

    answers = [await env.run(activities["cancel_payment_intent"], request) for _ in range(2)]

    assert [answer.status for answer in answers] == ["canceled", "canceled"]
    assert await made_at_the_fake(stripe_proxy, cancel) == 1


@idempotency_test(PaymentActivities.refund_payment_intent)
async def test_refund_after_a_lost_answer_refunds_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, stripe_proxy: str
) -> None:
    stripe_client = get_stripe_client()
    await stripe_client.v1.payment_intents.capture_async(placed.payment.id)  # money taken, no order kept
    await answer_lost(
        env, stripe_proxy, "/v1/refunds", activities["refund_payment_intent"], placed.payment.id
    )

    for _ in range(2):
        await env.run(activities["refund_payment_intent"], placed.payment.id)

    refunds = await stripe_client.v1.refunds.list_async({"payment_intent": placed.payment.id})
    assert [(refund.amount, refund.status) for refund in refunds.data] == [
        (placed.payment.amount, "succeeded")
    ]


# --- notifications -------------------------------------------------------------------------------


async def _outbox(order_id: str, channel: str) -> list[tuple[str, str]]:
    async with get_sessionmaker()() as session:
        messages = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == channel, OutboxMessage.payload["order_id"].astext == order_id
            )
        )
        return [(message.idempotency_key, message.status) for message in messages]


def _sent(outgoing: Outgoing, key: str) -> int:
    return sum(1 for _, sent_key in outgoing.emails if sent_key == key)


@idempotency_test(NotificationActivities.send_order_confirmation)
async def test_confirmation_email_twice_is_one_message_sent_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, outgoing: Outgoing
) -> None:
    key = f"{placed.order.order_id}:confirmation-email"

    answers = [await env.run(activities["send_order_confirmation"], placed.order.order_id) for _ in range(2)]

    assert answers == ["sent", "sent"]
    assert await _outbox(placed.order.order_id, "email") == [(key, "sent")]
    assert _sent(outgoing, key) == 1


@idempotency_test(NotificationActivities.track_order_placed)
async def test_order_placed_event_twice_is_one_event(
    env: ActivityEnvironment, activities: Activities, placed: Placed, outgoing: Outgoing
) -> None:
    for _ in range(2):
        await env.run(activities["track_order_placed"], placed.order.order_id)

    assert await _outbox(placed.order.order_id, "analytics") == [
        (f"{placed.order.order_id}:order_placed", "sent")
    ]
    sent = [event for event in outgoing.events if event["distinct_id"] == placed.order.order_id]
    assert [event["event"] for event in sent] == ["order_placed"]


@idempotency_test(NotificationActivities.deliver_due_messages)
async def test_delivery_run_twice_sends_each_due_message_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, outgoing: Outgoing
) -> None:
    """A message the checkout's own attempt left pending (PostHog was down then) goes out once,
    however often the Schedule's step runs; a run retried after a lost report sends nothing new."""
    order_id = placed.order.order_id
    key = f"{order_id}:resend:confirmation:{new_id('test')}"
    async with get_sessionmaker()() as session, session.begin():
        await outbox.enqueue(
            session,
            channel=OutboxChannel.EMAIL,
            key=key,
            recipient="towel@example.com",
            subject="Your order",
            payload={"html": "<p>Hi</p>", "text": "Hi", "order_id": order_id},
        )

    for _ in range(2):
        await env.run(activities["deliver_due_messages"])

    assert (key, "sent") in await _outbox(order_id, "email")
    assert _sent(outgoing, key) == 1


# --- fulfillment ---------------------------------------------------------------------------------


def _shipped(placed: Placed) -> RecordShipmentInput:
    return RecordShipmentInput(
        order_id=placed.order.order_id, shipment=Shipment(carrier="DHL", tracking_number=new_id("track"))
    )


@idempotency_test(FulfillmentActivities.record_shipment)
async def test_record_shipment_twice_is_one_fulfillment(
    env: ActivityEnvironment, activities: Activities, placed: Placed
) -> None:
    shipped = _shipped(placed)
    await env.run(activities["capture_order_payment"], placed.order.order_id)  # only a paid order ships

    for _ in range(2):
        await env.run(activities["record_shipment"], shipped)

    order, fulfillments = await order_and_its(Fulfillment, placed.order.order_id)
    assert [f.tracking_number for f in fulfillments] == [shipped.shipment.tracking_number]
    assert order.fulfillment_status == "shipped"


@idempotency_test(NotificationActivities.send_shipping_confirmation)
async def test_shipping_email_twice_is_one_message_sent_once(
    env: ActivityEnvironment, activities: Activities, placed: Placed, outgoing: Outgoing
) -> None:
    await env.run(activities["capture_order_payment"], placed.order.order_id)
    await env.run(activities["record_shipment"], _shipped(placed))
    _, [fulfillment] = await order_and_its(Fulfillment, placed.order.order_id)
    key = f"{placed.order.order_id}:shipment-email:{fulfillment.id}"

    for _ in range(2):
        await env.run(activities["send_shipping_confirmation"], _shipped(placed))

    assert await _outbox(placed.order.order_id, "email") == [(key, "sent")]
    assert _sent(outgoing, key) == 1


# --- the reconciler ------------------------------------------------------------------------------


@idempotency_test(ReconcilerActivities.nudge_authorized_checkouts)
async def test_reconciler_twice_gives_a_checkout_one_hint(
    temporal_env: WorkflowEnvironment,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    outgoing: Outgoing,
    database_url: str,
    localstripe_url: str,
) -> None:
    # Nobody works on the checkout while the reconciler nudges it twice.
    settings, app = store_on_own_queue(temporal_env.client, "reconciler-test")
    variant_id = await make_variant(stock=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http:
        shopper = Shopper(http=http, regions=regions)
        cart = await shopper.cart("eur", [(variant_id, 1)])
        async with build_worker(
            temporal_env.client, settings.temporal_task_queue, stack_activities(outgoing)
        ):
            session = await shopper.payment_session(cart["id"])
        assert session.status_code == 200, session.text
    payment_intent_id = session.json()["payment_session"]["payment_intent_id"]
    await pay(payment_intent_id)  # authorized; nobody is told
    nudge = registered_activities(settings, get_sessionmaker(), get_stripe_client(), outgoing)[
        "nudge_authorized_checkouts"
    ]

    nudged = [
        await ActivityEnvironment(client=temporal_env.client).run(nudge, ReconcileInput(lookback_seconds=600))
        for _ in range(2)
    ]

    assert all(result.nudged >= 1 for result in nudged)
    async with build_worker(temporal_env.client, settings.temporal_task_queue, stack_activities(outgoing)):
        outcome = await workflow_outcome(temporal_env, payment_intent_id)
    assert (outcome.status, outcome.events_seen) == (CheckoutStatus.COMPLETED, 1)
    assert [order.id for order in await orders_of_cart(cart["id"])] == [outcome.order_id]
    assert (await retrieve_payment_intent(payment_intent_id)).captured

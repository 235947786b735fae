"""Time: the payment timeout, and a payment that arrives without anyone announcing it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from core.settings import get_settings
from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutState, CheckoutStatus
from models import Order
from tests.checkout.conftest import MakeVariant, Shopper, level_of, pay
from tests.workflows.conftest import WorkerFactory
from workflows.checkout import CheckoutWorkflow


async def _orders_for(cart_id: str) -> list[Order]:
    async with get_sessionmaker()() as session:
        return list(await session.scalars(select(Order).where(Order.cart_id == cart_id)))


async def _after_the_payment_timeout(env: WorkflowEnvironment, payment_intent_id: str) -> CheckoutState:
    """Let the (default, one-hour) payment timeout pass on the test server, then read the outcome."""
    await env.sleep(timedelta(seconds=get_settings().checkout_payment_timeout_seconds + 1))
    return await _outcome(env, payment_intent_id)


async def _outcome(env: WorkflowEnvironment, payment_intent_id: str) -> CheckoutState:
    # With a run ID, `result()` keeps waiting across the test server's empty long polls.
    run_id = (await env.client.get_workflow_handle(payment_intent_id).describe()).run_id
    return await env.client.get_workflow_handle_for(
        CheckoutWorkflow.run, payment_intent_id, run_id=run_id
    ).result()


async def _start(shopper: Shopper, make_variant: MakeVariant, quantity: int = 2) -> tuple[str, str, str]:
    variant_id = await make_variant(stock=5)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, quantity)])
    return variant_id, cart["id"], payment_intent_id


async def test_unpaid_checkout_expires_releases_stock_and_cancels_the_payment(
    time_skipping_env: WorkflowEnvironment,
    skipping_shopper: Shopper,
    make_variant: MakeVariant,
    new_worker: WorkerFactory,
) -> None:
    async with new_worker():
        variant_id, cart_id, payment_intent_id = await _start(skipping_shopper, make_variant)
        assert (await level_of(variant_id)).reserved_quantity == 2

        result = await _after_the_payment_timeout(time_skipping_env, payment_intent_id)

    assert result.status == CheckoutStatus.EXPIRED
    assert (await retrieve_payment_intent(payment_intent_id)).canceled
    assert (await level_of(variant_id)).reserved_quantity == 0
    assert await _orders_for(cart_id) == []
    completed = await skipping_shopper.complete(cart_id)
    assert completed.status_code == 409
    assert completed.json()["type"] == "cart"
    assert completed.json()["error"]["code"] == "checkout_expired"


async def test_payment_authorized_but_never_announced_still_becomes_an_order_at_the_timeout(
    time_skipping_env: WorkflowEnvironment,
    skipping_shopper: Shopper,
    make_variant: MakeVariant,
    new_worker: WorkerFactory,
) -> None:
    """The webhook was lost and the storefront never called `complete`: the money is not kept orderless."""
    async with new_worker():
        variant_id, cart_id, payment_intent_id = await _start(skipping_shopper, make_variant)
        await pay(payment_intent_id)
        result = await _after_the_payment_timeout(time_skipping_env, payment_intent_id)

    assert result.status == CheckoutStatus.COMPLETED
    [order] = await _orders_for(cart_id)
    assert result.order_id == order.id
    assert order.payment_status == "captured"
    assert (await retrieve_payment_intent(payment_intent_id)).captured
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (3, 0)

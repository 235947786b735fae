"""A worker that dies mid-checkout: Temporal keeps the checkout, the next worker finishes it once."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.checkout import CheckoutStatus
from models import Region
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    orders_of_cart,
    pay,
    payment_intent_event,
    store_on_own_queue,
    workflow_outcome,
)
from tests.conftest import Outgoing, stack_activities
from worker import build_worker


@pytest.mark.e2e
async def test_worker_dies_mid_checkout_and_the_next_one_places_exactly_one_order(
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    outgoing: Outgoing,
) -> None:
    settings, app = store_on_own_queue(temporal_env.client, "restart-test")

    def new_worker(queue_settings: Settings = settings):
        return build_worker(
            temporal_env.client, queue_settings.temporal_task_queue, stack_activities(outgoing)
        )

    variant_id = await make_variant(stock=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http:
        shopper = Shopper(http=http, regions=regions)
        cart = await shopper.cart("eur", [(variant_id, 1)])
        async with new_worker():
            session = await shopper.payment_session(cart["id"])
        assert session.status_code == 200, session.text
        payment_intent_id = session.json()["payment_session"]["payment_intent_id"]

        # No worker at all now: the customer pays, Stripe's webhook is accepted and kept.
        await pay(payment_intent_id)
        event = payment_intent_event("payment_intent.amount_capturable_updated", payment_intent_id)
        for _ in range(3):
            delivered = await shopper.webhook(event)
            assert delivered.status_code == 200, delivered.text
        assert await orders_of_cart(cart["id"]) == []

        async with new_worker():
            outcome = await workflow_outcome(temporal_env, payment_intent_id)
            completed = await shopper.complete(cart["id"])

    assert outcome.status == CheckoutStatus.COMPLETED
    assert outcome.events_seen == 1
    assert [order.id for order in await orders_of_cart(cart["id"])] == [outcome.order_id]
    assert completed.status_code == 200, completed.text
    assert completed.json()["order"]["id"] == outcome.order_id
    assert completed.json()["order"]["payment_status"] == "captured"

"""One order per payment: a storm of duplicate webhooks and concurrent `complete` calls."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    confirmation_tried,
    level_of,
    orders_of_cart,
    outbox_of,
    pay,
    payment_intent_event,
    transactions_of,
    workflow_outcome,
)
from tests.conftest import Outgoing

WEBHOOK_DELIVERIES = 20
COMPLETE_CALLS = 5


@pytest.mark.e2e
async def test_duplicate_webhooks_and_concurrent_completes_make_one_order(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment, outgoing: Outgoing
) -> None:
    variant_id = await make_variant(stock=5)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 2)])
    await pay(payment_intent_id)  # authorized, not captured

    # Stripe's at-least-once delivery: the same event (same ID) many times, at the same moment
    # as the storefront's "complete" requests.
    event = payment_intent_event("payment_intent.amount_capturable_updated", payment_intent_id)
    responses = await asyncio.gather(
        *(shopper.webhook(event) for _ in range(WEBHOOK_DELIVERIES)),
        *(shopper.complete(cart["id"]) for _ in range(COMPLETE_CALLS)),
    )
    webhooks, completes = responses[:WEBHOOK_DELIVERIES], responses[WEBHOOK_DELIVERIES:]

    assert [r.status_code for r in webhooks] == [200] * WEBHOOK_DELIVERIES, [r.text for r in webhooks]
    # "closed" when the checkout had already finished by the time that delivery was handed over.
    assert {r.json()["routed"] for r in webhooks} <= {"checkout", "closed"}
    assert [r.status_code for r in completes] == [200] * COMPLETE_CALLS, [r.text for r in completes]
    orders = [r.json()["order"] for r in completes]
    assert len({(o["id"], o["access_token"]) for o in orders}) == 1
    order = orders[0]

    final = await workflow_outcome(temporal_env, payment_intent_id)
    assert (final.status, final.order_id) == (CheckoutStatus.COMPLETED, order["id"])

    assert [o.id for o in await orders_of_cart(cart["id"])] == [order["id"]]
    captures = [t for t in await transactions_of(order["id"]) if t.reference == "capture"]
    assert [(t.amount, t.reference_id) for t in captures] == [(order["total"], payment_intent_id)]
    intent = await retrieve_payment_intent(payment_intent_id)
    assert intent.captured
    assert intent.amount_received == order["total"]

    email, _ = await confirmation_tried(order["id"])
    assert [m.id for m in await outbox_of(order["id"], "email")] == [email.id]
    assert email.status == "sent"
    sent = [key for _, key in outgoing.emails if key.startswith(f"{order['id']}:")]
    assert sent == [f"{order['id']}:confirmation-email"]

    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (3, 0)

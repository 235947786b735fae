"""A webhook storm: 100 signed deliveries for 20 paid checkouts, all at once and shuffled: the
authorization delivered twice, `succeeded` and `created` out of their order, a stale
`payment_failed`. Nobody calls `complete`: the webhooks alone make the orders, one per checkout."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.checkout.conftest import Shopper, payment_intent_event
from tests.faults.audit import audit
from tests.faults.scenario import pay
from tests.faults.stack import FaultStack

pytestmark = pytest.mark.faults

CHECKOUTS = 20
EVENTS = 100


def storm(payment_intent_ids: list[str]) -> list[dict[str, object]]:
    """Five deliveries per PaymentIntent (four events, one of them twice), shuffled."""
    deliveries = []
    for payment_intent_id in payment_intent_ids:
        authorized = payment_intent_event("payment_intent.amount_capturable_updated", payment_intent_id)
        deliveries += [
            authorized,
            authorized,  # Stripe delivers at least once: the same event ID again
            payment_intent_event("payment_intent.succeeded", payment_intent_id),
            payment_intent_event("payment_intent.payment_failed", payment_intent_id),
            payment_intent_event("payment_intent.created", payment_intent_id),
        ]
    random.Random(10).shuffle(deliveries)
    return deliveries


async def test_webhook_storm_of_100_events_for_20_checkouts_makes_20_orders(
    stack: FaultStack, shopper: Shopper, variants: list[str]
) -> None:
    opened = await asyncio.gather(
        *(shopper.open_checkout("eur", [(variants[n % len(variants)], 1 + n % 3)]) for n in range(CHECKOUTS))
    )
    payment_intent_ids = [payment_intent_id for _, payment_intent_id in opened]
    await asyncio.gather(*(pay(stack, payment_intent_id) for payment_intent_id in payment_intent_ids))

    deliveries = storm(payment_intent_ids)
    assert len(deliveries) == EVENTS
    answers = await asyncio.gather(*(shopper.webhook(event) for event in deliveries))

    assert [answer.status_code for answer in answers] == [200] * EVENTS, [
        a.text for a in answers if a.status_code != 200
    ]
    # "closed": that checkout had already finished when its delivery was handed over.
    assert {answer.json()["routed"] for answer in answers} <= {"checkout", "closed"}
    await audit(stack, [cart["id"] for cart, _ in opened])

"""PostHog being down never blocks a checkout: the order is placed and paid, the event waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    buy,
    confirmation_tried,
    workflow_outcome,
)
from tests.conftest import Outgoing


@pytest.fixture
def analytics_down(outgoing: Outgoing) -> Iterator[Outgoing]:
    outgoing.fail_analytics = True
    try:
        yield outgoing
    finally:
        outgoing.fail_analytics = False


@pytest.mark.e2e
async def test_order_is_placed_and_captured_while_analytics_is_down(
    shopper: Shopper,
    make_variant: MakeVariant,
    temporal_env: WorkflowEnvironment,
    analytics_down: Outgoing,
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order = purchase.order

    assert order["payment_status"] == "captured"
    assert (await retrieve_payment_intent(purchase.payment_intent_id)).captured
    # The workflow gives up on analytics after its few retries and still ends completed.
    final = await workflow_outcome(temporal_env, purchase.payment_intent_id)
    assert (final.status, final.order_id) == (CheckoutStatus.COMPLETED, order["id"])

    email, event = await confirmation_tried(order["id"])
    assert event.status == "pending"
    assert event.sent_at is None
    assert not [e for e in analytics_down.events if e["distinct_id"] == order["id"]]
    # The customer still got the confirmation email.
    assert email.status == "sent"

    # What an operator sees: the event is still waiting in the outbox.
    listed = await shopper.http.get(
        "/admin/outbox", params={"channel": "analytics", "limit": 500}, headers=admin_headers()
    )
    assert listed.status_code == 200, listed.text
    mine = [m for m in listed.json()["messages"] if m["payload"].get("order_id") == order["id"]]
    assert [m["status"] for m in mine] == ["pending"]

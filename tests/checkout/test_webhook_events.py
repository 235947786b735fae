"""Stripe events arrive late, early, twice, forged or about payments that are not ours.

The webhook is only a hint: the workflow re-reads the PaymentIntent, so no event payload can
make (or cancel) an order on its own.
"""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus, FailureCode
from domain.ids import new_id
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    buy,
    checkout_row,
    level_of,
    orders_of_cart,
    orders_of_payment,
    pay,
    payment_intent_event,
    signed,
    transactions_of,
    workflow_outcome,
)
from workflows.checkout import CheckoutWorkflow


async def workflow_exists(temporal_env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await temporal_env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as missing:
        if missing.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def unknown_payment_intent_id() -> str:
    return f"pi_doesnotexist{new_id('x').removeprefix('x_')}"


@pytest.mark.e2e
async def test_events_out_of_order_make_one_order_only_once_authorized(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=5)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    handle = temporal_env.client.get_workflow_handle_for(CheckoutWorkflow.run, payment_intent_id)

    # "succeeded" and "canceled" for a PaymentIntent nobody has paid yet (stale, replayed or forged).
    early_succeeded = payment_intent_event("payment_intent.succeeded", payment_intent_id)
    early_canceled = payment_intent_event("payment_intent.canceled", payment_intent_id)
    for event in (early_succeeded, early_canceled):
        answer = await shopper.webhook(event)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"received": True, "routed": "checkout"}

    # `complete` is answered only after the workflow has re-read the payment for every hint.
    unpaid = await shopper.complete(cart["id"])
    assert unpaid.status_code == 402, unpaid.text
    assert unpaid.json()["error"]["code"] == "payment_required"
    assert await orders_of_cart(cart["id"]) == []
    state = await handle.query(CheckoutWorkflow.state)
    assert state.status == CheckoutStatus.AWAITING_PAYMENT
    assert state.events_seen == 2
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    # Neither event was believed: the payment is still open and the stock still held.
    assert (await retrieve_payment_intent(payment_intent_id)).status == "requires_payment_method"
    assert (await level_of(variant_id)).reserved_quantity == 1

    await pay(payment_intent_id)
    # After authorization: a stale "payment_failed", and the early events delivered again.
    for event in (
        payment_intent_event("payment_intent.payment_failed", payment_intent_id),
        early_canceled,
        early_succeeded,
    ):
        answer = await shopper.webhook(event)
        assert answer.status_code == 200, answer.text
        assert answer.json()["routed"] in {"checkout", "closed"}

    final = await workflow_outcome(temporal_env, payment_intent_id)
    assert final.status == CheckoutStatus.COMPLETED
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    order = completed.json()["order"]
    assert final.order_id == order["id"]
    assert [o.id for o in await orders_of_cart(cart["id"])] == [order["id"]]
    assert [t.reference for t in await transactions_of(order["id"])] == ["capture"]
    assert (await retrieve_payment_intent(payment_intent_id)).captured


@pytest.mark.e2e
async def test_event_for_unknown_payment_intent_is_acknowledged_and_ignored(
    shopper: Shopper, temporal_env: WorkflowEnvironment
) -> None:
    payment_intent_id = unknown_payment_intent_id()

    answer = await shopper.webhook(payment_intent_event("payment_intent.succeeded", payment_intent_id))

    assert answer.status_code == 200, answer.text
    final = await workflow_outcome(temporal_env, payment_intent_id)
    assert final.status == CheckoutStatus.IGNORED
    assert final.failure_code == FailureCode.NOT_OUR_PAYMENT
    assert final.order_id is None
    assert await orders_of_payment(payment_intent_id) == []
    assert await checkout_row(payment_intent_id) is None

    again = await shopper.webhook(payment_intent_event("payment_intent.succeeded", payment_intent_id))
    assert again.status_code == 200, again.text
    assert again.json()["routed"] == "closed"
    assert await orders_of_payment(payment_intent_id) == []


@pytest.mark.e2e
async def test_late_succeeded_after_checkout_finished_is_closed(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    final = await workflow_outcome(temporal_env, purchase.payment_intent_id)
    assert final.status == CheckoutStatus.COMPLETED
    handle = temporal_env.client.get_workflow_handle(purchase.payment_intent_id)
    finished_run = (await handle.describe()).run_id

    late = await shopper.webhook(payment_intent_event("payment_intent.succeeded", purchase.payment_intent_id))

    assert late.status_code == 200, late.text
    assert late.json() == {"received": True, "routed": "closed"}
    assert [o.id for o in await orders_of_cart(purchase.cart["id"])] == [purchase.order["id"]]
    assert [t.reference for t in await transactions_of(purchase.order["id"])] == ["capture"]
    # No new checkout run was started by the late event.
    described = await handle.describe()
    assert (described.run_id, described.status) == (finished_run, WorkflowExecutionStatus.COMPLETED)


@pytest.mark.e2e
async def test_event_type_we_do_not_route_is_acknowledged_and_ignored(
    shopper: Shopper, temporal_env: WorkflowEnvironment
) -> None:
    payment_intent_id = unknown_payment_intent_id()
    dispute = {
        "id": new_id("evt"),
        "object": "event",
        "type": "charge.dispute.created",
        "created": 1_700_000_000,
        "data": {"object": {"id": new_id("dp"), "object": "dispute", "payment_intent": payment_intent_id}},
    }

    answer = await shopper.webhook(dispute)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "routed": "ignored"}
    assert not await workflow_exists(temporal_env, payment_intent_id)


@pytest.mark.e2e
async def test_bad_signature_is_rejected_and_starts_nothing(
    shopper: Shopper, temporal_env: WorkflowEnvironment
) -> None:
    payment_intent_id = unknown_payment_intent_id()
    event = payment_intent_event("payment_intent.amount_capturable_updated", payment_intent_id)

    body, wrong_secret = signed(event, secret="whsec_not_ours")
    _, genuine = signed(event)
    tampered = json.dumps({**event, "type": "payment_intent.succeeded"}).encode()
    attempts = [
        (body, wrong_secret),
        (tampered, genuine),  # signed for another body
        (body, {"Content-Type": "application/json"}),  # no signature at all
    ]
    for content, headers in attempts:
        answer = await shopper.http.post("/hooks/stripe", content=content, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_signature"

    assert not await workflow_exists(temporal_env, payment_intent_id)
    assert await checkout_row(payment_intent_id) is None

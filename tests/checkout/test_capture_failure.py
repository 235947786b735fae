"""A capture Stripe refuses for good (the authorization expired between order and capture) ends in
a voided payment and a canceled order with its stock back, visible on the order and the checkout."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import get_stripe_client, retrieve_payment_intent
from devstack.fakestripe import delay_requests
from domain.checkout import CheckoutStatus, FailureCode
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    orders_of_cart,
    pay,
    transactions_of,
    workflow_outcome,
)
from tests.conftest import eventually
from tests.orders.conftest import fake_stripe_url, stock_and_ledger


@pytest.mark.e2e
async def test_refused_capture_voids_cancels_the_order_with_its_stock_back_and_fails_the_checkout(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=4)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 2)])
    await pay(payment_intent_id)
    # The capture reaches Stripe late, so the hold can lapse between the order and the capture.
    await delay_requests(
        fake_stripe_url(), f"/v1/payment_intents/{payment_intent_id}/capture", 2, before=True
    )
    completing = asyncio.create_task(shopper.complete(cart["id"]))
    [order] = await eventually(lambda: orders_of_cart(cart["id"]))
    await get_stripe_client().v1.payment_intents.cancel_async(payment_intent_id)  # the hold expired

    outcome = await workflow_outcome(temporal_env, payment_intent_id)
    # The storefront is not told of an order: it was canceled, nothing charged; and so on every call.
    for answer in (await completing, await shopper.complete(cart["id"])):
        assert answer.status_code == 409, answer.text
        assert (answer.json()["type"], answer.json()["error"]["code"]) == ("cart", "capture_failed")

    assert (outcome.status, outcome.failure_code, outcome.order_id) == (
        CheckoutStatus.FAILED,
        FailureCode.CAPTURE_FAILED,
        order.id,
    )
    assert (await retrieve_payment_intent(payment_intent_id)).canceled
    assert [t.reference for t in await transactions_of(order.id)] == []
    assert (await stock_and_ledger(variant_id)) == (4, 4, ["initial", "sale", "cancel"])
    listed = await shopper.http.get(
        "/admin/checkouts", params={"payment_intent_id": payment_intent_id}, headers=admin_headers()
    )
    [checkout] = listed.json()["checkouts"]
    assert (checkout["status"], checkout["failure_code"], checkout["order_id"]) == (
        "failed",
        "capture_failed",
        order.id,
    )
    shown = (await shopper.http.get(f"/admin/orders/{order.id}", headers=admin_headers())).json()["order"]
    assert (shown["status"], shown["payment_status"]) == ("canceled", "canceled")
    assert [e["type"] for e in shown["events"] if e["type"] != "email_sent"] == [
        "placed",
        "capture_failed",
        "payment_voided",
        "canceled",
    ]

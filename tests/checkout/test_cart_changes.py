"""The cart changes after the payment session: the PaymentIntent follows until it is authorized."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus, FailureCode
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    level_of,
    orders_of_cart,
    pay,
    workflow_outcome,
)


@pytest.mark.e2e
async def test_cart_change_before_paying_updates_the_same_payment_intent(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=10)
    cart = await shopper.cart("eur", [(variant_id, 1)])
    first = await shopper.payment_session(cart["id"])
    assert first.status_code == 200, first.text
    first_session = first.json()["payment_session"]
    payment_intent_id = first_session["payment_intent_id"]
    assert (await level_of(variant_id)).reserved_quantity == 1

    added = await shopper.http.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert added.status_code == 200, added.text
    changed_cart = added.json()["cart"]
    assert changed_cart["total"] > cart["total"]

    second = await shopper.payment_session(cart["id"])
    assert second.status_code == 200, second.text
    second_session = second.json()["payment_session"]
    assert second_session["payment_intent_id"] == payment_intent_id
    assert second_session["client_secret"] == first_session["client_secret"]
    assert second_session["amount"] == changed_cart["total"]
    assert (await retrieve_payment_intent(payment_intent_id)).amount == changed_cart["total"]
    assert (await level_of(variant_id)).reserved_quantity == 2

    await pay(payment_intent_id)
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    order = completed.json()["order"]
    assert order["total"] == second_session["amount"] == changed_cart["total"]
    assert [item["quantity"] for item in order["items"]] == [2]
    intent = await retrieve_payment_intent(payment_intent_id)
    assert intent.captured
    assert intent.amount_received == order["total"]
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (8, 0)


@pytest.mark.e2e
async def test_cart_change_after_authorization_is_refused_and_never_charged(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=10)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    await pay(payment_intent_id)  # authorized for one unit

    added = await shopper.http.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert added.status_code == 200, added.text
    refused = await shopper.payment_session(cart["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "cart"
    assert refused.json()["error"]["code"] == "payment_already_authorized"
    intent = await retrieve_payment_intent(payment_intent_id)
    assert (intent.status, intent.amount) == ("requires_capture", cart["total"])

    # Completing now: the authorization no longer matches the cart's total, so no order and
    # no silent charge for the wrong amount; the authorization is voided, the stock released.
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 409, completed.text
    assert completed.json()["error"]["code"] == "amount_mismatch"
    assert await orders_of_cart(cart["id"]) == []
    final = await workflow_outcome(temporal_env, payment_intent_id)
    assert (final.status, final.failure_code) == (CheckoutStatus.FAILED, FailureCode.AMOUNT_MISMATCH)
    assert (await retrieve_payment_intent(payment_intent_id)).status == "canceled"
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (10, 0)

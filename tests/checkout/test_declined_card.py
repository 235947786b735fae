"""A declined card leaves the checkout open: no order, a 402, and the same PaymentIntent can be paid again."""

from __future__ import annotations

import pytest
import stripe
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus
from tests.checkout.conftest import (
    CARD_DECLINED,
    CARD_OK,
    MakeVariant,
    Shopper,
    level_of,
    orders_of_cart,
    pay,
    transactions_of,
    workflow_outcome,
)
from tests.stripe_js import confirm_card_payments
from workflows.checkout import CheckoutWorkflow


@pytest.mark.e2e
async def test_declined_card_then_good_card_on_the_same_payment_intent(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=5)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])

    with pytest.raises(stripe.CardError):
        await pay(payment_intent_id, CARD_DECLINED)

    declined = await shopper.complete(cart["id"])
    assert declined.status_code == 402, declined.text
    assert declined.json()["type"] == "cart"
    assert declined.json()["error"]["code"] == "payment_failed"
    assert await orders_of_cart(cart["id"]) == []
    # The checkout is still open and still holds the stock for a second attempt.
    handle = temporal_env.client.get_workflow_handle_for(CheckoutWorkflow.run, payment_intent_id)
    assert (await handle.query(CheckoutWorkflow.state)).status == CheckoutStatus.PAYMENT_FAILED
    assert (await level_of(variant_id)).reserved_quantity == 1

    await pay(payment_intent_id)  # the same PaymentIntent, another card
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    order = completed.json()["order"]
    assert order["payment_collection"]["payment_intent_id"] == payment_intent_id
    assert order["payment_status"] == "captured"

    orders = await orders_of_cart(cart["id"])
    assert [o.id for o in orders] == [order["id"]]
    assert [(t.reference, t.amount) for t in await transactions_of(order["id"])] == [
        ("capture", order["total"])
    ]
    assert (await retrieve_payment_intent(payment_intent_id)).captured

    state = await handle.query(CheckoutWorkflow.state)
    assert state.status == CheckoutStatus.COMPLETED
    assert state.order_id == order["id"]
    assert state.failure_code is None
    final = await workflow_outcome(temporal_env, payment_intent_id)
    assert (final.status, final.order_id) == (CheckoutStatus.COMPLETED, order["id"])


@pytest.mark.e2e
async def test_a_card_declined_in_the_browser_then_another_card_makes_one_order(
    shopper: Shopper, make_variant: MakeVariant, localstripe_url: str
) -> None:
    """The storefront's way: Stripe.js `confirmCardPayment` with the payment session's client secret."""
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 2)])
    session = (await shopper.payment_session(cart["id"])).json()["payment_session"]

    declined, paid = await confirm_card_payments(
        localstripe_url, session["client_secret"], [CARD_DECLINED, CARD_OK]
    )
    assert declined["error"]["code"] == "card_declined"
    assert paid["paymentIntent"]["status"] == "requires_capture"

    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    order = completed.json()["order"]
    assert order["payment_collection"]["payment_intent_id"] == session["payment_intent_id"]
    assert [o.id for o in await orders_of_cart(cart["id"])] == [order["id"]]
    assert (await level_of(variant_id)).stocked_quantity == 3

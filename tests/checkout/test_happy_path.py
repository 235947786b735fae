"""A customer pays and gets exactly one order, in EUR and in zero-decimal JPY."""

from __future__ import annotations

import pytest

from core.stripe_gateway import retrieve_payment_intent
from tests.checkout.conftest import MakeVariant, Shopper, confirmation_tried, level_of, outbox_of, pay


@pytest.mark.e2e
@pytest.mark.parametrize("currency", ["eur", "jpy"])
async def test_paid_cart_becomes_one_captured_order(
    shopper: Shopper, make_variant: MakeVariant, currency: str
) -> None:
    variant_id = await make_variant(currency=currency, stock=5)
    cart = await shopper.cart(currency, [(variant_id, 2)])

    session = await shopper.payment_session(cart["id"])
    assert session.status_code == 200, session.text
    payment = session.json()["payment_session"]
    assert payment["amount"] == cart["total"]
    assert payment["currency_code"] == currency
    assert (await level_of(variant_id)).reserved_quantity == 2

    await pay(payment["payment_intent_id"])
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["type"] == "order"
    order = body["order"]

    intent = await retrieve_payment_intent(payment["payment_intent_id"])
    assert intent.captured
    assert intent.amount == order["total"] == cart["total"]
    assert order["payment_status"] == "captured"
    assert order["payment_collection"] == {
        "id": order["payment_collection"]["id"],
        "amount": order["total"],
        "currency_code": currency,
        "status": "captured",
        "payment_intent_id": payment["payment_intent_id"],
    }
    assert [(t["amount"], t["reference"], t["reference_id"]) for t in order["transactions"]] == [
        (order["total"], "capture", payment["payment_intent_id"])
    ]
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (3, 0)

    again = await shopper.complete(cart["id"])
    assert again.json()["order"]["id"] == order["id"]
    assert again.json()["order"]["access_token"] == order["access_token"]

    read = await shopper.http.get(
        f"/store/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}
    )
    assert read.status_code == 200
    assert read.json()["order"]["total"] == order["total"]
    assert (await shopper.http.get(f"/store/orders/{order['id']}")).status_code == 404

    email, _ = await confirmation_tried(order["id"])
    assert [m.id for m in await outbox_of(order["id"], "email")] == [email.id]

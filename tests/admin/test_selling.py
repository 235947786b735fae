"""The catalog admin against the whole stack (API on a real port, Temporal, the worker, localstripe):
a product made through the admin API is bought through the store; archiving or re-pricing it
never changes an order or an authorized checkout; an adjustment racing a checkout never oversells.
"""

from __future__ import annotations

import asyncio

import pytest

from core.stripe_gateway import retrieve_payment_intent
from domain.roles import Role
from tests.admin.conftest import EU_WAREHOUSE, Operator, bearer, product_body
from tests.checkout.conftest import Shopper, buy, pay, regions, shopper

__all__ = ["regions", "shopper"]  # the real-stack shopper of the checkout tests

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(shopper: Shopper, keys: dict[Role, str]) -> Operator:
    """The admin API of the same running stack the shopper buys from."""
    return Operator(http=shopper.http, headers=bearer(keys[Role.ADMIN]))


async def test_create_publish_buy_in_eur_and_jpy_archive_and_the_orders_still_read(
    operator: Operator, shopper: Shopper, warehouses
) -> None:
    product = await operator.create_product(product_body(warehouses, status="draft", stock=5))
    sand, sage = (variant["id"] for variant in product["variants"])
    assert (await shopper.http.get(f"/store/products/{product['handle']}")).status_code == 404
    await operator.request("POST", f"/admin/products/{product['id']}", json={"status": "published"})

    in_eur = await buy(shopper, sand, currency="eur", quantity=2)
    in_jpy = await buy(shopper, sage, currency="jpy", quantity=1)

    assert [(item["unit_price"], item["quantity"]) for item in in_eur.order["items"]] == [(2500, 2)]
    assert [(item["unit_price"], item["quantity"]) for item in in_jpy.order["items"]] == [(3600, 1)]
    assert in_jpy.order["currency_code"] == "jpy"
    for purchase in (in_eur, in_jpy):
        assert purchase.order["payment_status"] == "captured"

    archived = await operator.request("DELETE", f"/admin/products/{product['id']}")
    assert archived.status_code == 200
    assert (await shopper.http.get(f"/store/products/{product['id']}")).status_code == 404

    for purchase in (in_eur, in_jpy):
        order = purchase.order
        by_admin = await operator.request("GET", f"/admin/orders/{order['id']}")
        by_buyer = await shopper.http.get(
            f"/store/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}
        )
        assert by_admin.status_code == by_buyer.status_code == 200, by_admin.text
        assert by_admin.json()["order"]["items"] == order["items"]
        assert by_admin.json()["order"]["total"] == order["total"]
    # The order's stock left the warehouse of each region's channel.
    levels = {level["location_id"]: level for level in archived.json()["product"]["variants"][0]["inventory"]}
    assert levels[warehouses[EU_WAREHOUSE]]["stocked_quantity"] == 3


async def test_a_price_change_after_authorization_never_changes_the_order_or_the_capture(
    operator: Operator, shopper: Shopper, warehouses
) -> None:
    product = await operator.create_product(product_body(warehouses))
    variant = product["variants"][0]
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant["id"], 2)])
    await pay(payment_intent_id)
    authorized = (await retrieve_payment_intent(payment_intent_id)).amount_capturable

    repriced = await operator.request(
        "POST",
        f"/admin/variants/{variant['id']}",
        json={"prices": [{"currency_code": "eur", "amount": 9900}]},
    )
    assert repriced.status_code == 200
    # Asking for the payment session again cannot re-price an authorized payment.
    again = await shopper.payment_session(cart["id"])
    assert (again.status_code, again.json()["error"]["code"]) == (409, "payment_already_authorized")
    completed = await shopper.complete(cart["id"])

    assert completed.status_code == 200, completed.text
    order = completed.json()["order"]
    assert order["total"] == cart["total"] == authorized
    assert [item["unit_price"] for item in order["items"]] == [2500]
    intent = await retrieve_payment_intent(payment_intent_id)
    assert intent.captured and intent.amount_received == order["total"]
    assert [(t["reference"], t["amount"]) for t in order["transactions"]] == [("capture", order["total"])]


async def test_an_open_payment_session_takes_a_new_price_only_when_asked_again(
    operator: Operator, shopper: Shopper, warehouses
) -> None:
    product = await operator.create_product(product_body(warehouses))
    variant = product["variants"][0]
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant["id"], 1)])
    await operator.request(
        "POST",
        f"/admin/variants/{variant['id']}",
        json={"prices": [{"currency_code": "eur", "amount": 3000}]},
    )
    assert (await shopper.http.get(f"/store/carts/{cart['id']}")).json()["cart"]["total"] == cart["total"]

    session = await shopper.payment_session(cart["id"])

    assert session.status_code == 200, session.text
    assert session.json()["payment_session"]["payment_intent_id"] == payment_intent_id
    new_total = session.json()["payment_session"]["amount"]
    # 3000 + 495 shipping, 20 % tax on both
    assert new_total == (3000 + 495) * 12 // 10 != cart["total"]
    assert (await retrieve_payment_intent(payment_intent_id)).amount == new_total
    await pay(payment_intent_id)
    order = (await shopper.complete(cart["id"])).json()["order"]
    assert order["total"] == new_total


async def test_an_adjustment_racing_a_checkout_never_lets_stock_go_below_what_is_held(
    operator: Operator, shopper: Shopper, warehouses
) -> None:
    for _ in range(3):
        product = await operator.create_product(product_body(warehouses, stock=3))
        variant = product["variants"][0]
        [level] = [
            level for level in variant["inventory"] if level["location_id"] == warehouses[EU_WAREHOUSE]
        ]
        cart = await shopper.cart("eur", [(variant["id"], 3)])

        checkout, adjustment = await asyncio.gather(
            shopper.payment_session(cart["id"]),
            operator.request(
                "POST",
                f"/admin/inventory-levels/{level['id']}/adjustments",
                json={"delta": -3, "reason": "adjustment"},
            ),
        )

        outcomes = sorted([checkout.status_code, adjustment.status_code])
        assert outcomes in ([200, 409], [201, 409]), (checkout.text, adjustment.text)
        refused = checkout if checkout.status_code == 409 else adjustment
        assert refused.json()["error"]["code"] in {"insufficient_inventory", "insufficient_stock"}
        after = (await operator.request("GET", f"/admin/inventory-levels/{level['id']}")).json()[
            "inventory_level"
        ]
        assert after["available"] >= 0
        assert (after["stocked_quantity"], after["reserved_quantity"]) in {(3, 3), (0, 0)}

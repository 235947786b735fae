"""Input PostgreSQL cannot store (a NUL byte) is a clear 4xx on every route, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/store/orders/order_%00"),
        ("POST", "/store/carts/cart_%00/complete"),
        ("POST", "/store/carts/cart_%00/payment-sessions"),
        ("GET", "/admin/checkouts?cart_id=cart_%00"),
        ("GET", "/admin/orders/order_%00"),
        ("GET", "/admin/checkouts/pi_%00"),
    ],
)
async def test_a_nul_byte_in_an_id_is_a_4xx(client, method: str, url: str) -> None:
    response = await client.request(
        method, url, headers={"Authorization": "Bearer dev-admin-token", "X-Order-Token": "x"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in {
        "invalid_request",
        "order_not_found",
        "cart_not_found",
        "checkout_not_found",
    }


async def test_a_nul_byte_in_an_address_is_refused_and_the_cart_is_unchanged(client, new_cart) -> None:
    cart = await new_cart("Europe", ("GT-CBT-SAND-BATH", 1))
    address = {
        "first_name": "Gr\u0000ace",
        "last_name": "Hopper",
        "address_1": "1 Harbour Street",
        "city": "Rotterdam",
        "postal_code": "3011",
        "country_code": "nl",
    }
    response = await client.post(f"/store/carts/{cart['id']}", json={"shipping_address": address})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    after = (await client.get(f"/store/carts/{cart['id']}")).json()["cart"]
    assert (after["version"], after["shipping_address"]) == (cart["version"], cart["shipping_address"])

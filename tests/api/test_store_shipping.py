"""Shipping options of a cart's region, and choosing one as the cart's shipping method."""

from __future__ import annotations

import pytest


async def options_for(client, cart_id):
    response = await client.get("/store/shipping-options", params={"cart_id": cart_id})
    assert response.status_code == 200, response.text
    return response.json()["shipping_options"]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("Europe", [("Standard", 495, "eur"), ("Express", 1295, "eur")]),
        ("United States", [("Standard", 595, "usd"), ("Express", 1495, "usd")]),
        ("Japan", [("Standard", 800, "jpy"), ("Express", 1500, "jpy")]),
    ],
)
async def test_lists_the_options_of_the_carts_region_in_its_currency(
    client, demo, new_cart, region, expected
):
    cart = await new_cart(region)

    options = await options_for(client, cart["id"])

    assert [(o["name"], o["amount"], o["currency_code"]) for o in options] == expected
    assert [o["id"] for o in options] == [demo.shipping_options[region, name] for name, _, _ in expected]


async def test_choosing_an_option_sets_the_shipping_total(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-RBM-SAND", 1))

    response = await client.post(
        f"/store/carts/{cart['id']}/shipping-methods",
        json={"option_id": demo.shipping_options["Europe", "Express"]},
    )

    assert response.status_code == 200
    updated = response.json()["cart"]
    assert updated["shipping_method"]["name"] == "Express"
    assert updated["shipping_method"]["shipping_option_id"] == demo.shipping_options["Europe", "Express"]
    assert updated["shipping_total"] == 1295
    # (2400 + 1295) * 20 % = 739
    assert (updated["tax_total"], updated["total"]) == (739, 2400 + 1295 + 739)


async def test_choosing_again_replaces_the_previous_method(client, demo, new_cart):
    cart = await new_cart("United States", ("GT-RBM-SAND", 1))
    url = f"/store/carts/{cart['id']}/shipping-methods"
    first = (
        await client.post(url, json={"option_id": demo.shipping_options["United States", "Express"]})
    ).json()

    second = (
        await client.post(url, json={"option_id": demo.shipping_options["United States", "Standard"]})
    ).json()

    method = second["cart"]["shipping_method"]
    assert method["name"] == "Standard"
    assert method["id"] == first["cart"]["shipping_method"]["id"]  # still one method per cart
    assert second["cart"]["shipping_total"] == 595
    assert second["cart"]["total"] == 2600 + 595


async def test_an_option_of_another_region_is_a_400(client, demo, new_cart):
    cart = await new_cart("Japan", ("GT-HKT-FOX", 1))

    response = await client.post(
        f"/store/carts/{cart['id']}/shipping-methods",
        json={"option_id": demo.shipping_options["Europe", "Standard"]},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_shipping_option"
    assert (await client.get(f"/store/carts/{cart['id']}")).json()["cart"] == cart


async def test_an_unknown_option_is_a_404(client, demo, new_cart):
    cart = await new_cart("Japan")
    for option_id in ["so_01NOSUCHOPTION000000000000", "so\x00"]:
        response = await client.post(
            f"/store/carts/{cart['id']}/shipping-methods", json={"option_id": option_id}
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "shipping_option_not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"option_id": 5}, {"option_id": "so_x", "amount": 0}, {"option_id": ""}],
)
async def test_a_bad_shipping_method_body_is_a_400(client, new_cart, body):
    cart = await new_cart("Japan")

    response = await client.post(f"/store/carts/{cart['id']}/shipping-methods", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("params", [{}, {"cart_id": ""}])
async def test_listing_options_without_a_cart_id_is_a_400(client, demo, params):
    response = await client.get("/store/shipping-options", params=params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"

"""Carts: creation, line items, details, totals in three currencies, and concurrent changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from models import Cart, VariantPrice


async def get_cart(client, cart_id):
    response = await client.get(f"/store/carts/{cart_id}")
    assert response.status_code == 200, response.text
    return response.json()["cart"]


def line_for(cart, sku):
    return next(item for item in cart["items"] if item["sku"] == sku)


# --- creating and reading ----------------------------------------------------------------


async def test_creates_an_empty_cart_in_the_regions_currency(client, demo):
    response = await client.post(
        "/store/carts", json={"region_id": demo.regions["Japan"], "email": "Grace@Example.COM"}
    )

    assert response.status_code == 200
    cart = response.json()["cart"]
    assert cart["id"].startswith("cart_")
    assert cart["region_id"] == demo.regions["Japan"]
    assert cart["currency_code"] == "jpy"
    assert cart["email"] == "Grace@example.com"
    assert cart["items"] == []
    assert cart["shipping_method"] is None
    assert cart["shipping_address"] is None
    assert cart["completed_at"] is None
    assert (cart["subtotal"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (0, 0, 0, 0)
    assert await get_cart(client, cart["id"]) == cart


async def test_email_is_optional(client, demo):
    response = await client.post("/store/carts", json={"region_id": demo.regions["Europe"]})

    assert response.status_code == 200
    assert response.json()["cart"]["email"] is None


async def test_cart_ids_are_unguessable_not_sequential(client, demo, new_cart):
    first, second = await new_cart("Europe"), await new_cart("Europe")

    assert first["id"] != second["id"]
    assert len(first["id"]) > len("cart_") + 20


# --- totals ------------------------------------------------------------------------------


async def test_eur_totals_with_two_lines_shipping_and_20_percent_tax(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-CBT-SAND-BATH", 2), ("GT-WWT-WHITE-HAND", 1))
    response = await client.post(
        f"/store/carts/{cart['id']}/shipping-methods",
        json={"option_id": demo.shipping_options["Europe", "Standard"]},
    )

    cart = response.json()["cart"]
    assert cart["currency_code"] == "eur"
    assert [(i["sku"], i["quantity"], i["unit_price"], i["subtotal"]) for i in cart["items"]] == [
        ("GT-CBT-SAND-BATH", 2, 2900, 5800),
        ("GT-WWT-WHITE-HAND", 1, 1800, 1800),
    ]
    # 7600 + 495 shipping = 8095; 20 % of it = 1619.
    assert (cart["subtotal"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (
        7600,
        495,
        1619,
        9714,
    )


async def test_usd_totals_with_two_lines_shipping_and_no_tax(client, demo, new_cart):
    cart = await new_cart("United States", ("GT-CBT-SAND-BATH", 2), ("GT-WWT-WHITE-HAND", 1))
    response = await client.post(
        f"/store/carts/{cart['id']}/shipping-methods",
        json={"option_id": demo.shipping_options["United States", "Express"]},
    )

    cart = response.json()["cart"]
    assert cart["currency_code"] == "usd"
    assert [(i["unit_price"], i["subtotal"]) for i in cart["items"]] == [(3200, 6400), (2000, 2000)]
    assert (cart["subtotal"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (
        8400,
        1495,
        0,
        9895,
    )


async def test_jpy_totals_are_whole_yen_with_10_percent_tax(client, demo, new_cart):
    cart = await new_cart("Japan", ("GT-HKT-FOX", 2), ("GT-CBT-SAND-HAND", 1))
    response = await client.post(
        f"/store/carts/{cart['id']}/shipping-methods",
        json={"option_id": demo.shipping_options["Japan", "Standard"]},
    )

    cart = response.json()["cart"]
    assert cart["currency_code"] == "jpy"
    assert [(i["unit_price"], i["subtotal"]) for i in cart["items"]] == [(3200, 6400), (2400, 2400)]
    # 8800 + 800 shipping = 9600 yen; 10 % tax = 960 yen. No decimals anywhere.
    assert (cart["subtotal"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (
        8800,
        800,
        960,
        10560,
    )
    assert all(type(cart[key]) is int for key in ("subtotal", "shipping_total", "tax_total", "total"))


# --- line items --------------------------------------------------------------------------


async def test_adding_a_variant_already_in_the_cart_adds_to_its_quantity(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-RBM-SAND", 2), ("GT-RBM-SAND", 3))

    assert [(item["sku"], item["quantity"]) for item in cart["items"]] == [("GT-RBM-SAND", 5)]
    assert cart["subtotal"] == 5 * 2400


async def test_update_and_remove_a_line_item(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-RBM-SAND", 1), ("GT-RBM-SLATE", 1))
    sand, slate = line_for(cart, "GT-RBM-SAND"), line_for(cart, "GT-RBM-SLATE")

    response = await client.post(f"/store/carts/{cart['id']}/line-items/{sand['id']}", json={"quantity": 4})
    assert response.status_code == 200
    updated = response.json()["cart"]
    assert line_for(updated, "GT-RBM-SAND")["quantity"] == 4
    assert updated["subtotal"] == 5 * 2400

    response = await client.delete(f"/store/carts/{cart['id']}/line-items/{slate['id']}")
    assert response.status_code == 200
    after_delete = response.json()["cart"]
    assert [item["id"] for item in after_delete["items"]] == [sand["id"]]
    assert after_delete["subtotal"] == 4 * 2400
    assert after_delete["version"] == updated["version"] + 1


async def test_every_change_bumps_the_version(client, demo, new_cart):
    cart = await new_cart("Europe")
    versions = [cart["version"]]
    cart_url = f"/store/carts/{cart['id']}"

    response = await client.post(
        f"{cart_url}/line-items", json={"variant_id": demo.variants["GT-RBM-SAND"], "quantity": 1}
    )
    versions.append(response.json()["cart"]["version"])
    item_id = response.json()["cart"]["items"][0]["id"]
    response = await client.post(f"{cart_url}/line-items/{item_id}", json={"quantity": 2})
    versions.append(response.json()["cart"]["version"])
    response = await client.post(cart_url, json={"email": "towels@example.com"})
    versions.append(response.json()["cart"]["version"])
    response = await client.post(
        f"{cart_url}/shipping-methods", json={"option_id": demo.shipping_options["Europe", "Express"]}
    )
    versions.append(response.json()["cart"]["version"])
    response = await client.delete(f"{cart_url}/line-items/{item_id}")
    versions.append(response.json()["cart"]["version"])

    assert versions == [1, 2, 3, 4, 5, 6]


async def test_backorderable_variant_can_be_added_beyond_its_stock(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-OBS-MOSS", 5))

    assert line_for(cart, "GT-OBS-MOSS")["quantity"] == 5


async def test_every_change_refreshes_prices_from_the_server(client, session, demo, new_cart):
    cart = await new_cart("United States", ("GT-WWT-CLAY-BATH", 1))
    assert line_for(cart, "GT-WWT-CLAY-BATH")["unit_price"] == 3800
    variant_id = demo.variants["GT-WWT-CLAY-BATH"]

    async with session.begin():
        await session.execute(
            update(VariantPrice)
            .where(VariantPrice.variant_id == variant_id, VariantPrice.currency_code == "usd")
            .values(amount=3500)
        )
    try:
        response = await client.post(f"/store/carts/{cart['id']}", json={"email": "sale@example.com"})
        assert line_for(response.json()["cart"], "GT-WWT-CLAY-BATH")["unit_price"] == 3500
        assert response.json()["cart"]["subtotal"] == 3500
    finally:
        async with session.begin():
            await session.execute(
                update(VariantPrice)
                .where(VariantPrice.variant_id == variant_id, VariantPrice.currency_code == "usd")
                .values(amount=3800)
            )


# --- email and address -------------------------------------------------------------------

ADDRESS = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "address_1": "Keizersgracht 1",
    "city": "Amsterdam",
    "postal_code": "1015 CJ",
    "country_code": "NL",
}


async def test_sets_email_and_shipping_address(client, demo, new_cart):
    cart = await new_cart("Europe")

    response = await client.post(
        f"/store/carts/{cart['id']}",
        json={"email": "grace@example.com", "shipping_address": {**ADDRESS, "phone": "+31 20 123 4567"}},
    )

    assert response.status_code == 200
    updated = response.json()["cart"]
    assert updated["email"] == "grace@example.com"
    assert updated["shipping_address"] == {
        **ADDRESS,
        "country_code": "nl",
        "address_2": None,
        "province": None,
        "phone": "+31 20 123 4567",
    }
    assert await get_cart(client, cart["id"]) == updated


async def test_fields_left_out_keep_their_value(client, demo, new_cart):
    cart = await new_cart("Europe", email="first@example.com")
    await client.post(f"/store/carts/{cart['id']}", json={"shipping_address": ADDRESS})

    response = await client.post(f"/store/carts/{cart['id']}", json={"email": "second@example.com"})

    updated = response.json()["cart"]
    assert updated["email"] == "second@example.com"
    assert updated["shipping_address"]["city"] == "Amsterdam"


# --- completed carts ---------------------------------------------------------------------


@pytest.fixture
async def completed_cart(session, new_cart):
    cart = await new_cart("Europe", ("GT-RBM-SAND", 1))
    async with session.begin():
        await session.execute(
            update(Cart).where(Cart.id == cart["id"]).values(completed_at=datetime.now(UTC))
        )
    return cart


async def test_a_completed_cart_refuses_every_change(client, demo, completed_cart):
    cart_url = f"/store/carts/{completed_cart['id']}"
    item_id = completed_cart["items"][0]["id"]
    attempts = [
        client.post(
            f"{cart_url}/line-items", json={"variant_id": demo.variants["GT-RBM-SLATE"], "quantity": 1}
        ),
        client.post(f"{cart_url}/line-items/{item_id}", json={"quantity": 2}),
        client.delete(f"{cart_url}/line-items/{item_id}"),
        client.post(cart_url, json={"email": "late@example.com"}),
        client.post(
            f"{cart_url}/shipping-methods", json={"option_id": demo.shipping_options["Europe", "Standard"]}
        ),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "cart_completed"

    cart = await get_cart(client, completed_cart["id"])
    assert cart["completed_at"] is not None
    assert cart["version"] == completed_cart["version"]
    assert cart["items"] == completed_cart["items"]


# --- concurrency -------------------------------------------------------------------------


async def test_concurrent_adds_to_one_cart_lose_no_update(client, demo, new_cart):
    cart = await new_cart("Europe")
    adds = 8

    responses = await asyncio.gather(
        *(
            client.post(
                f"/store/carts/{cart['id']}/line-items",
                json={"variant_id": demo.variants["GT-CBT-SLATE-BATH"], "quantity": 3},
            )
            for _ in range(adds)
        )
    )

    assert [response.status_code for response in responses] == [200] * adds
    final = await get_cart(client, cart["id"])
    assert [(item["sku"], item["quantity"]) for item in final["items"]] == [("GT-CBT-SLATE-BATH", 3 * adds)]
    assert final["version"] == 1 + adds
    assert final["subtotal"] == 3 * adds * 2900


async def test_concurrent_adds_of_different_variants_all_land(client, demo, new_cart):
    cart = await new_cart("United States")
    skus = [
        "GT-CBT-SAND-HAND",
        "GT-CBT-SAGE-HAND",
        "GT-CBT-SLATE-HAND",
        "GT-WWT-WHITE-HAND",
        "GT-WWT-CLAY-HAND",
    ]

    responses = await asyncio.gather(
        *(
            client.post(
                f"/store/carts/{cart['id']}/line-items",
                json={"variant_id": demo.variants[sku], "quantity": 2},
            )
            for sku in skus
        )
    )

    assert {response.status_code for response in responses} == {200}
    final = await get_cart(client, cart["id"])
    assert sorted(item["sku"] for item in final["items"]) == sorted(skus)
    assert final["version"] == 1 + len(skus)

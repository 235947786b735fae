"""GET /store/products and /store/products/{id or handle}: listing, search, prices, availability."""

from __future__ import annotations

import secrets

import pytest

from domain.ids import new_id
from models import InventoryItem, Product, ProductVariant, VariantPrice
from services.inventory import create_level
from tests.conftest import TEST_ACTOR

SEEDED_HANDLES = {
    "classic-bath-towel",
    "waffle-weave-towel",
    "turkish-beach-towel",
    "linen-kitchen-towel",
    "organic-bath-sheet",
    "hooded-kids-towel",
    "ribbed-bath-mat",
}


def variants_by_sku(products):
    return {variant["sku"]: variant for product in products for variant in product["variants"]}


async def list_all(client, **params):
    response = await client.get("/store/products", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


# --- listing and shape -------------------------------------------------------------------


async def test_lists_published_products_with_variants_and_images(client, demo):
    body = await list_all(client)

    handles = {product["handle"] for product in body["products"]}
    assert handles >= SEEDED_HANDLES
    assert "towel-gift-set" not in handles  # a draft
    assert body["count"] == len(body["products"])
    assert (body["limit"], body["offset"]) == (100, 0)
    towel = next(p for p in body["products"] if p["handle"] == "classic-bath-towel")
    assert set(towel) >= {"id", "handle", "title", "description", "images", "variants"}
    assert towel["images"] and all(image["url"].startswith("/media/") for image in towel["images"])
    assert [option["title"] for option in towel["options"]] == ["Colour", "Size"]
    assert len(towel["variants"]) == 6
    variant = towel["variants"][0]
    assert set(variant) >= {"id", "sku", "title", "calculated_price", "inventory"}
    assert [value["value"] for value in variant["options"]] == ["Sand", "Hand"]


async def test_without_a_region_prices_and_inventory_are_null(client, demo):
    body = await list_all(client)

    variants = variants_by_sku(body["products"])
    assert len(variants) >= 20
    assert all(v["calculated_price"] is None and v["inventory"] is None for v in variants.values())


@pytest.mark.parametrize(
    ("region", "amount", "currency"),
    [("Europe", 2900, "eur"), ("United States", 3200, "usd"), ("Japan", 4600, "jpy")],
)
async def test_prices_are_minor_units_in_the_regions_currency(client, demo, region, amount, currency):
    body = await list_all(client, region_id=demo.regions[region])

    price = variants_by_sku(body["products"])["GT-CBT-SAND-BATH"]["calculated_price"]
    assert price == {"amount": amount, "currency_code": currency}


async def test_a_variant_without_a_price_in_the_currency_has_no_calculated_price(client, demo):
    japan = variants_by_sku((await list_all(client, region_id=demo.regions["Japan"]))["products"])
    europe = variants_by_sku((await list_all(client, region_id=demo.regions["Europe"]))["products"])

    assert japan["GT-LKT-CHARCOAL"]["calculated_price"] is None
    assert europe["GT-LKT-CHARCOAL"]["calculated_price"] == {"amount": 1200, "currency_code": "eur"}


async def test_backorderable_and_out_of_stock_variants_show_as_such(client, demo):
    variants = variants_by_sku((await list_all(client, region_id=demo.regions["Europe"]))["products"])

    assert variants["GT-OBS-MOSS"]["inventory"] == {"available": 0, "allow_backorder": True}
    assert variants["GT-HKT-WHALE"]["inventory"] == {"available": 0, "allow_backorder": False}
    assert variants["GT-CBT-SAND-BATH"]["inventory"]["available"] > 0


async def test_inventory_comes_from_the_regions_warehouse(client, demo):
    europe = variants_by_sku((await list_all(client, region_id=demo.regions["Europe"]))["products"])
    usa = variants_by_sku((await list_all(client, region_id=demo.regions["United States"]))["products"])

    # Coral is stocked only in the EU warehouse; the US channel never falls back to it.
    assert europe["GT-TBT-CORAL"]["inventory"] == {"available": 25, "allow_backorder": False}
    assert usa["GT-TBT-CORAL"]["inventory"] == {"available": 0, "allow_backorder": False}


# --- availability from the mapped location only ------------------------------------------


@pytest.fixture
async def probe_variant(session, demo):
    """A fresh published variant stocked at the EU warehouse only (so tests can change its stock)."""
    suffix = secrets.token_hex(4)
    product = Product(
        id=new_id("prod"), handle=f"location-probe-{suffix}", title=f"Location Probe {suffix}", description=""
    )
    variant = ProductVariant(id=new_id("variant"), product_id=product.id, sku=f"PROBE-{suffix}", title="One")
    item = InventoryItem(id=new_id("iitem"), variant_id=variant.id)
    async with session.begin():
        session.add(product)
        await session.flush()
        session.add(variant)
        await session.flush()
        session.add_all(
            [
                VariantPrice(id=new_id("price"), variant_id=variant.id, currency_code="usd", amount=1000),
                VariantPrice(id=new_id("price"), variant_id=variant.id, currency_code="eur", amount=900),
                item,
            ]
        )
        await session.flush()
        level = await create_level(
            session,
            inventory_item_id=item.id,
            location_id=demo.locations["Rotterdam warehouse"],
            stocked_quantity=7,
            allow_backorder=False,
            actor=TEST_ACTOR,
        )
        level.reserved_quantity = 2  # as if a checkout held two (reservations are not the point here)
    return {"product_id": product.id, "variant_id": variant.id, "item_id": item.id, "handle": product.handle}


async def probe_inventory(client, probe, region_id):
    response = await client.get(f"/store/products/{probe['handle']}", params={"region_id": region_id})
    assert response.status_code == 200, response.text
    [variant] = response.json()["product"]["variants"]
    return variant["inventory"]


async def test_availability_counts_only_the_mapped_location(client, session, demo, probe_variant):
    europe, usa = demo.regions["Europe"], demo.regions["United States"]

    # Only an EU level: Europe sees stocked - reserved, the US sees nothing.
    assert await probe_inventory(client, probe_variant, europe) == {"available": 5, "allow_backorder": False}
    assert await probe_inventory(client, probe_variant, usa) == {"available": 0, "allow_backorder": False}

    async with session.begin():
        await create_level(
            session,
            inventory_item_id=probe_variant["item_id"],
            location_id=demo.locations["Newark warehouse"],
            stocked_quantity=40,
            allow_backorder=True,
            actor=TEST_ACTOR,
        )

    # Now each region sees its own warehouse, never the sum or the other one.
    assert await probe_inventory(client, probe_variant, europe) == {"available": 5, "allow_backorder": False}
    assert await probe_inventory(client, probe_variant, usa) == {"available": 40, "allow_backorder": True}


async def test_cannot_add_more_than_the_mapped_location_has(client, demo, new_cart, probe_variant):
    cart = await new_cart("United States")

    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": probe_variant["variant_id"], "quantity": 1},
    )

    # 5 available in Rotterdam do not help a US cart.
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_inventory"


# --- pagination and search ---------------------------------------------------------------


async def test_pages_through_the_whole_listing_without_gaps_or_repeats(client, demo):
    everything = await list_all(client)
    seen = []
    for offset in range(0, everything["count"] + 2, 2):
        response = await client.get("/store/products", params={"limit": 2, "offset": offset})
        assert response.status_code == 200
        page = response.json()
        assert page["count"] == everything["count"]
        assert (page["limit"], page["offset"]) == (2, offset)
        assert len(page["products"]) <= 2
        seen += [product["id"] for product in page["products"]]

    # Every product once, in the listing's order (its first page of 100 is `everything`'s; the
    # session may hold more products than one page, made by other tests).
    assert len(seen) == len(set(seen)) == everything["count"]
    assert seen[: len(everything["products"])] == [product["id"] for product in everything["products"]]


async def test_default_limit_is_20(client, demo):
    body = (await client.get("/store/products")).json()

    assert (body["limit"], body["offset"]) == (20, 0)


async def test_offset_past_the_end_is_an_empty_page(client, demo):
    body = (await client.get("/store/products", params={"offset": 10_000})).json()

    assert body["products"] == []
    assert body["count"] >= len(SEEDED_HANDLES)


@pytest.mark.parametrize("q", ["towel", "TOWEL", "ToWeL"])
async def test_search_matches_titles_case_insensitively(client, demo, q):
    body = await list_all(client, q=q)

    handles = {product["handle"] for product in body["products"]}
    # Other tests add products of their own, so only the seeded ones are pinned down.
    assert handles & SEEDED_HANDLES == SEEDED_HANDLES - {"organic-bath-sheet", "ribbed-bath-mat"}
    assert all("towel" in product["title"].lower() for product in body["products"])
    assert body["count"] == len(handles)


async def test_search_narrows_the_listing(client, demo):
    body = await list_all(client, q="beach")

    assert "turkish-beach-towel" in [product["handle"] for product in body["products"]]
    assert all("beach" in product["title"].lower() for product in body["products"])
    assert body["count"] == len(body["products"]) < (await list_all(client))["count"]


@pytest.mark.parametrize("q", ["%", "_", "zebra"])
async def test_search_wildcards_are_literal_and_no_match_is_empty(client, demo, q):
    body = await list_all(client, q=q)

    assert body == {"products": [], "count": 0, "limit": 100, "offset": 0}


async def test_search_does_not_find_drafts(client, demo):
    assert (await list_all(client, q="gift set"))["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": "2.5"},
        {"offset": -1},
        {"offset": "x"},
        {"offset": 10**30},
        {"q": "x" * 201},
        {"q": "towel\x00"},
    ],
)
async def test_invalid_listing_parameters_are_a_400(client, demo, params):
    response = await client.get("/store/products", params=params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_unknown_region_is_a_404(client, demo):
    for region_id in ["reg_01NOTAREGION0000000000000", "x" * 300]:
        response = await client.get("/store/products", params={"region_id": region_id})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "region_not_found"


async def test_a_nul_in_a_path_or_query_value_is_a_400_before_any_lookup(client, demo):
    """The schema says no path or query value holds NUL (PostgreSQL cannot compare it)."""
    for response in (
        await client.get("/store/products", params={"region_id": "reg\x00"}),
        await client.get("/store/products/%00"),
        await client.get("/store/carts/%00"),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_request"


# --- one product -------------------------------------------------------------------------


async def test_gets_a_product_by_handle_or_by_id(client, demo):
    by_handle = await client.get(
        "/store/products/hooded-kids-towel", params={"region_id": demo.regions["Japan"]}
    )
    assert by_handle.status_code == 200
    product = by_handle.json()["product"]

    by_id = await client.get(f"/store/products/{product['id']}", params={"region_id": demo.regions["Japan"]})

    assert by_id.json() == by_handle.json()
    fox = variants_by_sku([product])["GT-HKT-FOX"]
    assert fox["calculated_price"] == {"amount": 3200, "currency_code": "jpy"}


@pytest.mark.parametrize(
    "key", ["no-such-towel", "prod_01NOTAPRODUCT000000000000", "towel-gift-set", "a" * 300]
)
async def test_unknown_or_draft_product_is_a_404(client, demo, key):
    response = await client.get(f"/store/products/{key}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "product_not_found"


async def test_one_product_with_an_unknown_region_is_a_404(client, demo):
    response = await client.get("/store/products/classic-bath-towel", params={"region_id": "reg_nope"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "region_not_found"

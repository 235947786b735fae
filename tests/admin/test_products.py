"""Products through the admin API: create, publish, archive, variants, prices; the store follows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import get_sessionmaker
from models import InventoryAdjustment
from tests.admin.conftest import PRICES, Operator, product_body, row_counts, unique


async def test_a_product_is_created_with_its_variants_prices_and_first_stock(
    admin: Operator, warehouses
) -> None:
    body = product_body(warehouses, stock=7)

    product = await admin.create_product(body)

    assert (product["handle"], product["title"], product["status"]) == (
        body["handle"],
        body["title"],
        "published",
    )
    assert product["description"] == "Soft.\nVery soft."
    assert [option["title"] for option in product["options"]] == ["Colour"]
    assert [value["value"] for value in product["options"][0]["values"]] == ["Sand", "Sage"]
    assert [variant["sku"] for variant in product["variants"]] == [v["sku"] for v in body["variants"]]
    for variant in product["variants"]:
        assert variant["prices"] == sorted(PRICES, key=lambda price: price["currency_code"])
        assert sorted(level["location_id"] for level in variant["inventory"]) == sorted(warehouses.values())
        assert {
            (level["stocked_quantity"], level["reserved_quantity"]) for level in variant["inventory"]
        } == {(7, 0)}
        assert variant["options"][0]["value"] == variant["title"]
    # Each level's first stock is its ledger's `initial` row, made by the key's name.
    level_id = product["variants"][0]["inventory"][0]["id"]
    async with get_sessionmaker()() as session:
        ledger = (
            await session.scalars(
                select(InventoryAdjustment).where(InventoryAdjustment.inventory_level_id == level_id)
            )
        ).all()
    assert [(row.reason, row.delta, row.actor) for row in ledger] == [("initial", 7, "test-admin")]

    audit = (await admin.request("GET", "/admin/audit-log", params={"entity_id": product["id"]})).json()
    assert [(entry["action"], entry["actor"]) for entry in audit["entries"]] == [
        ("product.create", "test-admin")
    ]
    assert audit["entries"][0]["data"]["handle"] == body["handle"]


async def test_the_handle_is_made_from_the_title_when_left_out(admin: Operator, warehouses) -> None:
    token = unique()
    body = product_body(warehouses, title=f"Café Towel ÆØ {token}")
    del body["handle"]

    product = await admin.create_product(body)

    assert product["handle"] == f"cafe-towel-aeo-{token}"


async def test_draft_and_archived_products_are_not_in_the_store(admin: Operator, client, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses, status="draft"))
    by_id, by_handle = f"/store/products/{product['id']}", f"/store/products/{product['handle']}"
    assert (await client.get(by_id)).status_code == 404

    published = await admin.request("POST", f"/admin/products/{product['id']}", json={"status": "published"})
    assert published.status_code == 200, published.text
    assert (await client.get(by_id)).status_code == 200
    store = (await client.get(by_handle)).json()["product"]
    assert [variant["sku"] for variant in store["variants"]] == [v["sku"] for v in product["variants"]]

    archived = await admin.request("DELETE", f"/admin/products/{product['id']}")
    assert archived.status_code == 200, archived.text
    assert archived.json()["product"]["status"] == "archived"
    for url in (by_id, by_handle):
        response = await client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "product_not_found"
    listed = await client.get("/store/products", params={"q": product["title"]})
    assert listed.json()["count"] == 0
    # The admin still sees it, under its status.
    assert (await admin.request("GET", f"/admin/products/{product['id']}")).json()["product"][
        "status"
    ] == "archived"
    archived_list = (
        await admin.request("GET", "/admin/products", params={"status": "archived", "q": product["title"]})
    ).json()
    assert [p["id"] for p in archived_list["products"]] == [product["id"]]
    actions = [
        entry["action"]
        for entry in (
            await admin.request("GET", "/admin/audit-log", params={"entity_id": product["id"]})
        ).json()["entries"]
    ]
    assert actions == ["product.archive", "product.update", "product.create"]


async def test_an_archived_product_comes_back_only_as_a_draft(admin: Operator, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses))
    await admin.request("DELETE", f"/admin/products/{product['id']}")

    refused = await admin.request("POST", f"/admin/products/{product['id']}", json={"status": "published"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_status_transition"

    draft = await admin.request("POST", f"/admin/products/{product['id']}", json={"status": "draft"})
    assert draft.json()["product"]["status"] == "draft"


async def test_a_cart_holding_an_archived_product_cannot_be_paid(
    admin: Operator, client, demo, warehouses
) -> None:
    product = await admin.create_product(product_body(warehouses))
    cart = (await client.post("/store/carts", json={"region_id": demo.regions["Europe"]})).json()["cart"]
    variant_id = product["variants"][0]["id"]
    added = await client.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert added.status_code == 200
    await admin.request("DELETE", f"/admin/products/{product['id']}")
    await client.post(f"/store/carts/{cart['id']}", json={"email": "buyer@example.com"})
    option = demo.shipping_options["Europe", "Standard"]
    await client.post(f"/store/carts/{cart['id']}/shipping-methods", json={"option_id": option})

    refused = await client.post(f"/store/carts/{cart['id']}/payment-sessions")

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "variant_unavailable"
    again = await client.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert again.json()["error"]["code"] == "variant_not_found"


@pytest.mark.parametrize("taken", ["handle", "sku", "sku_in_the_same_request"])
async def test_a_duplicate_handle_or_sku_is_409_and_writes_nothing(
    admin: Operator, warehouses, taken
) -> None:
    first = await admin.create_product(product_body(warehouses))
    body = product_body(warehouses)
    if taken == "handle":
        body["handle"] = first["handle"]
    elif taken == "sku":
        body["variants"][1]["sku"] = first["variants"][0]["sku"]
    else:
        body["variants"][1]["sku"] = body["variants"][0]["sku"]
    before = await row_counts()

    response = await admin.request("POST", "/admin/products", json=body)

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == ("handle_taken" if taken == "handle" else "sku_taken")
    assert await row_counts() == before


async def test_changing_to_a_taken_handle_or_sku_is_409(admin: Operator, warehouses) -> None:
    first = await admin.create_product(product_body(warehouses))
    second = await admin.create_product(product_body(warehouses))

    handle = await admin.request("POST", f"/admin/products/{second['id']}", json={"handle": first["handle"]})
    sku = await admin.request(
        "POST", f"/admin/variants/{second['variants'][0]['id']}", json={"sku": first["variants"][0]["sku"]}
    )

    assert (handle.status_code, handle.json()["error"]["code"]) == (409, "handle_taken")
    assert (sku.status_code, sku.json()["error"]["code"]) == (409, "sku_taken")
    unchanged = (await admin.request("GET", f"/admin/products/{second['id']}")).json()["product"]
    assert unchanged["handle"] == second["handle"]
    assert unchanged["variants"][0]["sku"] == second["variants"][0]["sku"]


async def test_a_product_is_updated_and_the_audit_log_says_what_changed(admin: Operator, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses))
    handle = unique()

    updated = await admin.request(
        "POST", f"/admin/products/{product['id']}", json={"title": "Renamed towel", "handle": handle}
    )

    assert updated.status_code == 200, updated.text
    assert (updated.json()["product"]["title"], updated.json()["product"]["handle"]) == (
        "Renamed towel",
        handle,
    )
    [entry, _] = (await admin.request("GET", "/admin/audit-log", params={"entity_id": product["id"]})).json()[
        "entries"
    ]
    assert entry["action"] == "product.update"
    assert entry["data"] == {
        "title": [product["title"], "Renamed towel"],
        "handle": [product["handle"], handle],
    }


async def test_a_variant_is_added_with_a_new_option_value(admin: Operator, client, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses))
    sku = unique().upper()

    added = await admin.request(
        "POST",
        f"/admin/products/{product['id']}/variants",
        json={
            "title": "Moss",
            "sku": sku,
            "options": {"Colour": "Moss"},
            "prices": [{"currency_code": "eur", "amount": 2700}],
            "inventory": [{"location_id": warehouses["Rotterdam warehouse"], "stocked_quantity": 3}],
        },
    )

    assert added.status_code == 201, added.text
    variant = added.json()["variant"]
    assert (variant["sku"], variant["prices"], variant["options"][0]["value"]) == (
        sku,
        [{"currency_code": "eur", "amount": 2700}],
        "Moss",
    )
    assert [level["stocked_quantity"] for level in variant["inventory"]] == [3]
    store = (await client.get(f"/store/products/{product['id']}")).json()["product"]
    assert [value["value"] for value in store["options"][0]["values"]] == ["Sand", "Sage", "Moss"]
    assert store["variants"][-1]["sku"] == sku


@pytest.mark.parametrize(
    ("options", "status", "code"),
    [
        ({"Colour": "Sand"}, 409, "variant_options_taken"),
        ({}, 400, "variant_options_mismatch"),
        ({"Colour": "Moss", "Size": "Bath"}, 400, "variant_options_mismatch"),
    ],
)
async def test_a_variant_must_fit_the_products_options(
    admin: Operator, warehouses, options, status, code
) -> None:
    product = await admin.create_product(product_body(warehouses))
    before = await row_counts()

    response = await admin.request(
        "POST",
        f"/admin/products/{product['id']}/variants",
        json={"title": "Another", "sku": unique().upper(), "options": options},
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert await row_counts() == before


async def test_a_price_is_replaced_in_one_currency_only(admin: Operator, client, demo, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses))
    variant = product["variants"][0]

    response = await admin.request(
        "POST",
        f"/admin/variants/{variant['id']}",
        json={"prices": [{"currency_code": "eur", "amount": 1999}, {"currency_code": "gbp", "amount": 2100}]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["variant"]["prices"] == [
        {"currency_code": "eur", "amount": 1999},
        {"currency_code": "gbp", "amount": 2100},
        {"currency_code": "jpy", "amount": 3600},
        {"currency_code": "usd", "amount": 2900},
    ]
    store = (
        await client.get(f"/store/products/{product['id']}", params={"region_id": demo.regions["Europe"]})
    ).json()["product"]
    assert store["variants"][0]["calculated_price"] == {"amount": 1999, "currency_code": "eur"}
    [entry, *_] = (
        await admin.request("GET", "/admin/audit-log", params={"entity_id": variant["id"]})
    ).json()["entries"]
    assert (entry["action"], entry["data"]) == (
        "variant.update",
        {"prices": {"eur": [2500, 1999], "gbp": [None, 2100]}},
    )


async def test_a_deleted_variant_leaves_the_store_and_frees_its_sku(
    admin: Operator, client, warehouses
) -> None:
    product = await admin.create_product(product_body(warehouses))
    sand, sage = product["variants"]

    deleted = await admin.request("DELETE", f"/admin/variants/{sand['id']}")

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["variant"]["deleted_at"] is not None
    assert [
        v["id"]
        for v in (await admin.request("GET", f"/admin/products/{product['id']}")).json()["product"][
            "variants"
        ]
    ] == [sage["id"]]
    assert [
        v["id"] for v in (await client.get(f"/store/products/{product['id']}")).json()["product"]["variants"]
    ] == [sage["id"]]
    again = await admin.request("DELETE", f"/admin/variants/{sand['id']}")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "variant_not_found")
    levels = (await admin.request("GET", "/admin/inventory-levels", params={"sku": sand["sku"]})).json()
    assert levels["inventory_levels"] == []

    # The colour comes back: its old SKU is free again.
    readded = await admin.request(
        "POST",
        f"/admin/products/{product['id']}/variants",
        json={"title": "Sand", "sku": sand["sku"], "options": {"Colour": "Sand"}},
    )
    assert readded.status_code == 201, readded.text
    assert readded.json()["variant"]["id"] != sand["id"]


async def test_first_stock_at_an_unknown_location_is_404_and_writes_nothing(
    admin: Operator, warehouses
) -> None:
    body = product_body(warehouses)
    body["variants"][1]["inventory"] = [{"location_id": "sloc_nowhere", "stocked_quantity": 1}]
    before = await row_counts()

    response = await admin.request("POST", "/admin/products", json=body)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "stock_location_not_found")
    assert await row_counts() == before

"""Stock through the admin API: levels, adjustments (atomic, never below the reserved units where
backorders are off), the ledger, backorders and a new location's level."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from core.db import get_sessionmaker
from models import InventoryLevel
from tests.admin.conftest import EU_WAREHOUSE, US_WAREHOUSE, Operator, product_body, row_counts


async def _eu_level(admin: Operator, warehouses, *, stock: int = 10) -> dict:
    product = await admin.create_product(product_body(warehouses, stock=stock))
    sku = product["variants"][0]["sku"]
    levels = (
        await admin.request(
            "GET", "/admin/inventory-levels", params={"sku": sku, "location_id": warehouses[EU_WAREHOUSE]}
        )
    ).json()["inventory_levels"]
    [level] = levels
    return level


async def test_levels_are_listed_by_sku_location_and_low_stock(admin: Operator, warehouses) -> None:
    product = await admin.create_product(product_body(warehouses, stock=4))
    sand = product["variants"][0]

    by_sku = (await admin.request("GET", "/admin/inventory-levels", params={"sku": sand["sku"]})).json()
    assert {level["location_id"] for level in by_sku["inventory_levels"]} == set(warehouses.values())
    assert by_sku["inventory_levels"][0] == {
        "id": by_sku["inventory_levels"][0]["id"],
        "sku": sand["sku"],
        "variant_id": sand["id"],
        "location_id": by_sku["inventory_levels"][0]["location_id"],
        "stocked_quantity": 4,
        "reserved_quantity": 0,
        "available": 4,
        "allow_backorder": False,
    }
    low = (
        await admin.request(
            "GET",
            "/admin/inventory-levels",
            params={"low_stock": 4, "location_id": warehouses[US_WAREHOUSE], "limit": 500},
        )
    ).json()["inventory_levels"]
    assert sand["sku"] in {level["sku"] for level in low}
    assert all(level["available"] <= 4 and level["location_id"] == warehouses[US_WAREHOUSE] for level in low)
    lower = (
        await admin.request("GET", "/admin/inventory-levels", params={"low_stock": 3, "sku": sand["sku"]})
    ).json()
    assert lower["inventory_levels"] == []


async def test_an_adjustment_is_a_ledger_row_with_its_actor(admin: Operator, warehouses) -> None:
    level = await _eu_level(admin, warehouses, stock=10)
    url = f"/admin/inventory-levels/{level['id']}/adjustments"

    delivered = await admin.request(
        "POST", url, json={"delta": 24, "reason": "adjustment", "note": "PO-1001"}
    )
    damaged = await admin.request("POST", url, json={"delta": -2, "reason": "adjustment"})

    assert delivered.status_code == damaged.status_code == 201, delivered.text
    assert damaged.json()["inventory_level"]["stocked_quantity"] == 32
    ledger = (await admin.request("GET", url)).json()["adjustments"]
    assert [
        (row["delta"], row["reason"], row["note"], row["actor"], row["stocked_after"]) for row in ledger
    ] == [
        (-2, "adjustment", None, "test-admin", 32),
        (24, "adjustment", "PO-1001", "test-admin", 34),
        (10, "initial", None, "test-admin", 10),
    ]


async def test_20_concurrent_adjustments_all_land(admin: Operator, warehouses) -> None:
    level = await _eu_level(admin, warehouses, stock=5)
    url = f"/admin/inventory-levels/{level['id']}/adjustments"
    deltas = list(range(1, 21))

    responses = await asyncio.gather(
        *(admin.request("POST", url, json={"delta": delta, "reason": "adjustment"}) for delta in deltas)
    )

    assert [response.status_code for response in responses] == [201] * 20
    after = (await admin.request("GET", f"/admin/inventory-levels/{level['id']}")).json()["inventory_level"]
    assert after["stocked_quantity"] == 5 + sum(deltas)
    ledger = sorted(
        (await admin.request("GET", url)).json()["adjustments"], key=lambda row: row["stocked_after"]
    )
    # Each change started from the stock the one before it left: a chain, no update lost.
    assert [row["stocked_after"] - row["delta"] for row in ledger[1:]] == [
        row["stocked_after"] for row in ledger[:-1]
    ]
    assert sorted(row["delta"] for row in ledger[1:]) == deltas


async def test_stock_cannot_go_below_what_checkouts_hold_without_backorders(
    admin: Operator, warehouses
) -> None:
    level = await _eu_level(admin, warehouses, stock=5)
    async with get_sessionmaker()() as session, session.begin():
        # As a checkout's reservation leaves it (services.inventory.sync_reservation).
        await session.execute(
            update(InventoryLevel).where(InventoryLevel.id == level["id"]).values(reserved_quantity=3)
        )
    url = f"/admin/inventory-levels/{level['id']}/adjustments"
    before = await row_counts()

    refused = await admin.request("POST", url, json={"delta": -3, "reason": "adjustment"})

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "insufficient_stock"
    assert await row_counts() == before
    allowed = await admin.request("POST", url, json={"delta": -2, "reason": "adjustment"})
    assert allowed.json()["inventory_level"]["available"] == 0


async def test_backorders_let_stock_go_below_zero_and_are_recorded(admin: Operator, warehouses) -> None:
    level = await _eu_level(admin, warehouses, stock=1)
    url = f"/admin/inventory-levels/{level['id']}"

    on = await admin.request("POST", url, json={"allow_backorder": True})
    below = await admin.request("POST", f"{url}/adjustments", json={"delta": -4, "reason": "adjustment"})
    off = await admin.request("POST", url, json={"allow_backorder": False})

    assert on.json()["inventory_level"]["allow_backorder"] is True
    assert below.json()["inventory_level"]["stocked_quantity"] == -3
    assert (off.status_code, off.json()["error"]["code"]) == (409, "insufficient_stock")
    entries = (await admin.request("GET", "/admin/audit-log", params={"entity_id": level["id"]})).json()[
        "entries"
    ]
    assert [(entry["action"], entry["actor"], entry["data"]) for entry in entries] == [
        ("inventory_level.update", "test-admin", {"allow_backorder": [False, True]})
    ]


async def test_a_variant_is_stocked_at_another_location(admin: Operator, warehouses) -> None:
    body = product_body(warehouses)
    for variant in body["variants"]:
        variant["inventory"] = [{"location_id": warehouses[EU_WAREHOUSE], "stocked_quantity": 2}]
    variant = (await admin.create_product(body))["variants"][0]
    new_level = {"variant_id": variant["id"], "location_id": warehouses[US_WAREHOUSE], "stocked_quantity": 6}

    created = await admin.request("POST", "/admin/inventory-levels", json=new_level)
    again = await admin.request("POST", "/admin/inventory-levels", json=new_level)

    assert created.status_code == 201, created.text
    assert created.json()["inventory_level"]["stocked_quantity"] == 6
    assert (again.status_code, again.json()["error"]["code"]) == (409, "inventory_level_exists")
    ledger = (
        await admin.request(
            "GET", f"/admin/inventory-levels/{created.json()['inventory_level']['id']}/adjustments"
        )
    ).json()
    assert [(row["reason"], row["delta"]) for row in ledger["adjustments"]] == [("initial", 6)]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/admin/inventory-levels/ilev_missing"),
        ("GET", "/admin/inventory-levels/ilev_missing/adjustments"),
        ("POST", "/admin/inventory-levels/ilev_missing/adjustments"),
        ("POST", "/admin/inventory-levels/ilev_missing"),
    ],
)
async def test_an_unknown_level_is_404(admin: Operator, method: str, url: str) -> None:
    body = {"delta": 1, "reason": "adjustment"} if url.endswith("adjustments") else {"allow_backorder": True}

    response = await admin.request(method, url, json=body if method == "POST" else None)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "inventory_level_not_found")

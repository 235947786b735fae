"""Every admin input rule: each refusal is a 4xx with a code, and nothing is written.

Text: bounded, printable (no C0/C1 controls, DEL). Handles: `^[a-z0-9]+(-[a-z0-9]+)*$`. SKUs:
`^[A-Za-z0-9][A-Za-z0-9._-]*$`. Currency codes: ones domain.money knows. Amounts: strict
integers (no float, no "12", no bool) in 0..99,999,999; three-decimal currencies in tens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.admin.conftest import Operator, product_body, row_counts, unique

Body = Callable[[dict[str, Any]], Any]


def _variant(**changes: Any) -> Body:
    """A product body whose first variant has `changes`."""

    def body(ctx: dict[str, Any]) -> dict[str, Any]:
        product = product_body(ctx["warehouses"])
        product["variants"][0].update(changes)
        return product

    return body


def _product(**changes: Any) -> Body:
    return lambda ctx: product_body(ctx["warehouses"], **changes)


def _price(currency_code: Any, amount: Any) -> Body:
    return _variant(prices=[{"currency_code": currency_code, "amount": amount}])


# (route, body, what it shows)
CASES: list[tuple[str, Body, str]] = [
    ("POST /admin/products", _product(title="Towel\x1e"), "a control character in a title"),
    ("POST /admin/products", _product(title="Towel\x00"), "a NUL in a title"),
    ("POST /admin/products", _product(title="Tow\x85el"), "a C1 control in a title"),
    ("POST /admin/products", _product(title="x" * 301), "a title over 300 characters"),
    ("POST /admin/products", _product(title="   "), "a blank title"),
    ("POST /admin/products", _product(description="bell\x07"), "a control character in a description"),
    ("POST /admin/products", _product(handle="Bath-Towel"), "upper case in a handle"),
    ("POST /admin/products", _product(handle="bath--towel"), "a double hyphen in a handle"),
    ("POST /admin/products", _product(handle="bath_towel"), "an underscore in a handle"),
    ("POST /admin/products", _product(status="sold"), "an unknown status"),
    ("POST /admin/products", _product(variants=[]), "no variant"),
    ("POST /admin/products", _product(price=100), "an unknown field"),
    ("POST /admin/products", _variant(sku="-GT"), "a SKU starting with a hyphen"),
    ("POST /admin/products", _variant(sku="GT OBS"), "a space in a SKU"),
    ("POST /admin/products", _variant(sku="GT/OBS"), "a slash in a SKU"),
    ("POST /admin/products", _variant(options={"Colour": "Moss"}), "a value the option does not list"),
    ("POST /admin/products", _variant(options={}), "a variant without the product's option"),
    ("POST /admin/products", _variant(title="Sage", options={"Colour": "Sage"}), "two variants alike"),
    ("POST /admin/products", _price("xxq", 100), "an unknown currency"),
    ("POST /admin/products", _price("eu", 100), "a two-letter currency"),
    ("POST /admin/products", _price("eur", 12.5), "a float amount"),
    ("POST /admin/products", _price("eur", 12.0), "a whole float amount"),
    ("POST /admin/products", _price("eur", "12"), "an amount as a string"),
    ("POST /admin/products", _price("eur", True), "a bool amount"),
    ("POST /admin/products", _price("eur", -1), "a negative amount"),
    ("POST /admin/products", _price("eur", 100_000_000), "an amount above 99,999,999"),
    ("POST /admin/products", _price("bhd", 1005), "a three-decimal amount Stripe cannot charge"),
    (
        "POST /admin/products",
        _variant(prices=[{"currency_code": "eur", "amount": 1}, {"currency_code": "EUR", "amount": 2}]),
        "two prices in one currency",
    ),
    (
        "POST /admin/products",
        lambda ctx: product_body(ctx["warehouses"], stock=-1),
        "a negative first stock",
    ),
    (
        "POST /admin/variants/{variant_id}",
        lambda ctx: {"prices": [{"currency_code": "eur", "amount": 1.5}]},
        "a float price",
    ),
    ("POST /admin/variants/{variant_id}", lambda ctx: {"sku": "GT OBS"}, "a bad SKU"),
    ("POST /admin/variants/{variant_id}", lambda ctx: {"title": "a\x1fb"}, "a control character"),
    ("POST /admin/products/{product_id}", lambda ctx: {"handle": "-x"}, "a bad handle"),
    ("POST /admin/products/{product_id}", lambda ctx: {"status": 1}, "a status that is not text"),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": 0, "reason": "adjustment"},
        "a zero delta",
    ),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": 1.0, "reason": "adjustment"},
        "a float delta",
    ),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": "3", "reason": "adjustment"},
        "a delta as a string",
    ),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": 2_000_000, "reason": "adjustment"},
        "a delta above 1,000,000",
    ),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": 1, "reason": "sale"},
        "a reason only checkouts write",
    ),
    ("POST /admin/inventory-levels/{level_id}/adjustments", lambda ctx: {"delta": 1}, "no reason"),
    (
        "POST /admin/inventory-levels/{level_id}/adjustments",
        lambda ctx: {"delta": 1, "reason": "adjustment", "note": "PO\x001"},
        "a NUL in a note",
    ),
    (
        "POST /admin/inventory-levels/{level_id}",
        lambda ctx: {"allow_backorder": "yes"},
        "a backorder flag as text",
    ),
    (
        "POST /admin/inventory-levels/{level_id}",
        lambda ctx: {"allow_backorder": 1},
        "a backorder flag as a number",
    ),
    (
        "POST /admin/stock-locations",
        lambda ctx: {"name": "Dep\not", "country_code": "de"},
        "a newline in a name",
    ),
    (
        "POST /admin/stock-locations",
        lambda ctx: {"name": unique(), "country_code": "zz"},
        "an unknown country",
    ),
    ("POST /admin/sales-channels", lambda ctx: {"name": "x" * 201}, "a name over 200 characters"),
    (
        "POST /admin/regions",
        lambda ctx: {
            "name": unique(),
            "currency_code": "abc",
            "countries": ["mt"],
            "sales_channel_id": ctx["channel"],
        },
        "an unknown region currency",
    ),
    (
        "POST /admin/regions",
        lambda ctx: {
            "name": unique(),
            "currency_code": "eur",
            "countries": ["mt", "xx"],
            "sales_channel_id": ctx["channel"],
        },
        "an unknown country",
    ),
    (
        "POST /admin/regions",
        lambda ctx: {
            "name": unique(),
            "currency_code": "eur",
            "countries": ["mt", "MT"],
            "sales_channel_id": ctx["channel"],
        },
        "a country twice",
    ),
    (
        "POST /admin/regions",
        lambda ctx: {
            "name": unique(),
            "currency_code": "eur",
            "countries": ["mt"],
            "tax_rate_bps": 10_001,
            "sales_channel_id": ctx["channel"],
        },
        "a tax rate above 100 %",
    ),
    (
        "POST /admin/shipping-options",
        lambda ctx: {"region_id": ctx["region"], "name": "Cargo", "amount": 4.95},
        "a float amount",
    ),
    (
        "POST /admin/shipping-options",
        lambda ctx: {"region_id": ctx["region"], "name": "Car\tgo", "amount": 495},
        "a tab in a name",
    ),
    ("POST /admin/api-keys", lambda ctx: {"name": "seed", "role": "admin"}, "a name the system uses"),
    ("POST /admin/api-keys", lambda ctx: {"name": unique(), "role": "owner"}, "an unknown role"),
    (
        "POST /admin/api-keys",
        lambda ctx: {"name": "ci\x1b[31m", "role": "viewer"},
        "an escape sequence in a name",
    ),
]


@pytest.fixture
async def ctx(admin: Operator, warehouses, demo) -> dict[str, Any]:
    product = await admin.create_product(product_body(warehouses))
    return {
        "warehouses": warehouses,
        "product_id": product["id"],
        "variant_id": product["variants"][0]["id"],
        "level_id": product["variants"][0]["inventory"][0]["id"],
        "region": demo.regions["Europe"],
        "channel": (await admin.request("GET", "/admin/sales-channels")).json()["sales_channels"][0]["id"],
    }


@pytest.mark.parametrize(("route", "body", "shows"), CASES, ids=[case[2] for case in CASES])
async def test_bad_input_is_a_400_with_a_code_and_writes_nothing(
    admin: Operator, ctx: dict[str, Any], route: str, body: Body, shows: str
) -> None:
    method, path = route.split(" ")
    before = await row_counts()

    response = await admin.request(method, path.format(**ctx), json=body(ctx))

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["details"], "the refusal says which field"
    assert await row_counts() == before


async def test_a_body_that_is_not_json_is_a_400(admin: Operator) -> None:
    response = await admin.request(
        "POST",
        "/admin/products",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_json")


async def test_a_shipping_amount_the_regions_currency_cannot_charge_is_refused(admin: Operator, ctx) -> None:
    channel = ctx["channel"]
    region = await admin.request(
        "POST",
        "/admin/regions",
        json={"name": unique(), "currency_code": "bhd", "countries": ["bh"], "sales_channel_id": channel},
    )
    assert region.status_code == 201, region.text
    before = await row_counts()

    response = await admin.request(
        "POST",
        "/admin/shipping-options",
        json={"region_id": region.json()["region"]["id"], "name": "Courier", "amount": 1005},
    )

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_amount")
    assert await row_counts() == before


def test_the_schema_states_the_rules(client) -> None:
    from api.main import create_app

    schemas = create_app().openapi()["components"]["schemas"]
    price = schemas["PriceIn"]["properties"]
    assert price["amount"]["minimum"] == 0 and price["amount"]["maximum"] == 99_999_999
    assert price["currency_code"]["pattern"] == "^[A-Za-z]{3}$"
    variant = schemas["NewVariant"]["properties"]
    assert variant["sku"]["pattern"] == r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    assert variant["title"]["maxLength"] == 300
    assert variant["title"]["pattern"] == r"^[^\x00-\x1f\x7f-\x9f]*$"

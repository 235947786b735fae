"""API3 Broken object property level authorization: a store response carries exactly the
properties listed here (an allow-list: a new field fails this test until it is looked at and
added), none internal; and no request can set a property the server owns (unknown fields are
refused, prices and totals are never taken from a client).
"""

from __future__ import annotations

from typing import Any

ORDER_PROPERTIES = [
    "cart_id",
    "created_at",
    "currency_code",
    "email",
    "fulfillment_status",
    "id",
    "items",
    "paid_total",
    "payment_collection",
    "payment_status",
    "refunded_total",
    "shipping_total",
    "status",
    "subtotal",
    "tax_total",
    "total",
    "transactions",
]

# Every object schema a store response can contain -> its properties. Internal fields (stock
# levels, reserved units, the variant's cost, who changed what, key hashes, metadata) are in none.
STORE_RESPONSE_PROPERTIES: dict[str, list[str]] = {
    "AddressOut": [
        "address_1",
        "address_2",
        "city",
        "country_code",
        "first_name",
        "last_name",
        "phone",
        "postal_code",
        "province",
    ],
    "CartOut": [
        "completed_at",
        "currency_code",
        "email",
        "id",
        "items",
        "region_id",
        "shipping_address",
        "shipping_method",
        "shipping_total",
        "subtotal",
        "tax_total",
        "total",
        "version",
    ],
    "CartResponse": ["cart"],
    "CompleteResponse": ["order", "type"],
    "CountryOut": ["iso_2", "name"],
    "CurrencyOut": ["currency_code", "exponent"],
    "ImageOut": ["id", "url"],
    "InventoryOut": ["allow_backorder", "available"],
    "LineItemOut": ["id", "quantity", "sku", "subtotal", "title", "unit_price", "variant_id"],
    "MoneyOut": ["amount", "currency_code"],
    "OptionValueOut": ["id", "value"],
    "OrderItemOut": ["id", "quantity", "sku", "subtotal", "title", "unit_price", "variant_id"],
    "OrderOut": ORDER_PROPERTIES,
    "OrderResponse": ["order"],
    "OrderTransactionOut": ["amount", "created_at", "currency_code", "id", "reference", "reference_id"],
    "PaymentCollectionOut": ["amount", "currency_code", "id", "payment_intent_id", "status"],
    "PaymentSessionOut": ["amount", "client_secret", "currency_code", "payment_intent_id"],
    "PaymentSessionResponse": ["payment_session"],
    # The order's token, handed to the buyer once, by `complete` (API1).
    "PlacedOrderOut": sorted([*ORDER_PROPERTIES, "access_token"]),
    "ProductListResponse": ["count", "limit", "offset", "products"],
    "ProductOptionOut": ["id", "title", "values"],
    "ProductOut": ["description", "handle", "id", "images", "options", "title", "variants"],
    "ProductResponse": ["product"],
    "RegionOut": ["countries", "currency_code", "id", "name"],
    "RegionsResponse": ["regions"],
    "ShippingMethodOut": ["amount", "id", "name", "shipping_option_id"],
    "ShippingOptionOut": ["amount", "currency_code", "id", "name"],
    "ShippingOptionsResponse": ["shipping_options"],
    "StorefrontConfigResponse": ["currencies", "stripe"],
    "StripeConfigOut": ["js_url", "publishable_key"],
    "VariantOptionOut": ["id", "option_id", "value"],
    "VariantOut": ["calculated_price", "id", "inventory", "options", "sku", "title"],
}


def _refs(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["$ref"].rsplit("/", 1)[-1]} if "$ref" in schema else set()
        return found | {ref for value in schema.values() for ref in _refs(value)}
    if isinstance(schema, list):
        return {ref for item in schema for ref in _refs(item)}
    return set()


def store_response_schemas(document: dict[str, Any]) -> dict[str, list[str]]:
    """Each schema a successful store answer can contain, with its properties."""
    components = document["components"]["schemas"]
    pending = {
        ref
        for path, operations in document["paths"].items()
        if path.startswith("/store/")
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for ref in _refs(response)
    }
    seen: dict[str, list[str]] = {}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen[name] = sorted(components[name].get("properties", {}))
        pending |= _refs(components[name]) - seen.keys()
    return seen


def test_store_responses_carry_only_the_allowed_properties(document) -> None:
    assert store_response_schemas(document) == STORE_RESPONSE_PROPERTIES


async def test_a_client_cannot_set_what_the_server_owns(client, new_cart, demo) -> None:
    cart = await new_cart("Europe", ("GT-CBT-SAND-BATH", 1))
    attempts = [
        ("/store/carts", {"region_id": demo.regions["Europe"], "total": 1}),
        (f"/store/carts/{cart['id']}", {"email": "a@example.com", "completed_at": "2026-01-01T00:00:00Z"}),
        (
            f"/store/carts/{cart['id']}/line-items",
            {"variant_id": demo.variants["GT-CBT-SAND-BATH"], "quantity": 1, "unit_price": 1},
        ),
    ]
    for url, body in attempts:
        response = await client.post(url, json=body)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["error"]["details"][0]["type"] == "extra_forbidden"
    assert (await client.get(f"/store/carts/{cart['id']}")).json()["cart"]["total"] == cart["total"]

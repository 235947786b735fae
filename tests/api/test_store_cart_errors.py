"""Bad input to the cart API: always a 4xx with a stable code, never a 500, never a partial write."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("demo")

UNKNOWN_CART = "cart_01NOSUCHCART00000000000000"


@pytest.fixture
async def cart(new_cart):
    """A Europe cart holding 2 x GT-RBM-SAND, with an email set."""
    return await new_cart("Europe", ("GT-RBM-SAND", 2), email="grace@example.com")


@pytest.fixture
def assert_unchanged(client, cart):
    """Checks the cart is exactly as the fixture made it: same version, items, totals."""

    async def check():
        response = await client.get(f"/store/carts/{cart['id']}")
        assert response.status_code == 200
        assert response.json()["cart"] == cart

    return check


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)


BAD_QUANTITIES = [
    pytest.param("2", id="string"),
    pytest.param(2.5, id="float"),
    pytest.param(True, id="bool"),
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(1001, id="over-1000"),
    pytest.param(10**30, id="huge"),
    pytest.param(None, id="null"),
    pytest.param([1], id="list"),
]


# --- adding a line -----------------------------------------------------------------------


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
async def test_add_line_with_a_bad_quantity_is_a_400(client, demo, cart, assert_unchanged, quantity):
    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": demo.variants["GT-RBM-SAND"], "quantity": quantity},
    )

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"variant_id": "GT-RBM-SAND"}, id="missing-quantity"),
        pytest.param({"quantity": 1}, id="missing-variant"),
        pytest.param({"variant_id": 12, "quantity": 1}, id="variant-id-not-a-string"),
        pytest.param({"variant_id": "", "quantity": 1}, id="empty-variant-id"),
        pytest.param("GT-RBM-SAND", id="not-an-object"),
        pytest.param([], id="a-list"),
        pytest.param(None, id="null-body"),
    ],
)
async def test_add_line_with_a_malformed_body_is_a_400(client, cart, assert_unchanged, body):
    response = await client.post(f"/store/carts/{cart['id']}/line-items", json=body)

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


@pytest.mark.parametrize("field", ["unit_price", "price", "subtotal", "total", "currency_code"])
async def test_a_client_sent_price_or_total_is_refused(client, demo, cart, assert_unchanged, field):
    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": demo.variants["GT-RBM-SLATE"], "quantity": 1, field: 1},
    )

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


async def test_unknown_variant_is_a_404(client, cart, assert_unchanged):
    for variant_id in ["variant_01NOSUCHVARIANT000000000000", "GT-RBM-SAND", "v\x00"]:
        response = await client.post(
            f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
        )
        assert_error(response, 404, "variant_not_found")
    await assert_unchanged()


async def test_a_draft_products_variant_cannot_be_added(client, demo, cart, assert_unchanged):
    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": demo.variants["GT-TGS-SAND"], "quantity": 1},
    )

    assert_error(response, 404, "variant_not_found")
    await assert_unchanged()


async def test_variant_without_a_price_in_the_carts_currency_is_a_400(client, demo, new_cart):
    cart = await new_cart("Japan", ("GT-LKT-NATURAL", 1))

    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": demo.variants["GT-LKT-CHARCOAL"], "quantity": 1},
    )

    assert_error(response, 400, "variant_not_priced")
    assert (await client.get(f"/store/carts/{cart['id']}")).json()["cart"] == cart


@pytest.mark.parametrize(
    ("sku", "quantity"),
    [
        pytest.param("GT-HKT-WHALE", 1, id="out-of-stock"),
        pytest.param("GT-RBM-SLATE", 51, id="more-than-the-50-in-stock"),
        pytest.param("GT-RBM-SAND", 49, id="50-in-stock-2-already-in-cart"),
    ],
)
async def test_not_enough_stock_and_no_backorder_is_a_409(
    client, demo, cart, assert_unchanged, sku, quantity
):
    response = await client.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": demo.variants[sku], "quantity": quantity}
    )

    assert_error(response, 409, "insufficient_inventory")
    await assert_unchanged()


async def test_a_line_can_hold_up_to_1000_units_but_not_more(client, demo, new_cart):
    cart = await new_cart("Europe", ("GT-OBS-MOSS", 600), ("GT-OBS-MOSS", 400))
    assert cart["items"][0]["quantity"] == 1000

    response = await client.post(
        f"/store/carts/{cart['id']}/line-items",
        json={"variant_id": demo.variants["GT-OBS-MOSS"], "quantity": 1},
    )

    assert_error(response, 400, "quantity_limit_exceeded")
    assert (await client.get(f"/store/carts/{cart['id']}")).json()["cart"] == cart


# --- updating and removing a line --------------------------------------------------------


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
async def test_update_line_with_a_bad_quantity_is_a_400(client, cart, assert_unchanged, quantity):
    item_id = cart["items"][0]["id"]

    response = await client.post(
        f"/store/carts/{cart['id']}/line-items/{item_id}", json={"quantity": quantity}
    )

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


async def test_update_line_beyond_stock_is_a_409(client, cart, assert_unchanged):
    item_id = cart["items"][0]["id"]

    response = await client.post(f"/store/carts/{cart['id']}/line-items/{item_id}", json={"quantity": 51})

    assert_error(response, 409, "insufficient_inventory")
    await assert_unchanged()


async def test_update_line_with_a_price_is_refused(client, cart, assert_unchanged):
    item_id = cart["items"][0]["id"]

    response = await client.post(
        f"/store/carts/{cart['id']}/line-items/{item_id}", json={"quantity": 1, "unit_price": 1}
    )

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


async def test_unknown_line_item_is_a_404(client, new_cart, cart, assert_unchanged):
    other_cart = await new_cart("Europe", ("GT-RBM-SLATE", 1))
    for item_id in ["item_01NOSUCHITEM0000000000000", other_cart["items"][0]["id"]]:
        url = f"/store/carts/{cart['id']}/line-items/{item_id}"
        assert_error(await client.post(url, json={"quantity": 1}), 404, "line_item_not_found")
        assert_error(await client.delete(url), 404, "line_item_not_found")
    await assert_unchanged()


# --- unknown carts and regions -----------------------------------------------------------


@pytest.mark.parametrize("cart_id", [UNKNOWN_CART, "x" * 300, "cart_ünïcode"])
async def test_unknown_cart_is_a_404_everywhere(client, demo, cart_id):
    url = f"/store/carts/{cart_id}"
    attempts = [
        client.get(url),
        client.post(url, json={"email": "a@example.com"}),
        client.post(f"{url}/line-items", json={"variant_id": demo.variants["GT-RBM-SAND"], "quantity": 1}),
        client.post(f"{url}/line-items/item_x", json={"quantity": 1}),
        client.delete(f"{url}/line-items/item_x"),
        client.post(
            f"{url}/shipping-methods", json={"option_id": demo.shipping_options["Europe", "Standard"]}
        ),
        client.get("/store/shipping-options", params={"cart_id": cart_id}),
    ]
    for attempt in attempts:
        assert_error(await attempt, 404, "cart_not_found")


async def test_create_cart_in_an_unknown_region_is_a_404(client):
    for region_id in ["reg_01NOSUCHREGION00000000000", "reg\x00"]:
        assert_error(
            await client.post("/store/carts", json={"region_id": region_id}), 404, "region_not_found"
        )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing-region"),
        pytest.param({"region_id": 1}, id="region-id-not-a-string"),
        pytest.param({"region_id": "REGION", "email": "not-an-email"}, id="bad-email"),
        pytest.param({"region_id": "REGION", "currency_code": "usd"}, id="client-currency"),
        pytest.param({"region_id": "REGION", "total": 0}, id="client-total"),
    ],
)
async def test_create_cart_with_a_bad_body_is_a_400(client, demo, body):
    body = {key: demo.regions["Europe"] if value == "REGION" else value for key, value in body.items()}

    assert_error(await client.post("/store/carts", json=body), 400, "invalid_request")


# --- email and shipping address ----------------------------------------------------------

ADDRESS = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "address_1": "Keizersgracht 1",
    "city": "Amsterdam",
    "postal_code": "1015 CJ",
    "country_code": "nl",
}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"email": "grace"}, id="email-without-domain"),
        pytest.param({"email": "grace@"}, id="email-without-host"),
        pytest.param({"email": 42}, id="email-not-a-string"),
        pytest.param({"shipping_address": {**ADDRESS, "city": ""}}, id="empty-city"),
        pytest.param(
            {"shipping_address": {k: v for k, v in ADDRESS.items() if k != "postal_code"}}, id="no-postcode"
        ),
        pytest.param({"shipping_address": {**ADDRESS, "country_code": "nld"}}, id="three-letter-country"),
        pytest.param({"shipping_address": {**ADDRESS, "first_name": "Gr\x00ce"}}, id="nul-in-name"),
        pytest.param({"shipping_address": {**ADDRESS, "phone": "call me"}}, id="bad-phone"),
        pytest.param({"shipping_address": {**ADDRESS, "address_3": "x"}}, id="unknown-address-field"),
        pytest.param({"shipping_address": "Keizersgracht 1"}, id="address-not-an-object"),
        pytest.param({"email": "grace@example.com", "region_id": "x"}, id="unknown-field"),
    ],
)
async def test_bad_email_or_address_is_a_400(client, cart, assert_unchanged, body):
    response = await client.post(f"/store/carts/{cart['id']}", json=body)

    assert_error(response, 400, "invalid_request")
    await assert_unchanged()


@pytest.mark.parametrize("country_code", ["jp", "US", "zz"])
async def test_address_outside_the_carts_region_is_a_400(client, cart, assert_unchanged, country_code):
    response = await client.post(
        f"/store/carts/{cart['id']}",
        json={"email": "new@example.com", "shipping_address": {**ADDRESS, "country_code": country_code}},
    )

    # Refused as a whole: the valid email in the same request is not saved either.
    assert_error(response, 400, "country_not_in_region")
    await assert_unchanged()


# --- malformed JSON ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b'{"quantity": 1,}', b"not json", b'{"quantity": 01}', b"\xff\xfe"])
async def test_malformed_json_is_a_400_invalid_json(client, cart, assert_unchanged, raw):
    item_id = cart["items"][0]["id"]
    headers = {"content-type": "application/json"}
    for url in [
        "/store/carts",
        f"/store/carts/{cart['id']}",
        f"/store/carts/{cart['id']}/line-items",
        f"/store/carts/{cart['id']}/line-items/{item_id}",
        f"/store/carts/{cart['id']}/shipping-methods",
    ]:
        assert_error(await client.post(url, content=raw, headers=headers), 400, "invalid_json")
    await assert_unchanged()


async def test_a_body_that_is_not_json_at_all_is_a_415(client, cart, assert_unchanged):
    response = await client.post(
        f"/store/carts/{cart['id']}/line-items", content=b"quantity=2", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    await assert_unchanged()

"""Browsing and the cart in the browser: regions and their money, a cart that survives a reload,
errors from the API in words."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from domain.money import exponent, format_money
from models import Region
from tests.browser.conftest import MakeTowel, Storefront

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def api_cart(api_url: str, cart_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=api_url) as http:
        response = await http.get(f"/store/carts/{cart_id}")
    response.raise_for_status()
    cart: dict[str, Any] = response.json()["cart"]
    return cart


async def test_jpy_prices_have_no_decimals_from_catalog_to_checkout(
    page: Page, storefront: Storefront, make_towel: MakeTowel, regions: dict[str, Region], api_url: str
) -> None:
    towel = await make_towel(currency="jpy", stock=5)  # stocked where the Japan region ships from
    await page.goto("")
    await page.get_by_test_id("region").select_option(label="Japan (JPY)")

    async with httpx.AsyncClient(base_url=api_url) as http:
        listed = await http.get(
            "/store/products", params={"region_id": regions["jpy"].id, "q": "Classic Bath"}
        )
    (classic,) = listed.json()["products"]
    cheapest = min(v["calculated_price"]["amount"] for v in classic["variants"])
    card = page.get_by_test_id("product").filter(has_text="Classic Bath Towel")
    await expect(card).to_contain_text(f"From {format_money(cheapest, 'jpy')}")  # "From ¥2,400"
    for price in await page.locator("[data-testid=product] .price").all_inner_texts():
        assert re.fullmatch(r"(From )?¥\d{1,3}(,\d{3})*|Not sold in this region", price), price

    await storefront.open_product(towel)
    await expect(page.get_by_test_id("price")).to_have_text("¥3,200")
    await storefront.add_to_cart(1)
    await page.get_by_test_id("cart-link").click()
    cart_id = await storefront.cart_id()
    assert cart_id is not None
    cart = await api_cart(api_url, cart_id)
    assert cart["currency_code"] == "jpy"
    await expect(page.get_by_test_id("subtotal")).to_have_text("¥3,200")
    await expect(page.get_by_test_id("total")).to_have_text(format_money(cart["total"], "jpy"))

    await page.get_by_test_id("checkout").click()
    await storefront.fill_details(country="Japan")
    await expect(page.get_by_test_id("shipping-option")).to_have_count(2)
    await expect(page.get_by_text("Standard: ¥800")).to_be_visible()


async def test_the_cart_survives_a_reload_and_changes_on_the_server(
    page: Page, storefront: Storefront, make_towel: MakeTowel, api_url: str
) -> None:
    towel = await make_towel(stock=10)
    await storefront.open_product(towel)
    await storefront.add_to_cart(2)
    await page.get_by_test_id("cart-link").click()
    line = page.get_by_test_id("line-item")
    await expect(line).to_have_count(1)

    await page.reload()
    await expect(line).to_have_count(1)
    await expect(line.get_by_label("Quantity")).to_have_value("2")
    await expect(page.get_by_test_id("cart-link")).to_contain_text("(2)")
    # Another tab of the same browser shares the cart.
    other = await page.context.new_page()
    await other.goto("#/cart")
    await expect(other.get_by_test_id("line-item")).to_have_count(1)
    await other.close()

    await line.get_by_label("Quantity").fill("3")
    await line.get_by_test_id("update-quantity").click()
    await expect(page.get_by_test_id("subtotal")).to_have_text("€75.00")
    cart_id = await storefront.cart_id()
    assert cart_id is not None
    cart = await api_cart(api_url, cart_id)
    assert [item["quantity"] for item in cart["items"]] == [3]
    await expect(page.get_by_test_id("total")).to_have_text(format_money(cart["total"], "eur"))

    await page.reload()
    await expect(line.get_by_label("Quantity")).to_have_value("3")
    await line.get_by_test_id("remove").click()
    await expect(page.get_by_test_id("cart-empty")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("cart-empty")).to_be_visible()
    assert (await api_cart(api_url, cart_id))["items"] == []


async def test_errors_from_the_api_are_shown_in_words(
    page: Page, storefront: Storefront, make_towel: MakeTowel
) -> None:
    towel = await make_towel(stock=1)
    await storefront.open_product(towel)
    await page.get_by_label("Quantity").fill("3")
    await page.get_by_test_id("add-to-cart").click()
    error = page.get_by_test_id("error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("Only 1 of variant")  # the API's message for insufficient_inventory
    await expect(page.get_by_test_id("cart-link")).to_contain_text("(0)")

    await page.goto("#/products/no-such-towel")
    await expect(error).to_contain_text("'no-such-towel' was not found")

    await page.goto("#/orders/order_unknown")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Order not found here")


AMOUNTS = [0, 5, 99, 1999, 320_000, -1999, 2**53 - 1]


@pytest.mark.parametrize("currency", ["eur", "jpy", "kwd"])
async def test_the_page_formats_minor_units_exactly_as_the_server_counts_them(
    page: Page, currency: str
) -> None:
    """Amounts below one major unit, negative ones and the largest exact JSON integer, with the
    exponent the server sends (2, 0 and 3 here): the same text as domain.money.format_money."""
    await page.goto("")
    formatted = await page.evaluate(
        """async ([currency, exponent, amounts]) => {
            const { moneyFormatter } = await import(new URL("js/money.js", document.baseURI));
            const format = moneyFormatter([{ currency_code: currency, exponent }], "en-US");
            return amounts.map((amount) => format(amount, currency));
        }""",
        [currency, exponent(currency), AMOUNTS],
    )
    # CLDR data may put a no-break space between a currency code and the number ("KWD 1.999"); Babel's
    # does not. The digits and separators must be the same.
    assert [text.replace("\xa0", "") for text in formatted] == [
        format_money(amount, currency, "en_US") for amount in AMOUNTS
    ]

"""A checkout with the keyboard alone; every page labelled and whole at 375 px; README screenshots.

    STOREFRONT_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser -k screenshotted

writes the README's screenshots (one per page, 1280 px wide); without the variable they go to
a temporary directory, so the test that checks the pages also proves the command works.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import MakeTowel, Storefront
from tests.checkout.conftest import CARD_OK

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

MOBILE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
MAX_TABS = 80


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches `selector` (it must be reachable by keyboard)."""
    for _ in range(MAX_TABS):
        if await page.evaluate("selector => document.activeElement?.matches(selector) ?? false", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab within {MAX_TABS} presses")


async def type_into(page: Page, selector: str, text: str) -> None:
    await tab_to(page, selector)
    await page.keyboard.type(text)


async def test_a_whole_checkout_with_the_keyboard_alone(
    page: Page, storefront: Storefront, make_towel: MakeTowel
) -> None:
    towel = await make_towel(stock=5)
    await storefront.open_product(towel)

    await tab_to(page, "[data-testid=add-to-cart]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("added")).to_contain_text("Added 1")
    await tab_to(page, "[data-testid=cart-link]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("line-item")).to_have_count(1)
    await tab_to(page, "[data-testid=checkout]")
    await page.keyboard.press("Enter")

    for name, text in {
        "email": "keys@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_1": "12 Engine Row",
        "city": "Marylebone",
        "postal_code": "10115",
    }.items():
        await type_into(page, f"input[name={name}]", text)
    await type_into(page, "select[name=country_code]", "Germany")  # a closed select's type-ahead
    await expect(page.locator("select[name=country_code]")).to_have_value("de")
    await tab_to(page, "[data-testid=continue-to-shipping]")
    await page.keyboard.press("Enter")

    await expect(page.get_by_test_id("shipping-option").first).to_be_visible()
    await tab_to(page, "[data-testid=shipping-option]")
    await page.keyboard.press("Space")
    await expect(page.get_by_test_id("continue-to-payment")).to_be_enabled()
    await tab_to(page, "[data-testid=continue-to-payment]")
    await page.keyboard.press("Enter")

    await expect(page.get_by_test_id("card-element").locator("input").first).to_be_visible()
    for placeholder, text in {
        "number": CARD_OK,
        "exp_month": "12",
        "exp_year": "34",
        "cvc": "123",
        "postal_code": "10115",
    }.items():
        await type_into(page, f"[data-testid=card-element] input[placeholder={placeholder}]", text)
    await tab_to(page, "[data-testid=pay]")
    await page.keyboard.press("Enter")

    order_id = await storefront.order_id()
    await tab_to(page, "[data-testid=order-link]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(order_id)


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea")]
    .filter(control => control.type !== "hidden")
    // Stripe.js's own inputs: in an iframe with Stripe's labels on real Stripe; the group is labelled.
    .filter(control => !control.closest("[data-testid=card-element]"))
    .filter(control => !(control.labels?.length || control.getAttribute("aria-label")
        || control.getAttribute("aria-labelledby")))
    .map(control => control.outerHTML)"""


async def check_and_capture(page: Page, name: str, directory: Path) -> None:
    """At 375 px: no control without a label, nothing wider than the screen. Then a desktop screenshot."""
    await page.set_viewport_size(MOBILE)
    assert await page.evaluate(UNLABELLED_CONTROLS) == [], f"{name}: controls without a label"
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow} px wider than a 375 px screen"
    await page.set_viewport_size(DESKTOP)
    assert await page.screenshot(path=directory / f"{name}.png", full_page=True)


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("STOREFRONT_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def test_every_page_is_labelled_and_fits_375px_and_is_screenshotted(
    page: Page, storefront: Storefront, screenshot_dir: Path
) -> None:
    # The demo catalog only, so that the screenshots show what `make dev` shows.
    await page.goto("")
    await expect(page.get_by_test_id("product").first).to_be_visible()
    await check_and_capture(page, "catalog", screenshot_dir)

    await page.goto("#/products/classic-bath-towel")
    await expect(page.get_by_test_id("availability")).to_have_text("In stock")
    await check_and_capture(page, "product", screenshot_dir)
    await storefront.add_to_cart(2)
    await page.goto("#/products/waffle-weave-towel")
    await expect(page.get_by_test_id("availability")).to_have_text("In stock")
    await storefront.add_to_cart(1)
    await page.get_by_test_id("cart-link").click()
    await expect(page.get_by_test_id("line-item")).to_have_count(2)
    await check_and_capture(page, "cart", screenshot_dir)

    await page.get_by_test_id("checkout").click()
    await storefront.fill_details()
    await storefront.choose_shipping()
    await storefront.enter_card(CARD_OK)
    await check_and_capture(page, "checkout", screenshot_dir)

    await page.get_by_test_id("pay").click()
    await storefront.order_id()
    await check_and_capture(page, "confirmation", screenshot_dir)

    await page.get_by_test_id("order-link").click()
    await expect(page.get_by_test_id("payment-status")).to_have_text("Paid")
    await check_and_capture(page, "order", screenshot_dir)

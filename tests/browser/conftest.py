"""The storefront in headless Chromium: Debian's browser driven by Playwright's Python package.

One browser for the session (a fresh context, so fresh localStorage, per test) against the
session's real stack (tests/conftest.py `api_url`: the API on a real port serving /shop/,
localstripe with its webhook pointed at the API, the Temporal dev server and the worker). Only
what a shopper does goes through the page; the tests read outcomes from the database, the
admin API and Temporal.

Without Chromium (`/usr/bin/chromium`, from Debian's `chromium` package, which `.ci/run`
installs where apt is available) every test here is skipped with the one message below.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from core.db import get_sessionmaker
from models import Product, ProductVariant, Region
from tests.checkout.conftest import CARD_OK, MakeVariant, make_variant, regions
from tests.conftest import ASYNC_DEADLINE

__all__ = ["make_variant", "regions"]  # fixtures of tests/checkout, used here too

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# As root on a machine with no network but the package registries: no sandbox, no GPU, and none
# of Chromium's own outbound connections (refused noisily here otherwise).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = (
    "browser tests skipped: Chromium is not installed (/usr/bin/chromium). "
    "Install Debian's package (`apt-get install chromium`; .ci/run does it where apt is available)."
)
TIMEOUT_MS = ASYNC_DEADLINE * 1000


def chromium_executable() -> str | None:
    return str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(NO_CHROMIUM)
    async with async_playwright() as playwright:
        # Playwright gives every launch a fresh temporary user-data-dir.
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def shop_url(api_url: str, running_worker: object, regions: dict[str, Region]) -> str:
    """The storefront as make dev serves it: the API's own /shop/, with the demo catalog seeded."""
    return f"{api_url}/shop/"


@pytest.fixture
async def page(browser: Browser, shop_url: str) -> AsyncIterator[Page]:
    """A fresh browser context (empty localStorage) on the shop; fails on any uncaught page error."""
    context = await browser.new_context(
        locale="en-US", base_url=shop_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = await context.new_page()
    uncaught: list[str] = []
    opened.on("pageerror", lambda error: uncaught.append(str(error)))
    try:
        yield opened
    finally:
        await context.close()
    assert uncaught == [], f"uncaught errors in the page: {uncaught}"


@dataclass(frozen=True)
class Towel:
    """A product with one variant ("One size"), made for one test: its stock is the test's alone."""

    variant_id: str
    product_id: str
    handle: str
    title: str


MakeTowel = Callable[..., Awaitable[Towel]]


@pytest.fixture
def make_towel(make_variant: MakeVariant) -> MakeTowel:
    """`await make_towel(stock=5)`: priced like tests/checkout's variants (€25.00, $29.00, ¥3,200)."""

    async def make(**variant: object) -> Towel:
        variant_id = await make_variant(**variant)
        async with get_sessionmaker()() as session:
            product = await session.scalar(
                select(Product).join(ProductVariant).where(ProductVariant.id == variant_id)
            )
            assert product is not None
            return Towel(
                variant_id=variant_id, product_id=product.id, handle=product.handle, title=product.title
            )

    return make


class Storefront:
    """What a shopper does in the page, step by step (mouse and keyboard as Playwright does them)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open_product(self, towel: Towel) -> None:
        await self.page.goto(f"#/products/{towel.handle}")
        await expect(self.page.get_by_role("heading", level=1)).to_have_text(towel.title)

    async def add_to_cart(self, quantity: int = 1) -> None:
        await self.page.get_by_label("Quantity").fill(str(quantity))
        await self.page.get_by_test_id("add-to-cart").click()
        await expect(self.page.get_by_test_id("added")).to_contain_text("Added")

    async def cart_id(self) -> str | None:
        found: str | None = await self.page.evaluate("localStorage.getItem('gracestowel.cart_id')")
        return found

    async def open_checkout(self) -> None:
        await self.page.get_by_test_id("cart-link").click()
        await self.page.get_by_test_id("checkout").click()
        await expect(self.page.get_by_role("heading", level=1)).to_have_text("Checkout")

    async def fill_details(self, country: str = "Germany") -> None:
        page = self.page
        for name, value in {
            "email": "buyer@example.com",
            "first_name": "Grace",
            "last_name": "Hopper",
            "address_1": "1 Harbour Street",
            "city": "Somewhere",
            "postal_code": "12345",
        }.items():
            await page.locator(f"input[name={name}]").fill(value)
        await page.locator("select[name=country_code]").select_option(label=country)
        await page.get_by_test_id("continue-to-shipping").click()

    async def choose_shipping(self) -> None:
        option = self.page.get_by_test_id("shipping-option").first
        await option.check()
        await expect(self.page.get_by_test_id("continue-to-payment")).to_be_enabled()
        await self.page.get_by_test_id("continue-to-payment").click()
        await expect(self.page.get_by_test_id("card-element").locator("input").first).to_be_visible()

    async def enter_card(self, number: str) -> None:
        card = self.page.get_by_test_id("card-element")
        for placeholder, value in {
            "number": number,
            "exp_month": "12",
            "exp_year": "34",
            "cvc": "123",
            "postal_code": "12345",
        }.items():
            await card.locator(f"input[placeholder={placeholder}]").fill(value)

    async def pay(self, number: str = CARD_OK) -> None:
        await self.enter_card(number)
        await self.page.get_by_test_id("pay").click()

    async def to_payment(self, towel: Towel, quantity: int = 1) -> str:
        """Put `quantity` of the towel in a new cart and take it to the card form; answers the cart ID."""
        await self.open_product(towel)
        await self.add_to_cart(quantity)
        cart_id = await self.cart_id()
        assert cart_id is not None
        await self.open_checkout()
        await self.fill_details()
        await self.choose_shipping()
        return cart_id

    async def order_id(self) -> str:
        order_id = self.page.get_by_test_id("order-id")
        await expect(order_id).to_have_text(re.compile(r"^order_\w+$"))
        return await order_id.inner_text()


@pytest.fixture
def storefront(page: Page) -> Storefront:
    return Storefront(page)

"""Buying a towel in the browser: the test card, then a declined card followed by a good one."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from domain.checkout import CheckoutStatus
from domain.money import format_money
from models import Checkout
from tests.browser.conftest import MakeTowel, Storefront
from tests.checkout.conftest import (
    CARD_DECLINED,
    admin_headers,
    orders_of_cart,
    transactions_of,
    workflow_outcome,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def payment_intents_of(cart_id: str) -> list[str]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(select(Checkout.payment_intent_id).where(Checkout.cart_id == cart_id))
        )


async def test_buy_with_the_test_card_and_see_the_order(
    page: Page, storefront: Storefront, make_towel: MakeTowel, api_url: str, temporal_env: WorkflowEnvironment
) -> None:
    towel = await make_towel(stock=5)
    cart_id = await storefront.to_payment(towel, quantity=2)
    await expect(page.get_by_test_id("cart-link")).to_contain_text("(2)")
    shown_total = await page.get_by_test_id("total").inner_text()
    await expect(page.get_by_test_id("pay")).to_have_text(f"Pay {shown_total}")
    await storefront.pay()
    order_id = await storefront.order_id()

    # Exactly one order, captured, for what the page showed.
    (order,) = await orders_of_cart(cart_id)
    assert order.id == order_id
    assert shown_total == format_money(order.total, "eur")
    assert order.payment_status == "captured"
    assert [(t.reference, t.amount) for t in await transactions_of(order.id)] == [("capture", order.total)]
    await expect(page.get_by_text(f"Paid: {format_money(order.total, 'eur')}.")).to_be_visible()

    # The order page reads the order with its token.
    await page.get_by_test_id("order-link").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(order_id)
    await expect(page.get_by_test_id("payment-status")).to_have_text("Paid")
    await expect(page.get_by_test_id("total")).to_have_text(format_money(order.total, "eur"))

    # What an operator sees: the order in the admin API, the checkout in Temporal.
    async with httpx.AsyncClient(base_url=api_url) as http:
        admin = await http.get(f"/admin/orders/{order_id}", headers=admin_headers())
    assert admin.status_code == 200, admin.text
    assert admin.json()["order"]["id"] == order_id
    outcome = await workflow_outcome(temporal_env, order.payment_intent_id)
    assert (outcome.status, outcome.order_id) == (CheckoutStatus.COMPLETED, order_id)

    # The completed cart is gone from the browser: the next purchase starts a fresh cart.
    await expect(page.get_by_test_id("cart-link")).to_contain_text("(0)")
    assert await storefront.cart_id() is None
    # Even if this browser still held the completed cart's ID (completed in another tab).
    await page.evaluate("id => localStorage.setItem('gracestowel.cart_id', id)", cart_id)
    await page.goto("#/cart")
    await page.reload()
    await expect(page.get_by_test_id("cart-empty")).to_be_visible()
    assert await storefront.cart_id() is None
    await storefront.open_product(towel)
    await storefront.add_to_cart(1)
    assert await storefront.cart_id() not in (None, cart_id)


async def test_a_declined_card_then_another_card_make_one_order(
    page: Page, storefront: Storefront, make_towel: MakeTowel
) -> None:
    towel = await make_towel(stock=5)
    cart_id = await storefront.to_payment(towel)

    await storefront.pay(CARD_DECLINED)
    error = page.get_by_test_id("payment-error")
    await expect(error).to_be_visible()
    await expect(error).to_have_text(re.compile("declined", re.IGNORECASE))
    await expect(page.get_by_test_id("pay")).to_be_enabled()
    await expect(page.get_by_test_id("order-id")).to_have_count(0)
    assert await orders_of_cart(cart_id) == []

    await storefront.pay()  # another card, same payment form
    order_id = await storefront.order_id()

    (order,) = await orders_of_cart(cart_id)
    assert order.id == order_id
    assert await payment_intents_of(cart_id) == [order.payment_intent_id]  # the same PaymentIntent
    assert [(t.reference, t.amount) for t in await transactions_of(order.id)] == [("capture", order.total)]

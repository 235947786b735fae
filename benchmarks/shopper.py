"""A shopper on the store API (what a storefront does), and the card payment Stripe.js would make.

Mirrors tests/checkout/conftest.py's `Shopper` without importing the test suite; the payment is
the one both make, `devstack.fakestripe.pay`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack import fakestripe
from models import InventoryItem, InventoryLevel, Product, ProductVariant, Region, VariantPrice
from services.inventory import location_for_channel

CURRENCY = "eur"
COUNTRY = "de"
CARD_OK = "4242424242424242"
# A 503 `checkout_pending` (the workflow did not answer within CHECKOUT_ANSWER_TIMEOUT_SECONDS)
# means "ask again": the request stays with the workflow (README "When a checkout cannot answer").
# The shopper does, after Retry-After, at most this many times; the wait counts in its timings.
PENDING_RETRIES = 5
PENDING = "checkout_pending"


class CheckoutFailed(Exception):
    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage


def _expect(response: httpx.Response, stage: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckoutFailed(stage, f"HTTP {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else None


@dataclass
class VariantPool:
    """In-stock variants of the demo catalog, handed out round-robin (one unit per cart)."""

    available: dict[str, int]
    _order: list[str]
    _next: int = 0

    @classmethod
    async def load(cls, sessionmaker: async_sessionmaker[AsyncSession], region_id: str) -> VariantPool:
        async with sessionmaker() as session:
            region = await session.get(Region, region_id)
            if region is None:
                raise LookupError(f"region {region_id} does not exist")
            location_id = await location_for_channel(session, region.sales_channel_id)
            free = InventoryLevel.stocked_quantity - InventoryLevel.reserved_quantity
            rows = (
                await session.execute(
                    select(ProductVariant.id, free)
                    .join(Product, Product.id == ProductVariant.product_id)
                    .join(InventoryItem, InventoryItem.variant_id == ProductVariant.id)
                    .join(InventoryLevel, InventoryLevel.inventory_item_id == InventoryItem.id)
                    .join(VariantPrice, VariantPrice.variant_id == ProductVariant.id)
                    .where(
                        Product.status == "published",
                        InventoryLevel.location_id == location_id,
                        VariantPrice.currency_code == region.currency_code,
                        free > 0,
                    )
                    .order_by(ProductVariant.sku)
                )
            ).tuples()
            available = {variant_id: int(units) for variant_id, units in rows}
        return cls(available=available, _order=list(available))

    @property
    def units(self) -> int:
        return sum(self.available.values())

    def take(self) -> str:
        for _ in range(len(self._order)):
            variant_id = self._order[self._next % len(self._order)]
            self._next += 1
            if self.available[variant_id] > 0:
                self.available[variant_id] -= 1
                return variant_id
        raise LookupError("the demo catalog ran out of stock for this run")


@dataclass
class CheckoutRun:
    """One checkout: what it made and how long each step took (seconds)."""

    cart_id: str
    payment_intent_id: str | None = None
    order_id: str | None = None
    order_total: int | None = None
    session_seconds: float | None = None
    pay_seconds: float | None = None
    complete_seconds: float | None = None
    total_seconds: float | None = None
    error: str | None = None
    # Answers 503 checkout_pending that were asked again.
    pending_retries: int = 0


class Shopper:
    def __init__(self, http: httpx.AsyncClient, stripe_client: stripe.StripeClient, region_id: str) -> None:
        self.http = http
        self.stripe = stripe_client
        self.region_id = region_id
        self._shipping_option: str | None = None

    @staticmethod
    async def find_region(http: httpx.AsyncClient, currency: str = CURRENCY) -> str:
        regions: Sequence[dict[str, Any]] = _expect(await http.get("/store/regions"), "regions")["regions"]
        for region in regions:
            if region["currency_code"] == currency:
                return str(region["id"])
        raise LookupError(f"no region sells in {currency}")

    async def cart(self, variant_id: str) -> str:
        """A cart ready to pay: one item, email, address, the region's first shipping option."""
        cart = _expect(
            await self.http.post("/store/carts", json={"region_id": self.region_id}), "create cart"
        )
        cart_id = str(cart["cart"]["id"])
        _expect(
            await self.http.post(
                f"/store/carts/{cart_id}/line-items", json={"variant_id": variant_id, "quantity": 1}
            ),
            "add line item",
        )
        _expect(
            await self.http.post(
                f"/store/carts/{cart_id}",
                json={
                    "email": "bench@example.com",
                    "shipping_address": {
                        "first_name": "Grace",
                        "last_name": "Hopper",
                        "address_1": "1 Harbour Street",
                        "city": "Somewhere",
                        "postal_code": "12345",
                        "country_code": COUNTRY,
                    },
                },
            ),
            "update cart",
        )
        if self._shipping_option is None:
            options = _expect(
                await self.http.get("/store/shipping-options", params={"cart_id": cart_id}),
                "shipping options",
            )
            self._shipping_option = str(options["shipping_options"][0]["id"])
        _expect(
            await self.http.post(
                f"/store/carts/{cart_id}/shipping-methods", json={"option_id": self._shipping_option}
            ),
            "shipping method",
        )
        return cart_id

    async def _ask(self, run: CheckoutRun, path: str, stage: str) -> dict[str, Any]:
        """POST `path`, asking again after a 503 checkout_pending as the API's contract says."""
        for _ in range(PENDING_RETRIES):
            response = await self.http.post(path)
            if response.status_code != 503 or _error_code(response) != PENDING:
                return _expect(response, stage)
            run.pending_retries += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
        return _expect(await self.http.post(path), stage)

    async def payment_session(self, run: CheckoutRun) -> str:
        body = await self._ask(run, f"/store/carts/{run.cart_id}/payment-sessions", "payment session")
        return str(body["payment_session"]["payment_intent_id"])

    async def pay(self, payment_intent_id: str) -> None:
        """What Stripe.js does: a good card, authorized (the checkout captures it at `complete`)."""
        intent = await fakestripe.pay(self.stripe, payment_intent_id, CARD_OK)
        if intent.status != "requires_capture":
            raise CheckoutFailed("pay", f"PaymentIntent {payment_intent_id} is {intent.status} after confirm")

    async def complete(self, run: CheckoutRun) -> dict[str, Any]:
        body = await self._ask(run, f"/store/carts/{run.cart_id}/complete", "complete")
        order: dict[str, Any] = body["order"]
        return order

    async def checkout(self, run: CheckoutRun) -> CheckoutRun:
        """Payment session → pay → complete for a prepared cart, each step timed; errors are recorded."""
        began = time.perf_counter()
        try:
            run.payment_intent_id = await self.payment_session(run)
            paid_from = time.perf_counter()
            run.session_seconds = paid_from - began
            await self.pay(run.payment_intent_id)
            completing = time.perf_counter()
            run.pay_seconds = completing - paid_from
            order = await self.complete(run)
            done = time.perf_counter()
            run.complete_seconds = done - completing
            run.total_seconds = done - began
            run.order_id = str(order["id"])
            run.order_total = int(order["total"])
        except (CheckoutFailed, httpx.HTTPError, stripe.StripeError) as exc:
            run.error = f"{type(exc).__name__}: {exc}"
        return run


def stripe_client(
    localstripe_url: str, secret_key: str, http_client: stripe.HTTPClient
) -> stripe.StripeClient:
    """No automatic retries: a request that fails on loopback is a finding, not noise to hide."""
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": localstripe_url},
        max_network_retries=0,
        http_client=http_client,
    )

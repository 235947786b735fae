"""A shopper driving the store API of the real stack, and a catalog of variants made per test."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.db import get_sessionmaker
from core.settings import Settings, get_settings
from core.stripe_gateway import get_stripe_client, stripe_client_from
from devstack.seed import seed_demo_catalog
from domain.checkout import CheckoutState
from domain.ids import new_id
from models import (
    Checkout,
    InventoryItem,
    InventoryLevel,
    Order,
    OrderTransaction,
    OutboxMessage,
    Product,
    ProductVariant,
    Region,
    SalesChannelStockLocation,
    VariantPrice,
)
from services.inventory import create_level
from tests.conftest import ASYNC_DEADLINE, TEST_ACTOR, WEBHOOK_SECRET, Outgoing, eventually, stack_activities
from worker import build_worker
from workflows.checkout import CheckoutWorkflow

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
PRICES = {"eur": 2500, "usd": 2900, "jpy": 3200}


@pytest.fixture(scope="session")
async def regions(database_url: str) -> dict[str, Region]:
    """The demo catalog's regions, by currency: eur, usd, jpy."""
    async with get_sessionmaker()() as session, session.begin():
        await seed_demo_catalog(session)
    async with get_sessionmaker()() as session:
        return {region.currency_code: region for region in await session.scalars(select(Region))}


MakeVariant = Callable[..., Awaitable[str]]


@pytest.fixture
def make_variant(regions: dict[str, Region]) -> MakeVariant:
    """A fresh variant stocked only at the location that `currency`'s region ships from."""

    async def make(*, currency: str = "eur", stock: int = 10, allow_backorder: bool = False) -> str:
        async with get_sessionmaker()() as session, session.begin():
            region = regions[currency]
            location_id = await session.scalar(
                select(SalesChannelStockLocation.stock_location_id).where(
                    SalesChannelStockLocation.sales_channel_id == region.sales_channel_id
                )
            )
            handle = new_id("test").lower().replace("_", "-")
            product = Product(
                id=new_id("prod"), handle=handle, title=f"Test towel {handle}", status="published"
            )
            variant = ProductVariant(
                id=new_id("variant"), product_id=product.id, sku=handle.upper(), title="One size"
            )
            session.add(product)
            await session.flush()
            session.add(variant)
            await session.flush()
            item = InventoryItem(id=new_id("iitem"), variant_id=variant.id)
            session.add(item)
            await session.flush()
            session.add_all(
                [
                    VariantPrice(id=new_id("price"), variant_id=variant.id, currency_code=c, amount=a)
                    for c, a in PRICES.items()
                ]
            )
            await create_level(
                session,
                inventory_item_id=item.id,
                location_id=location_id,
                stocked_quantity=stock,
                allow_backorder=allow_backorder,
                actor=TEST_ACTOR,
            )
            return variant.id

    return make


async def level_of(variant_id: str) -> InventoryLevel:
    async with get_sessionmaker()() as session:
        return (
            await session.scalars(
                select(InventoryLevel)
                .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
                .where(InventoryItem.variant_id == variant_id)
            )
        ).one()


def signed(payload: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """Sign an event exactly as Stripe does: v1 = HMAC-SHA256(secret, f"{t}.{body}")."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def payment_intent_event(
    event_type: str, payment_intent_id: str, *, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": payment_intent_id, "object": "payment_intent"}},
    }


@dataclass
class Shopper:
    http: httpx.AsyncClient
    regions: dict[str, Region]

    async def cart(self, currency: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
        """A cart ready to pay: items, email, address and the region's first shipping option."""
        region = self.regions[currency]
        cart = (await self.http.post("/store/carts", json={"region_id": region.id})).json()["cart"]
        for variant_id, quantity in lines:
            added = await self.http.post(
                f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": quantity}
            )
            assert added.status_code == 200, added.text
        country = {"eur": "de", "usd": "us", "jpy": "jp"}[currency]
        details = await self.http.post(
            f"/store/carts/{cart['id']}",
            json={
                "email": "buyer@example.com",
                "shipping_address": {
                    "first_name": "Grace",
                    "last_name": "Hopper",
                    "address_1": "1 Harbour Street",
                    "city": "Somewhere",
                    "postal_code": "12345",
                    "country_code": country,
                },
            },
        )
        assert details.status_code == 200, details.text
        options = (await self.http.get("/store/shipping-options", params={"cart_id": cart["id"]})).json()
        chosen = await self.http.post(
            f"/store/carts/{cart['id']}/shipping-methods",
            json={"option_id": options["shipping_options"][0]["id"]},
        )
        assert chosen.status_code == 200, chosen.text
        return dict(chosen.json()["cart"])

    async def open_checkout(self, currency: str, lines: list[tuple[str, int]]) -> tuple[dict[str, Any], str]:
        """A cart ready to pay and its payment session: (cart, PaymentIntent ID)."""
        cart = await self.cart(currency, lines)
        session = await self.payment_session(cart["id"])
        assert session.status_code == 200, session.text
        return cart, str(session.json()["payment_session"]["payment_intent_id"])

    async def payment_session(self, cart_id: str) -> httpx.Response:
        return await self.http.post(f"/store/carts/{cart_id}/payment-sessions")

    async def complete(self, cart_id: str) -> httpx.Response:
        return await self.http.post(f"/store/carts/{cart_id}/complete")

    async def webhook(self, event: dict[str, Any]) -> httpx.Response:
        body, headers = signed(event)
        return await self.http.post("/hooks/stripe", content=body, headers=headers)


async def pay(payment_intent_id: str, card: str = CARD_OK) -> stripe.PaymentIntent:
    """What Stripe.js does in the browser: attach a card, then confirm (devstack.fakestripe.pay)."""
    from devstack import fakestripe

    return await fakestripe.pay(get_stripe_client(), payment_intent_id, card)


@pytest.fixture
async def shopper(api_url: str, running_worker: Worker, regions: dict[str, Region]) -> AsyncIterator[Shopper]:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        yield Shopper(http=http, regions=regions)


def worker_activities(
    settings: Settings, senders: Outgoing, *, stripe_key: str | None = None
) -> list[Callable[..., Any]]:
    """The production worker's activities with these settings; with `stripe_key`, talking to
    Stripe with that key of their own (the fake Stripe can then refuse it alone: /_test/keys)."""
    from worker import build_activities

    if stripe_key is not None:
        settings = settings.model_copy(update={"stripe_secret_key": SecretStr(stripe_key)})
    return build_activities(
        settings=settings,
        sessionmaker=get_sessionmaker(),
        stripe_client=get_stripe_client() if stripe_key is None else stripe_client_from(settings),
        email_sender=senders,
        analytics=senders,
    )


@asynccontextmanager
async def stack_on_own_queue(
    temporal_env: WorkflowEnvironment,
    regions: dict[str, Region],
    senders: Outgoing,
    *,
    stripe_key: str | None = None,
    **setting_changes: Any,
) -> AsyncIterator[tuple[Settings, Shopper]]:
    """The API (in-process) and a production worker on a task queue of their own, with these
    settings changed for both (the worker's activities too, unlike `OwnQueue.worker`); with
    `stripe_key`, the worker's Stripe key (`worker_activities`)."""
    settings, app = store_on_own_queue(temporal_env.client, **setting_changes)
    activities = worker_activities(settings, senders, stripe_key=stripe_key)
    async with (
        build_worker(temporal_env.client, settings.temporal_task_queue, activities),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://store", timeout=60
        ) as http,
    ):
        yield settings, Shopper(http=http, regions=regions)


@pytest.fixture
def temporal(temporal_env: WorkflowEnvironment) -> WorkflowEnvironment:
    return temporal_env


def store_on_own_queue(temporal: Client, name: str = "own-queue", **changes: Any) -> tuple[Settings, FastAPI]:
    """The store API in-process, its checkouts on a task queue of their own (named from `name`),
    so that only the workers a test starts and stops work on them; `changes` are other settings."""
    settings = get_settings().model_copy(update={"temporal_task_queue": new_id(name), **changes})
    app = create_app()
    app.state.temporal = temporal
    app.dependency_overrides[get_settings] = lambda: settings
    return settings, app


@dataclass
class OwnQueue:
    """A task queue no other test's worker polls, an API app that sends there, and its workers:
    a test decides when a worker runs its checkouts."""

    settings: Settings
    app: FastAPI
    temporal: Client
    outgoing: Outgoing

    def worker(self) -> Worker:
        return build_worker(self.temporal, self.settings.temporal_task_queue, stack_activities(self.outgoing))

    def store(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://store")


@pytest.fixture
def own_queue(
    temporal_env: WorkflowEnvironment, localstripe_url: str, outgoing: Outgoing
) -> Callable[..., OwnQueue]:
    """`own_queue(temporal=None, **settings)`: the app is made at the call, with today's settings
    and these changes; `temporal` replaces the session's Temporal client."""

    def make(temporal: Client | None = None, **changes: Any) -> OwnQueue:
        client = temporal or temporal_env.client
        settings, app = store_on_own_queue(client, **changes)
        return OwnQueue(settings=settings, app=app, temporal=client, outgoing=outgoing)

    return make


# --- helpers for the invariant tests: outcomes as a user, an operator or the database sees them ---


async def workflow_outcome(temporal_env: WorkflowEnvironment, payment_intent_id: str) -> CheckoutState:
    """Wait (bounded) for the checkout workflow to finish and return its final state."""
    handle = temporal_env.client.get_workflow_handle_for(CheckoutWorkflow.run, payment_intent_id)
    return await asyncio.wait_for(handle.result(), timeout=ASYNC_DEADLINE)


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {get_settings().admin_api_token.get_secret_value()}"}


async def orders_of_cart(cart_id: str) -> list[Order]:
    async with get_sessionmaker()() as session:
        return list(await session.scalars(select(Order).where(Order.cart_id == cart_id)))


async def orders_of_payment(payment_intent_id: str) -> list[Order]:
    async with get_sessionmaker()() as session:
        return list(await session.scalars(select(Order).where(Order.payment_intent_id == payment_intent_id)))


async def transactions_of(order_id: str) -> list[OrderTransaction]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(select(OrderTransaction).where(OrderTransaction.order_id == order_id))
        )


async def outbox_of(order_id: str, channel: str) -> list[OutboxMessage]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.channel == channel, OutboxMessage.payload["order_id"].astext == order_id
                )
            )
        )


def attempt_ended(message: OutboxMessage) -> bool:
    """An attempt at the message has ended: it left, or it failed and waits for the next one (a
    message is written claimed for its first attempt, so `attempts` alone says it began)."""
    return message.status != "pending" or message.last_error is not None


async def confirmation_tried(order_id: str) -> tuple[OutboxMessage, OutboxMessage]:
    """The order's confirmation email and analytics event once the first attempt at each has ended:
    the order's workflow tries them in its first task, just after the checkout answered."""

    async def tried() -> tuple[OutboxMessage, OutboxMessage] | None:
        [email] = [
            m for m in await outbox_of(order_id, "email") if m.idempotency_key.endswith(":confirmation-email")
        ] or [None]
        [event] = await outbox_of(order_id, "analytics") or [None]
        if email is None or event is None or not (attempt_ended(email) and attempt_ended(event)):
            return None
        return email, event

    found: tuple[OutboxMessage, OutboxMessage] = await eventually(tried)
    return found


async def checkout_row(payment_intent_id: str) -> Checkout | None:
    async with get_sessionmaker()() as session:
        return await session.get(Checkout, payment_intent_id)


@dataclass
class Purchase:
    cart: dict[str, Any]
    payment_intent_id: str
    order: dict[str, Any]


async def buy(shopper: Shopper, variant_id: str, *, currency: str = "eur", quantity: int = 1) -> Purchase:
    """The whole happy path through the store API: cart, payment session, card, complete."""
    cart, payment_intent_id = await shopper.open_checkout(currency, [(variant_id, quantity)])
    await pay(payment_intent_id)
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    return Purchase(cart=cart, payment_intent_id=payment_intent_id, order=completed.json()["order"])

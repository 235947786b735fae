"""The worker's registered activities, run outside any workflow (ActivityEnvironment) on the
session's database and fake Stripe, the fake reached through the fault proxy so a test can lose
an answer and count what the fake did."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.db import get_sessionmaker
from core.settings import Settings, get_settings
from core.stripe_gateway import get_stripe_client, snapshot, stripe_client_from
from devstack import fakestripe
from domain.checkout import OrderRef, PaymentIntentSnapshot
from domain.money import to_stripe_amount
from models import Region
from services import orders
from tests.checkout.conftest import CARD_OK, MakeVariant, Shopper, make_variant, regions
from tests.conftest import ROOT, Outgoing, free_port, wait_for_port
from worker import build_activities

__all__ = ["make_variant", "regions"]  # fixtures shared with the end-to-end checkout tests

Activities = dict[str, Callable[..., Any]]


def registered_activities(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
    outgoing: Outgoing,
) -> Activities:
    """What `worker.build_activities` registers, by activity name."""
    built = build_activities(
        settings=settings,
        sessionmaker=sessionmaker,
        stripe_client=stripe_client,
        email_sender=outgoing,
        analytics=outgoing,
    )
    return {activity_name(function): function for function in built}


def activity_name(function: Callable[..., Any]) -> str:
    return activity._Definition.must_from_callable(function).name


@pytest.fixture(scope="session")
def stripe_proxy(localstripe_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """devstack.faultproxy in front of the session's fake Stripe."""
    port = free_port()
    log = (tmp_path_factory.mktemp("faultproxy") / "faultproxy.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.faultproxy", "--upstream", localstripe_url, "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def activities(database_url: str, stripe_proxy: str, outgoing: Outgoing) -> Activities:
    """The registered activities, their Stripe calls through the proxy."""
    settings = get_settings()
    proxied = stripe_client_from(settings.model_copy(update={"stripe_api_base": stripe_proxy}))
    return registered_activities(settings, get_sessionmaker(), proxied, outgoing)


@pytest.fixture
async def shopper(client: Any, regions: dict[str, Region]) -> Shopper:
    """The store API in-process: carts as a storefront builds them."""
    return Shopper(http=client, regions=regions)


@dataclass
class Placed:
    cart: dict[str, Any]
    payment: PaymentIntentSnapshot
    order: OrderRef
    variant_id: str


async def authorized_payment(cart: dict[str, Any]) -> PaymentIntentSnapshot:
    """A PaymentIntent for the cart's total, paid with a good card (authorized, not captured).

    Without the cart in its metadata, unlike a checkout's, so that no reconciler run of the
    session takes it for a checkout; the snapshot carries the cart as the checkout's would.
    """
    stripe_client = get_stripe_client()
    created = await stripe_client.v1.payment_intents.create_async(
        {
            "amount": to_stripe_amount(cart["total"], cart["currency_code"]),
            "currency": cart["currency_code"],
            "capture_method": "manual",
        }
    )
    paid = await fakestripe.pay(stripe_client, created.id, CARD_OK)
    return snapshot(paid).model_copy(update={"cart_id": cart["id"]})


@pytest.fixture
async def placed(shopper: Shopper, make_variant: MakeVariant) -> Placed:
    """An order placed from an authorized payment, not yet captured."""
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 2)])
    payment = await authorized_payment(cart)
    async with get_sessionmaker()() as session, session.begin():
        order = await orders.place_order(session, payment)
        ref = OrderRef(order_id=order.id, total=order.total, currency_code=order.currency_code)
    return Placed(cart=cart, payment=payment, order=ref, variant_id=variant_id)

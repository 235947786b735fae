"""Helpers for running `python -m devstack` as a user would, isolated in a temp DEV_DIR on free ports,
and for testing the fake Stripe the whole suite uses (tests/conftest.py's `localstripe_url`)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe
from aiohttp import web

from devstack import fakestripe
from tests.conftest import eventually

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"

ROOT = Path(__file__).resolve().parents[2]

# Everything that makes the supervisor use an outside service, or that the session's other
# fixtures set in os.environ (tests/conftest.py), is removed for the child.
_SCRUBBED = {
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TASK_QUEUE",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "ADMIN_API_TOKEN",
    "ENVIRONMENT",
    "LOCAL_MEDIA_DIR",
    "DEV_DIR",
    "API_PORT",
    "API_HOST",
    "TEMPORAL_PORT",
    "TEMPORAL_UI_PORT",
    "TEMPORAL_HTTP_PORT",
    "TEMPORAL_METRICS_PORT",
    "LOCALSTRIPE_PORT",
    "WORKER_METRICS_PORT",
    "WORKER_METRICS_HOST",
    "DEVSTACK_READY_TIMEOUT",
    "DEVSTACK_STOP_TIMEOUT",
}

PORT_VARIABLES = (
    "API_PORT",
    "TEMPORAL_PORT",
    "TEMPORAL_UI_PORT",
    "TEMPORAL_HTTP_PORT",
    "TEMPORAL_METRICS_PORT",
    "LOCALSTRIPE_PORT",
    "WORKER_METRICS_PORT",
)

DEVSTACK = [sys.executable, "-m", "devstack"]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nothing listens on right now (all held open while choosing)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


StackEnv = Callable[..., dict[str, str]]


@pytest.fixture
def dev_dir(tmp_path: Path) -> Path:
    return tmp_path / "dev"


@pytest.fixture
def stack_ports() -> dict[str, int]:
    return dict(zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES)), strict=True))


@pytest.fixture
def stack_env(dev_dir: Path, stack_ports: dict[str, int]) -> StackEnv:
    """The environment for a `python -m devstack` child: its own DEV_DIR, free ports, nothing external."""

    def make(**overrides: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key.upper() not in _SCRUBBED}
        env["DEV_DIR"] = str(dev_dir)
        env.update({name: str(port) for name, port in stack_ports.items()})
        env["PYTHONUNBUFFERED"] = "1"
        env.update(overrides)
        return env

    return make


# --- the fake Stripe every test uses (tests/conftest.py's `localstripe_url`), seen as our code sees it

FAKE_WEBHOOK_SECRET = "whsec_test_fakestripe_inbox"


@dataclass
class FakeStripe:
    url: str
    client: stripe.StripeClient

    def payment_intent(self, amount: int = 5000, currency: str = "eur") -> str:
        intent = self.client.v1.payment_intents.create(
            params={"amount": amount, "currency": currency, "capture_method": "manual"}
        )
        return str(intent.id)

    async def captured_payment(self, amount: int = 5000, currency: str = "eur") -> str:
        """A PaymentIntent paid with a good card and captured in full, as after a checkout."""
        payment_intent_id = self.payment_intent(amount, currency)
        await fakestripe.pay(self.client, payment_intent_id, CARD_OK)
        self.client.v1.payment_intents.capture(payment_intent_id)
        return payment_intent_id


@pytest.fixture(scope="session")
def fake_stripe(localstripe_url: str) -> FakeStripe:
    # No retries: a test must see each answer of the fake, 409s included.
    client = stripe.StripeClient(
        "sk_test_devstack", base_addresses={"api": localstripe_url}, max_network_retries=0
    )
    return FakeStripe(url=localstripe_url, client=client)


class WebhookInbox:
    """Every event the fake delivered to its registered webhook, each checked with Stripe's own
    signature verification (`stripe.Webhook.construct_event`)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def receive(self, request: web.Request) -> web.Response:
        payload = await request.read()
        event = stripe.Webhook.construct_event(
            payload, request.headers["Stripe-Signature"], FAKE_WEBHOOK_SECRET
        )
        self.events.append(event.to_dict())
        return web.json_response({"received": True})

    def about(self, object_id: str) -> list[dict[str, Any]]:
        """Events whose object is `object_id` or belongs to it (its charge or PaymentIntent)."""
        return [
            event
            for event in self.events
            if object_id
            in {event["data"]["object"].get(field) for field in ("id", "charge", "payment_intent")}
        ]

    async def wait_for(self, object_id: str, *types: str) -> list[dict[str, Any]]:
        """Wait (bounded) until events of all `types` about `object_id` arrived; returns those."""

        async def arrived() -> list[dict[str, Any]] | None:
            events = [event for event in self.about(object_id) if event["type"] in types]
            return events if {event["type"] for event in events} >= set(types) else None

        found: list[dict[str, Any]] = await eventually(arrived)
        return found


@pytest.fixture(scope="session")
async def webhook_inbox(fake_stripe: FakeStripe) -> AsyncIterator[WebhookInbox]:
    inbox = WebhookInbox()
    app = web.Application()
    app.router.add_post("/hooks", inbox.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    (port,) = free_ports(1)
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    await fakestripe.register_webhook(
        fake_stripe.url, "devstack-tests", f"http://127.0.0.1:{port}/hooks", FAKE_WEBHOOK_SECRET
    )
    try:
        yield inbox
    finally:
        await runner.cleanup()

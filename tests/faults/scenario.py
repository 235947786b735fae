"""Steps the fault scenarios share: paying, a checkout caught capturing, the final check."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from devstack import fakestripe
from devstack.faultproxy import request_log
from tests.checkout.conftest import CARD_OK, Shopper
from tests.conftest import eventually
from tests.faults.audit import audit
from tests.faults.stack import FaultStack

# The capture is done at once and answered this much later: long enough for the test to act
# while it is in flight, shorter than the Stripe client's timeout (tests/faults/stack.py).
CAPTURE_HOLD_SECONDS = 2


async def pay(stack: FaultStack, payment_intent_id: str) -> None:
    """What Stripe.js does in the browser, straight at the fake (the proxy is our side's network)."""
    await fakestripe.pay(stack.stripe, payment_intent_id, CARD_OK)


async def capture_requests(stack: FaultStack, payment_intent_id: str) -> list[dict[str, Any]]:
    return await request_log(stack.proxy_url, f"/v1/payment_intents/{payment_intent_id}/capture")


@dataclass
class Capturing:
    cart_id: str
    payment_intent_id: str
    # The storefront's `complete`, waiting for its answer.
    completing: asyncio.Task[httpx.Response]


async def capturing_checkout(stack: FaultStack, shopper: Shopper, variants: list[str]) -> Capturing:
    """A paid cart of two lines whose `complete` is under way, returned once the capture has
    reached the fake and its answer is held there (/_test/delays): the capture activity is in
    flight."""
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variants[0], 1), (variants[1], 2)])
    await pay(stack, payment_intent_id)
    await fakestripe.delay_requests(
        stack.fake_url, f"/v1/payment_intents/{payment_intent_id}/capture", CAPTURE_HOLD_SECONDS
    )
    completing = asyncio.create_task(shopper.complete(cart["id"]))

    async def in_flight() -> bool:
        return any(seen["status"] is None for seen in await capture_requests(stack, payment_intent_id))

    await eventually(in_flight)
    return Capturing(cart_id=cart["id"], payment_intent_id=payment_intent_id, completing=completing)


async def capture_answered(stack: FaultStack, payment_intent_id: str) -> bool:
    return any(seen["status"] == 200 for seen in await capture_requests(stack, payment_intent_id))


async def audit_completed(stack: FaultStack, cart_id: str, completed: httpx.Response) -> None:
    """The storefront got the cart's order, the one the audit finds."""
    assert completed.status_code == 200, completed.text
    (order,) = await audit(stack, [cart_id])
    assert completed.json()["order"]["id"] == order.id

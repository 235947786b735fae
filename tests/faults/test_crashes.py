"""A part of the stack dies while a checkout's capture is in flight: the worker (SIGKILL), the
Temporal server (SIGKILL, then started again on the same database file) or PostgreSQL (an
immediate shutdown, then started again). Each checkout still ends in exactly one order, captured
once, with one email and its stock taken once."""

from __future__ import annotations

import httpx
import pytest

from tests.checkout.conftest import Shopper
from tests.conftest import eventually
from tests.faults.audit import SETTLE_BOUND
from tests.faults.scenario import (
    Capturing,
    audit_completed,
    capture_answered,
    capturing_checkout,
)
from tests.faults.stack import FaultStack

pytestmark = pytest.mark.faults


@pytest.fixture
async def capturing(stack: FaultStack, shopper: Shopper, variants: list[str]) -> Capturing:
    return await capturing_checkout(stack, shopper, variants)


async def test_worker_killed_while_capturing_the_next_worker_finishes_the_checkout(
    stack: FaultStack, shopper: Shopper, capturing: Capturing
) -> None:
    await stack.kill_worker()
    # The capture was made at the fake, but the dead worker never reported it; the next worker
    # gets the activity again once its start-to-close timeout has passed.
    await stack.start_worker()

    await audit_completed(stack, capturing.cart_id, await _answer(shopper, capturing))


async def test_temporal_killed_and_restarted_on_its_database_mid_checkout(
    stack: FaultStack, shopper: Shopper, capturing: Capturing
) -> None:
    await stack.kill_temporal()
    # The worker's capture finishes while nobody can be told.
    await eventually(lambda: capture_answered(stack, capturing.payment_intent_id))
    await stack.start_temporal()

    # The `complete` in flight lost its Temporal connection (503): the storefront asks again.
    await audit_completed(stack, capturing.cart_id, await _answer(shopper, capturing))


async def test_postgres_restarted_mid_checkout(
    stack: FaultStack, shopper: Shopper, capturing: Capturing
) -> None:
    await stack.crash_postgres()

    async def captured_while_database_down() -> bool:
        """Stripe answered the capture with the database down: recording it fails, and is retried."""
        return await capture_answered(stack, capturing.payment_intent_id)

    await eventually(captured_while_database_down, within=SETTLE_BOUND)
    await stack.start_postgres()

    await audit_completed(stack, capturing.cart_id, await _answer(shopper, capturing))


async def _answer(shopper: Shopper, capturing: Capturing) -> httpx.Response:
    """The storefront's answer to the `complete` in flight: the order, or a 503 (the checkout
    could not answer within its bound, or lost Temporal) after which it asks again, as told."""
    first = await capturing.completing
    assert first.status_code in (200, 503), first.text
    return first if first.status_code == 200 else await _completed(shopper, capturing.cart_id)


async def _completed(shopper: Shopper, cart_id: str) -> httpx.Response:
    async def order() -> httpx.Response | None:
        response = await shopper.complete(cart_id)
        return response if response.status_code == 200 else None

    found: httpx.Response = await eventually(order, within=SETTLE_BOUND, interval=0.5)
    return found

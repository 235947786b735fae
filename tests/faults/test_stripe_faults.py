"""Stripe failing under a checkout (through the fault proxy): a 500, a hang past the client's
timeout, a connection closed without an answer; before Stripe did the work, or after it (the
answer lost). At the payment session the storefront gets a 503 it can retry, and the retry gets
the same PaymentIntent; at `complete` and at the capture the activities retry until Stripe
answers. The audit then finds one order captured once."""

from __future__ import annotations

import pytest

from devstack.faultproxy import Fault, When, inject_fault, pending_faults
from tests.checkout.conftest import Shopper
from tests.faults.scenario import audit_completed, pay
from tests.faults.stack import STRIPE_TIMEOUT_SECONDS, FaultStack

pytestmark = pytest.mark.faults

# Every try of one call: the client itself tries 3 times (tests/faults/stack.py).
ALL_TRIES = 3


@pytest.mark.parametrize(
    ("fault", "when", "times"),
    [
        # More than one activity attempt's tries: the workflow's retry policy has to step in.
        ("error", "before", ALL_TRIES + 1),
        ("error", "after", ALL_TRIES + 1),
        ("reset", "before", ALL_TRIES + 1),
        ("reset", "after", ALL_TRIES + 1),
        # Each hang costs the client's whole timeout: one per call, the client's retry answers it.
        ("hang", "after", 1),
    ],
)
async def test_stripe_failing_at_payment_session_complete_and_capture(
    stack: FaultStack, shopper: Shopper, variants: list[str], fault: Fault, when: When, times: int
) -> None:
    seconds = STRIPE_TIMEOUT_SECONDS + 1 if fault == "hang" else None
    cart = await shopper.cart("eur", [(variants[0], 1), (variants[1], 2)])

    await inject_fault(
        stack.proxy_url,
        "/v1/payment_intents",
        fault,
        when=when,
        method="POST",
        times=ALL_TRIES,
        seconds=seconds,
    )
    refused = await shopper.payment_session(cart["id"])
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "stripe_unavailable"
    session = await shopper.payment_session(cart["id"])
    assert session.status_code == 200, session.text
    payment_intent_id = session.json()["payment_session"]["payment_intent_id"]
    await pay(stack, payment_intent_id)

    # `complete` re-reads the PaymentIntent, then the order's capture.
    await inject_fault(
        stack.proxy_url,
        f"/v1/payment_intents/{payment_intent_id}",
        fault,
        when=when,
        method="GET",
        times=times,
        seconds=seconds,
    )
    await inject_fault(
        stack.proxy_url,
        f"/v1/payment_intents/{payment_intent_id}/capture",
        fault,
        when=when,
        method="POST",
        # Once Stripe has captured, the next attempt finds it so and asks no more.
        times=times if when == "before" else min(times, ALL_TRIES),
        seconds=seconds,
    )
    completed = await shopper.complete(cart["id"])

    assert await pending_faults(stack.proxy_url) == [], "every fault met its requests"
    await audit_completed(stack, cart["id"], completed)

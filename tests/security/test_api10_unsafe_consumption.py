"""API10 Unsafe consumption of APIs: what Stripe sends is verified, and never trusted for money.

A webhook is checked against its Stripe-Signature over the raw bytes (any change, even in
whitespace, fails) and refused when its timestamp is older than Stripe's 5-minute tolerance; a
verified event is only a hint: the checkout re-reads the PaymentIntent from Stripe before it
places an order (domain.checkout.PaymentIntentSnapshot), and charges what Order.total says.
What Stripe answers is read through one adapter and checked against the order
(`amount_mismatch`, tests/checkout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from services.dispatch import checkout_state
from tests.checkout.conftest import payment_intent_event, signed
from tests.conftest import WEBHOOK_SECRET, eventually


def _signature(body: bytes, timestamp: int) -> str:
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


async def test_an_event_is_verified_over_its_raw_bytes(shopper) -> None:
    event = payment_intent_event("payment_intent.succeeded", "pi_nobody")
    body, headers = signed(event)
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # the same JSON, other bytes

    changed = await shopper.http.post("/hooks/stripe", content=reformatted, headers=headers)
    unsigned = await shopper.http.post(
        "/hooks/stripe", content=body, headers={"Content-Type": "application/json"}
    )
    stale = await shopper.http.post(
        "/hooks/stripe",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": _signature(body, int(time.time()) - 600),
        },
    )

    for refused in (changed, unsigned, stale):
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_signature")


async def test_a_signed_event_claiming_a_payment_places_no_order_until_stripe_says_so(
    shopper, make_variant, temporal_env
) -> None:
    cart, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(), 1)])
    claim = payment_intent_event("payment_intent.succeeded", payment_intent_id)
    claim["data"]["object"] |= {"status": "succeeded", "amount_received": 1, "amount": 1}

    delivered = await shopper.webhook(claim)

    assert delivered.status_code == 200, delivered.text
    state = await eventually(
        lambda: _seen(temporal_env.client, payment_intent_id)
    )  # the workflow took the hint and re-read the PaymentIntent: still unpaid
    assert state.order_id is None
    completed = await shopper.complete(cart["id"])
    assert (completed.status_code, completed.json()["error"]["code"]) == (402, "payment_required")


async def _seen(client, payment_intent_id: str):
    state = await checkout_state(client, payment_intent_id)
    return state if state.events_seen >= 1 and state.payment_checks >= 1 else None

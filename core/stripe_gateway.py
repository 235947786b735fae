"""The one place that talks to Stripe's API, and the one adapter that reads PaymentIntents.

localstripe (dev and tests) returns some fields differently from Stripe (`latest_charge`
expanded, `amount_received`/`amount_capturable` missing); `PaymentIntentSnapshot.from_stripe`
tolerates both shapes so no other code has to.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import stripe

from core.settings import Settings, get_settings
from domain.checkout import PaymentIntentSnapshot


def stripe_client_from(settings: Settings) -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        max_network_retries=2,
        http_client=stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds),
    )


@lru_cache
def get_stripe_client() -> stripe.StripeClient:
    return stripe_client_from(get_settings())


def snapshot(payment_intent: stripe.PaymentIntent) -> PaymentIntentSnapshot:
    data: dict[str, Any] = payment_intent.to_dict()
    status = str(data["status"])
    amount = int(data["amount"])
    capturable = data.get("amount_capturable")
    if capturable is None:
        capturable = amount if status == "requires_capture" else 0
    received = data.get("amount_received")
    if received is None:
        received = amount if status == "succeeded" else 0
    charge = data.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    last_error = data.get("last_payment_error") or {}
    metadata = data.get("metadata") or {}
    return PaymentIntentSnapshot(
        id=str(data["id"]),
        status=status,
        amount=amount,
        amount_capturable=int(capturable),
        amount_received=int(received),
        currency=str(data["currency"]).lower(),
        latest_charge_id=charge_id,
        cart_id=metadata.get("cart_id"),
        last_payment_error_code=last_error.get("decline_code") or last_error.get("code"),
    )


async def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntentSnapshot:
    return snapshot(await get_stripe_client().v1.payment_intents.retrieve_async(payment_intent_id))


async def check_stripe() -> None:
    """Stripe answers an authenticated request with our key (the health check): the cheapest
    one localstripe serves too. No retries, so a down Stripe is seen at once."""
    await get_stripe_client().v1.payment_intents.list_async({"limit": 1}, {"max_network_retries": 0})

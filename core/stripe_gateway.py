"""The one place that talks to Stripe's API, and the one adapter that reads its objects.

localstripe (dev and tests) returns some fields differently from Stripe (`latest_charge`
expanded, `amount_received`/`amount_capturable` missing); `PaymentIntentSnapshot.from_stripe`
tolerates both shapes so no other code has to.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _client(client: stripe.StripeClient | None) -> stripe.StripeClient:
    """The caller's client (a worker's, a test's), else the process's."""
    return client if client is not None else get_stripe_client()


# --- PaymentIntents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PayablePaymentIntent:
    """A PaymentIntent with the client secret the storefront confirms it with."""

    payment: PaymentIntentSnapshot
    client_secret: str


def _payable(payment_intent: stripe.PaymentIntent) -> PayablePaymentIntent:
    return PayablePaymentIntent(snapshot(payment_intent), str(payment_intent.client_secret))


async def retrieve_payment_intent(
    payment_intent_id: str, *, client: stripe.StripeClient | None = None
) -> PaymentIntentSnapshot:
    return (await retrieve_payable(payment_intent_id, client=client)).payment


async def retrieve_payable(
    payment_intent_id: str, *, client: stripe.StripeClient | None = None
) -> PayablePaymentIntent:
    return _payable(await _client(client).v1.payment_intents.retrieve_async(payment_intent_id))


async def create_payment_intent(
    *,
    amount: int,
    currency: str,
    cart_id: str,
    idempotency_key: str,
    client: stripe.StripeClient | None = None,
) -> PayablePaymentIntent:
    """A manual-capture PaymentIntent for the cart; the same key answers the same PaymentIntent."""
    return _payable(
        await _client(client).v1.payment_intents.create_async(
            {
                "amount": amount,
                "currency": currency,
                "capture_method": "manual",
                "metadata": {"cart_id": cart_id},
            },
            {"idempotency_key": idempotency_key},
        )
    )


async def update_payment_intent_amount(
    payment_intent_id: str, amount: int, *, client: stripe.StripeClient | None = None
) -> PayablePaymentIntent:
    return _payable(
        await _client(client).v1.payment_intents.update_async(payment_intent_id, {"amount": amount})
    )


async def cancel_payment_intent(
    payment_intent_id: str, *, client: stripe.StripeClient | None = None
) -> PaymentIntentSnapshot:
    return snapshot(await _client(client).v1.payment_intents.cancel_async(payment_intent_id))


async def capture_payment_intent(
    payment_intent_id: str, amount: int, *, idempotency_key: str, client: stripe.StripeClient | None = None
) -> PaymentIntentSnapshot:
    return snapshot(
        await _client(client).v1.payment_intents.capture_async(
            payment_intent_id, {"amount_to_capture": amount}, {"idempotency_key": idempotency_key}
        )
    )


async def list_payment_intents(
    *, limit: int, starting_after: str | None = None, client: stripe.StripeClient | None = None
) -> stripe.ListObject[stripe.PaymentIntent]:
    """One page of PaymentIntents, newest first."""
    if starting_after is None:
        return await _client(client).v1.payment_intents.list_async({"limit": limit})
    return await _client(client).v1.payment_intents.list_async(
        {"limit": limit, "starting_after": starting_after}
    )


@dataclass(frozen=True)
class StripeRefund:
    """A Refund as Stripe holds it now (amount in Stripe's units of `currency`)."""

    id: str
    amount: int
    currency: str
    status: str
    reason: str | None
    failure_reason: str | None
    # Set by us on every refund we create: the Refund row it belongs to.
    our_refund_id: str | None


@dataclass(frozen=True)
class StripeDispute:
    id: str
    amount: int
    currency: str
    reason: str
    status: str
    created: int
    # (balance transaction ID, signed amount in Stripe's units): withdrawn < 0, reinstated > 0.
    balance_transactions: tuple[tuple[str, int], ...]


def refund_of(refund: stripe.Refund) -> StripeRefund:
    data: dict[str, Any] = refund.to_dict()
    metadata = data.get("metadata") or {}
    return StripeRefund(
        id=str(data["id"]),
        amount=int(data["amount"]),
        currency=str(data["currency"]).lower(),
        status=str(data.get("status") or "succeeded"),
        reason=data.get("reason"),
        failure_reason=data.get("failure_reason"),
        our_refund_id=metadata.get("refund_id"),
    )


def dispute_of(dispute: stripe.Dispute) -> StripeDispute:
    data: dict[str, Any] = dispute.to_dict()
    movements = []
    for transaction in data.get("balance_transactions") or []:
        if isinstance(transaction, dict):
            movements.append((str(transaction["id"]), int(transaction["amount"])))
    return StripeDispute(
        id=str(data["id"]),
        amount=int(data["amount"]),
        currency=str(data["currency"]).lower(),
        reason=str(data.get("reason") or "general"),
        status=str(data["status"]),
        created=int(data.get("created") or 0),
        balance_transactions=tuple(movements),
    )


async def check_stripe() -> None:
    """Stripe answers an authenticated request with our key (the health check): the cheapest
    one localstripe serves too. No retries, so a down Stripe is seen at once."""
    await get_stripe_client().v1.payment_intents.list_async({"limit": 1}, {"max_network_retries": 0})


# --- refunds, disputes, charges ------------------------------------------------------------------

PAGE_SIZE = 100


async def refund_payment_intent(
    payment_intent_id: str, *, idempotency_key: str, client: stripe.StripeClient | None = None
) -> None:
    """Refund the whole captured amount (a checkout's compensation)."""
    await _client(client).v1.refunds.create_async(
        {"payment_intent": payment_intent_id}, {"idempotency_key": idempotency_key}
    )


async def create_refund(
    params: dict[str, object], *, idempotency_key: str, client: stripe.StripeClient | None = None
) -> StripeRefund:
    return refund_of(
        await _client(client).v1.refunds.create_async(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
    )


async def refunds_of(
    payment_intent_id: str, *, client: stripe.StripeClient | None = None
) -> list[StripeRefund]:
    """Every refund of the PaymentIntent, all pages."""
    found: list[StripeRefund] = []
    params: dict[str, object] = {"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
    while True:
        page = await _client(client).v1.refunds.list_async(params)  # type: ignore[arg-type]
        found.extend(refund_of(refund) for refund in page.data)
        if not page.has_more or not page.data:
            return found
        params["starting_after"] = page.data[-1].id


async def disputes_of(
    payment_intent_id: str, *, client: stripe.StripeClient | None = None
) -> list[StripeDispute]:
    page = await _client(client).v1.disputes.list_async(
        {"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
    )
    return [dispute_of(dispute) for dispute in page.data]


async def payment_intent_of_charge(charge_id: str) -> str | None:
    charge = await get_stripe_client().v1.charges.retrieve_async(charge_id)
    found = charge.to_dict().get("payment_intent")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def verify_webhook(payload: bytes, signature: str, secret: str) -> stripe.Event:
    """The event, if Stripe signed this body with `secret`; stripe.SignatureVerificationError, or
    ValueError for a body that is not an event, otherwise."""
    event: stripe.Event = stripe.Webhook.construct_event(payload, signature, secret)
    return event

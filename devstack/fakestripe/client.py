"""What tests, benchmarks and the supervisor call on a running fake: the webhook registration,
a card payment as Stripe.js makes it, and the `/_test/...` controls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # only for the annotations: the server itself does not import stripe
    import stripe


async def _post(base_url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        response = await client.post(path, json=body)
        response.raise_for_status()
        return response


async def register_webhook(base_url: str, name: str, url: str, secret: str) -> None:
    """Make the fake deliver its events to `url`, signed with `secret` (kept in memory by
    localstripe: register again after every start)."""
    await _post(base_url, f"/_config/webhooks/{name}", {"url": url, "secret": secret})


async def pay(client: stripe.StripeClient, payment_intent_id: str, card: str) -> stripe.PaymentIntent:
    """Pay a PaymentIntent with a test card the way Stripe.js does in the browser: create a card
    PaymentMethod, attach it to the PaymentIntent, confirm.

    Returns the confirmed PaymentIntent (`requires_capture` for a manual-capture one paid with a good
    card); a declined card raises `stripe.CardError`, as it does with Stripe, and leaves the
    PaymentIntent `requires_payment_method`: `pay` it again with another card.
    """
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(payment_intent_id, {"payment_method": method.id})
    return await client.v1.payment_intents.confirm_async(payment_intent_id)


async def open_dispute(
    base_url: str, payment_intent_id: str, *, amount: int | None = None, reason: str | None = None
) -> dict[str, Any]:
    """The cardholder's bank disputes the PaymentIntent's captured charge; returns the Dispute."""
    body: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        body["amount"] = amount
    if reason is not None:
        body["reason"] = reason
    dispute: dict[str, Any] = (await _post(base_url, "/_test/disputes", body)).json()
    return dispute


async def resolve_dispute(base_url: str, dispute_id: str, outcome: str) -> dict[str, Any]:
    """The bank decides the dispute: `won` (funds reinstated) or `lost`; returns the Dispute."""
    dispute: dict[str, Any] = (
        await _post(base_url, f"/_test/disputes/{dispute_id}/resolve", {"outcome": outcome})
    ).json()
    return dispute


async def fail_refund(base_url: str, refund_id: str, failure_reason: str = "unknown") -> dict[str, Any]:
    """A succeeded refund fails later, as a card refund can; returns the Refund."""
    refund: dict[str, Any] = (
        await _post(base_url, f"/_test/refunds/{refund_id}/fail", {"failure_reason": failure_reason})
    ).json()
    return refund


async def delay_requests(
    base_url: str,
    path: str,
    seconds: float,
    *,
    method: str = "POST",
    times: int = 1,
    before: bool = False,
) -> None:
    """Hold the next `times` requests matching `method` and `path` (a glob) for `seconds` after
    they ran: the work is done, the answer late (a lost response for a client that times out).
    With `before`, they wait before they run instead."""
    await _post(
        base_url,
        "/_test/delays",
        {"path": path, "seconds": seconds, "method": method, "times": times, "before": before},
    )


async def revoke_keys(base_url: str, keys: list[str], *, reject_all: bool = False) -> None:
    """Make Stripe refuse these secret keys (or every one) with 401, as a rotated key is refused."""
    await _post(base_url, "/_test/keys", {"revoked": keys, "reject_all": reject_all})


async def accept_all_keys(base_url: str) -> None:
    """Every key works again."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        (await client.delete("/_test/keys")).raise_for_status()

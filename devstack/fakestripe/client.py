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


async def delay_requests(
    base_url: str, path: str, seconds: float, *, method: str = "POST", times: int = 1
) -> None:
    """Hold the next `times` requests matching `method` and `path` (a glob) for `seconds` after
    they ran: the work is done, the answer late (a lost response for a client that times out)."""
    await _post(
        base_url, "/_test/delays", {"path": path, "seconds": seconds, "method": method, "times": times}
    )

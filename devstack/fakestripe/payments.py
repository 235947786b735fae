"""Paying a PaymentIntent as on Stripe: a declined card can be replaced by another, and Stripe.js
confirms with the publishable key and the client secret.

localstripe (1.15) leaves a declined PaymentIntent's failed charge as `latest_charge` and refuses
any later confirmation; Stripe puts it in `requires_payment_method` (the declined method
detached, `last_payment_error` kept) and accepts a new payment method and a new confirmation.
Its confirm endpoint also refuses `payment_method` (500 "Not implemented"), which Stripe.js
sends, and its fake Stripe.js `confirmCardPayment` only knows the 3-D Secure step. Here:

* Stripe's decline test cards (`DECLINED_WHEN_CHARGED`) are declined at confirmation;
* after a decline, `payment_method` is cleared, the 402 is a `card_error` carrying the
  `payment_intent` (what Stripe.js hands a storefront as `error.payment_intent`), and
  `last_payment_error` names the declined method; attaching another method makes the
  PaymentIntent `requires_confirmation` again;
* `POST /v1/payment_intents/{id}/confirm` takes `payment_method` or `payment_method_data` (a card
  made on the spot), and `client_secret`; with the publishable key and the right client secret
  it needs no secret key, as from a browser; confirming in a state that cannot be confirmed is
  400 `payment_intent_unexpected_state`;
* `/js.stripe.com/v3/` serves localstripe's script plus `stripe-js-additions.js`, whose
  `confirmCardPayment(clientSecret, {payment_method: {card: cardElement} | "pm_..."})` confirms
  as above (then the 3-D Secure dialog when the card asks for it).
"""

from __future__ import annotations

import functools
import re
from importlib import resources as package_files
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError

from devstack.fakestripe.objects import stripe_error

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
# Stripe's decline test cards (generic, insufficient funds, lost, stolen, expired, incorrect CVC,
# processing error) are declined when charged; localstripe declines them only when attached to a
# customer, so it would authorize 4000 0000 0000 0002, the one the Stripe docs tell you to try.
DECLINED_WHEN_CHARGED = (
    "4000000000000002",
    "4000000000009995",
    "4000000000009987",
    "4000000000009979",
    "4000000000000069",
    "4000000000000127",
    "4000000000000119",
)
_CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")


def patch_models() -> None:
    """Must run before `localstripe.server` is imported: that import registers the routes of
    `resources.extra_apis` (confirm among them) with the functions they hold then."""
    intent_class = resources.PaymentIntent
    localstripe_status = intent_class.status.fget
    localstripe_last_error = intent_class.last_payment_error.fget
    localstripe_report_failure = intent_class._report_failure
    localstripe_confirm = intent_class._api_confirm

    def status(intent: Any) -> str:
        charge = intent.latest_charge
        if (
            not intent._canceled
            and not intent.next_action
            and intent.payment_method
            and charge is not None
            and charge.status == "failed"
        ):
            return "requires_confirmation"  # a new payment method after a decline
        result: str = localstripe_status(intent)
        return result

    def last_payment_error(intent: Any) -> dict[str, Any] | None:
        error: dict[str, Any] | None = localstripe_last_error(intent)
        declined = getattr(intent, "_declined_payment_method", None)
        if error is not None and "charge" in error:
            error["type"] = "card_error"
            if declined is not None:
                error["payment_method"] = resources.PaymentMethod._api_retrieve(declined)._export()
        return error

    def report_failure(intent: Any) -> None:
        # As on Stripe: the declined method is detached, so the PaymentIntent waits for another.
        intent._declined_payment_method = intent.payment_method
        intent.payment_method = None
        try:
            localstripe_report_failure(intent)
        except UserError as declined:
            error = declined.body["error"]
            error["type"] = "card_error"
            error["payment_intent"] = intent._export()
            error["payment_method"] = intent.last_payment_error.get("payment_method")
            raise

    def confirm(
        cls: Any,
        /,
        id: str,
        payment_method: str | None = None,
        payment_method_data: dict[str, Any] | None = None,
        client_secret: str | None = None,
        **kwargs: Any,
    ) -> Any:
        intent = cls._api_retrieve(id)
        if client_secret is not None and client_secret != intent.client_secret:
            raise stripe_error(
                400,
                "The client_secret provided does not match the client_secret associated with the"
                " PaymentIntent.",
                param="client_secret",
            )
        if intent.status not in _CONFIRMABLE:
            raise stripe_error(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
                code="payment_intent_unexpected_state",
            )
        if payment_method_data is not None:
            if payment_method is not None or not isinstance(payment_method_data, dict):
                raise stripe_error(400, "Pass either payment_method or payment_method_data (an object).")
            payment_method = resources.PaymentMethod(**payment_method_data).id
        if payment_method is not None:
            resources.PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
            intent.payment_method = payment_method
        return localstripe_confirm(id, **kwargs)

    method_class = resources.PaymentMethod
    localstripe_charging_is_declined = method_class._charging_is_declined

    def charging_is_declined(method: Any) -> bool:
        declined: bool = localstripe_charging_is_declined(method)
        return declined or (method.type == "card" and method._card_number in DECLINED_WHEN_CHARGED)

    method_class._charging_is_declined = charging_is_declined
    intent_class.status = property(status)
    intent_class.last_payment_error = property(last_payment_error)
    intent_class._report_failure = report_failure
    intent_class._api_confirm = classmethod(confirm)
    resources.extra_apis[:] = [
        (method, url, intent_class._api_confirm if func == localstripe_confirm else func)
        for method, url, func in resources.extra_apis
    ]


async def confirmable_with_client_secret(request: web.Request) -> bool:
    """A browser's confirmation: publishable key and the PaymentIntent's own client secret."""
    match = _CONFIRM_PATH.match(request.path)
    if request.method != "POST" or match is None:
        return False
    from localstripe.server import get_post_data

    data = await get_post_data(request, remove_auth=False) or {}
    key, secret = data.get("key"), data.get("client_secret")
    intent = resources.store.get("payment_intent:" + match.group(1))
    return (
        isinstance(key, str)
        and key.startswith("pk_")
        and intent is not None
        and secret == intent.client_secret
    )


@functools.cache
def _stripe_js() -> str:
    localstripe_js = package_files.files("localstripe").joinpath("localstripe-v3.js").read_text()
    additions = package_files.files(__package__).joinpath("stripe-js-additions.js").read_text()
    return localstripe_js + "\n" + additions


@web.middleware
async def stripe_js_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """localstripe's own route for the script cannot be registered again, so it is answered here."""
    if request.method == "GET" and request.path == "/js.stripe.com/v3/":
        return web.Response(text=_stripe_js(), content_type="application/javascript")
    response: web.StreamResponse = await handler(request)
    return response

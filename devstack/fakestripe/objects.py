"""What every extension of localstripe makes the way Stripe makes it: error bodies, events,
balance transactions, and a request's parameters.

localstripe's `UserError` always says `invalid_request_error` and carries no `param`; its events
carry no `request` or `previous_attributes`; its balance transactions know only charges and
refunds. The helpers here fill those gaps for the modules of this package.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from aiohttp import web
from localstripe import resources, webhooks
from localstripe.errors import UserError

# The Idempotency-Key of the API request being handled (set by the idempotency middleware):
# Stripe puts it in the `request` of every event that request causes.
current_idempotency_key: ContextVar[str | None] = ContextVar("current_idempotency_key", default=None)


def stripe_error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> Exception:
    """An error localstripe's error middleware answers with, in Stripe's shape:
    `{"error": {"type", "message", "code"?, "doc_url"?, "param"?}}`."""
    refused = UserError(status, message)
    body = refused.body["error"]
    body["type"] = type
    if code is not None:
        body["code"] = code
        body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
    if param is not None:
        body["param"] = param
    error: Exception = refused
    return error


def emit(event_type: str, subject: Any, previous_attributes: dict[str, Any] | None = None) -> None:
    """Record an event about `subject` (kept for GET /v1/events) and send it to the webhooks,
    signed as localstripe signs its own."""
    event = resources.Event(event_type, subject)
    if previous_attributes is not None:
        event.data["previous_attributes"] = previous_attributes
    webhooks.schedule_webhook(event)


def patch_events() -> None:
    """Every event, localstripe's own included, says which request caused it, as Stripe's do
    (`request.id` stays null: the fake has no request IDs); lists are newest first, as Stripe's."""
    event_class = resources.Event
    localstripe_init = event_class.__init__
    localstripe_list = event_class._api_list_all

    def init(event: Any, *args: Any, **kwargs: Any) -> None:
        localstripe_init(event, *args, **kwargs)
        event.request = {"id": None, "idempotency_key": current_idempotency_key.get()}

    def list_all(cls: Any, /, url: str, **params: Any) -> Any:
        page = localstripe_list(url, **params)
        page._list.reverse()
        return page

    event_class.__init__ = init
    event_class._api_list_all = classmethod(list_all)


def balance_transaction(
    *, amount: int, currency: str, type: str, reporting_category: str, source: str, description: str
) -> str:
    """A balance transaction of a kind localstripe's constructor refuses (refund failures,
    dispute withdrawals and reinstatements); returns its ID."""
    txn = resources.BalanceTransaction.__new__(resources.BalanceTransaction)
    resources.StripeObject.__init__(txn)  # ID, created, livemode, and its place in the store
    txn.amount = amount
    txn.available_on = txn.created
    txn.currency = currency
    txn.description = description
    txn.exchange_rate = None
    txn.fee = 0
    txn.fee_details = []
    txn.reporting_category = reporting_category
    txn.source = source
    txn.status = "available"
    txn.type = type
    return str(txn.id)


def refuse_unknown(params: dict[str, Any]) -> None:
    """Stripe names the first parameter it does not know."""
    if params:
        name = next(iter(params))
        raise stripe_error(400, f"Received unknown parameter: {name}", param=name)


def list_of_payment(object_name: str) -> Any:
    """The `_api_list_all` of refunds and disputes: newest first, as Stripe lists them, of one
    charge and/or PaymentIntent when given (404 for an unknown one)."""

    def list_all(
        cls: Any,
        /,
        url: str,
        charge: Any = None,
        payment_intent: Any = None,
        limit: Any = None,
        starting_after: Any = None,
    ) -> Any:
        if payment_intent is not None:
            resources.PaymentIntent._api_retrieve(str(payment_intent))
        if charge is not None:
            resources.Charge._api_retrieve(str(charge))
        page = resources.List(url, limit=limit, starting_after=starting_after)
        prefix = object_name + ":"
        newest_first = reversed([value for key, value in resources.store.items() if key.startswith(prefix)])
        page._list = [
            item
            for item in newest_first
            if (charge is None or item.charge == charge)
            and (payment_intent is None or item.payment_intent == payment_intent)
        ]
        return page

    return classmethod(list_all)


async def request_params(request: web.Request) -> dict[str, Any]:
    """The parameters of a request as localstripe reads them (JSON or form body, then query)."""
    from localstripe.server import get_post_data, unflatten_data

    params: dict[str, Any] = {}
    if request.method == "POST":
        params.update(await get_post_data(request) or {})
    params.update(unflatten_data(request.query) or {})
    return params


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)

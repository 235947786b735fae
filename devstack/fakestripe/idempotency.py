"""Idempotency-Key on POST /v1/... requests, as Stripe honours it (https://docs.stripe.com/api/idempotent_requests).

* The first request with a key runs; its status and body are saved, whatever they are (a 402
  decline too). The same key with the same parameters on the same endpoint answers that saved
  response again (header `Idempotent-Replayed: true`): same object, no second one.
* The same key with other parameters, or on another endpoint: 400 `idempotency_error`, with the
  messages Stripe sends (as quoted in stripe-php/stripe-java issues and integrations' tests).
* The same key while its first request is still running: 409 `idempotency_error`, code
  `idempotency_key_in_use` (a code in Stripe's error code list, e.g. stripe-go's
  `ErrorCodeIdempotencyKeyInUse`); nothing is saved for it and a retry may succeed.
* Keys are kept 24 hours, in the store: with a state file they survive a restart.

The fake runs one request at a time except where a handler waits (a `/_test/delays` hold), so
"still running" means held by such a delay.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError

from devstack.fakestripe.objects import canonical, current_idempotency_key, request_params, stripe_error

KEEP_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
# A store key no localstripe class lists (theirs are "<object>:<id>").
_LEDGER = "idempotency_keys"
_in_flight: set[str] = set()


@dataclass(frozen=True)
class SavedResponse:
    method: str
    path: str
    params: str
    status: int
    compressed_body: bytes  # zlib: the state file is pickled whole after every write
    content_type: str
    saved_at: float


def _ledger() -> dict[str, SavedResponse]:
    ledger: dict[str, SavedResponse] | None = resources.store.get(_LEDGER)
    if ledger is None:
        ledger = {}
        resources.store[_LEDGER] = ledger
    return ledger


def forget_expired(ledger: dict[str, SavedResponse], now: float) -> None:
    """Drop keys saved more than 24 h ago (the ledger is in the order they were saved)."""
    while ledger:
        oldest = next(iter(ledger))
        if now - ledger[oldest].saved_at < KEEP_SECONDS:
            return
        del ledger[oldest]


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        response: web.StreamResponse = await handler(request)
        return response
    if len(key) > MAX_KEY_LENGTH:
        raise stripe_error(400, f"Idempotency keys can be at most {MAX_KEY_LENGTH} characters long.")
    params = canonical(await request_params(request))
    ledger = _ledger()
    forget_expired(ledger, time.time())
    saved = ledger.get(key)
    if saved is not None:
        return _replay(saved, key, request, params)
    if key in _in_flight:
        raise stripe_error(
            409,
            "There is currently another in-progress request using this Idempotent Key (that probably"
            f" means you submitted twice, and the other request is still going through): {key}."
            " Please try again later.",
            type="idempotency_error",
            code="idempotency_key_in_use",
        )
    _in_flight.add(key)
    token = current_idempotency_key.set(key)
    try:
        try:
            response = await handler(request)
        except UserError as refused:
            response = refused.to_response()
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            ledger[key] = SavedResponse(
                method=request.method,
                path=request.path,
                params=params,
                status=response.status,
                compressed_body=zlib.compress(response.body, 1),
                content_type=response.content_type,
                saved_at=time.time(),
            )
        return response
    finally:
        current_idempotency_key.reset(token)
        _in_flight.discard(key)


def _replay(saved: SavedResponse, key: str, request: web.Request, params: str) -> web.Response:
    if saved.path != request.path:
        raise stripe_error(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were first used"
            f" for ('{request.path}' vs '{saved.path}'). Try using a key other than '{key}' if you"
            " meant to execute a different request.",
            type="idempotency_error",
        )
    if saved.params != params:
        raise stripe_error(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were first"
            f" used with. Try using a key other than '{key}' if you meant to execute a different"
            " request.",
            type="idempotency_error",
        )
    return web.Response(
        status=saved.status,
        body=zlib.decompress(saved.compressed_body),
        content_type=saved.content_type,
        headers={"Idempotent-Replayed": "true"},
    )

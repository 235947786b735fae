"""What one client may cost the API: the size of a request body, and how often it may open carts
and payment sessions.

Body size (MAX_REQUEST_BODY_BYTES; image uploads MEDIA_MAX_UPLOAD_BYTES plus the multipart
envelope): a declared Content-Length above the limit is refused before anything is read, and a
body sent without one (chunked) is counted as it arrives and refused as soon as it passes the
limit, so no request body is ever held whole beyond it. Either way 413 `payload_too_large`.

Rate limits are token buckets per client IP, in this process: each route's bucket holds its
per-minute allowance and refills continuously, so a client may use the whole allowance at once
and then that many per minute. With several API replicas each counts on its own (a client
spread over N replicas by the load balancer gets up to N times the allowance); a hard limit
across replicas belongs in the load balancer or a shared store. A refusal is 429 `rate_limited`
with `Retry-After`: the seconds until the bucket holds a token again.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import APIError, error_body
from core.settings import Settings

# Room for the multipart envelope around an uploaded file (boundaries, part headers).
MULTIPART_ENVELOPE_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body may have at most {limit} bytes")


class RequestBodyLimit:
    """Pure ASGI middleware: every request body within its limit, or 413 before it is read whole.

    `larger` maps route path templates (`/admin/products/{product_id}/images`) to their own limit.
    """

    def __init__(self, app: ASGIApp, *, limit: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.larger = [(compile_path(path)[0], size) for path, size in larger.items()]

    def limit_for(self, path: str) -> int:
        return next((size for regex, size in self.larger if regex.match(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body read: the app's handler answers it as JSON.
                    raise BodyTooLarge(limit)
            return message

        async def observed_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, observed_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        error_body("payload_too_large", f"The request body may have at most {limit} bytes"), status_code=413
    )


def upload_body_limit(settings: Settings) -> int:
    """The body limit of a route taking a file (multipart): the file's own limit and its envelope."""
    return max(settings.media_max_upload_bytes + MULTIPART_ENVELOPE_BYTES, settings.max_request_body_bytes)


# --- rate limits -------------------------------------------------------------------------

# Clients remembered at once per limit; the least recently seen is forgotten first (it would
# come back with a full bucket, as a new client does), so many addresses cannot exhaust memory.
MAX_TRACKED_CLIENTS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`per_minute` tokens per client, refilled continuously; `take` spends one or says how long
    until one is there. `per_minute=0` turns the limit off."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when a token was spent; otherwise the seconds until the next one (nothing spent)."""
        if self.per_minute == 0:
            return 0.0
        now, rate = self.clock(), self.per_minute / 60
        bucket = self.buckets.pop(client, None) or _Bucket(tokens=self.per_minute, updated=now)
        bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        self.buckets[client] = bucket
        if len(self.buckets) > MAX_TRACKED_CLIENTS:
            self.buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A route dependency: the caller's IP spends a token of the app's bucket `name`, or 429.

    The buckets live in `app.state.rate_limits` (api.main makes them from the settings)."""

    name: str

    async def __call__(self, request: Request) -> None:
        buckets: TokenBuckets = request.app.state.rate_limits[self.name]
        client = request.client.host if request.client is not None else "unknown"
        wait = buckets.take(client)
        if wait > 0:
            raise APIError(
                429,
                "rate_limited",
                f"Too many requests from this address; try again in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )


CART_CREATION = RateLimit("cart_creation")
PAYMENT_SESSIONS = RateLimit("payment_sessions")


def rate_limits(settings: Settings) -> dict[str, TokenBuckets]:
    return {
        CART_CREATION.name: TokenBuckets(settings.rate_limit_carts_per_minute),
        PAYMENT_SESSIONS.name: TokenBuckets(settings.rate_limit_payment_sessions_per_minute),
    }

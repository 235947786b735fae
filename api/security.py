"""What every response says to browsers, and which other origins may call the API.

- CORS: only the origins in STORE_CORS_ORIGINS (the dev default is a local storefront's,
  http://localhost:5173) may call the API from a browser; no cookies are involved (the admin
  API takes a bearer key, the order page a header token), so no credentials are allowed.
  The demo shop at /shop/ is served by the API itself: same origin, no CORS needed.
- Security headers on every response: no MIME sniffing, no framing, no referrer; JSON answers
  are never cached and may load nothing; HSTS in production (served over HTTPS there).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# An API answer is data, never a page: it may load nothing, and holds carts, orders, admin data.
JSON_ONLY = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000"}


class SecurityHeaders:
    """Pure ASGI middleware; a header a response sets itself (a media file's CSP) is kept."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.always = ALWAYS | (HSTS if production else {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                json = headers.get("content-type", "").startswith("application/json")
                for name, value in (self.always | (JSON_ONLY if json else {})).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def protect(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeaders, production=settings.environment == "production")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.store_cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Order-Token"],
        # So a storefront's script can read how long to wait after a 429 or 503.
        expose_headers=["Retry-After"],
        allow_credentials=False,
        max_age=600,
    )

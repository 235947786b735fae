"""What every request gets: its own log context, one log line, and the HTTP metrics."""

from __future__ import annotations

import logging
import time

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from core.logs import CONTEXT_FIELDS, bind_log_context, log_scope

logger = logging.getLogger("api.request")

# Polled by load balancers and Prometheus every few seconds: their lines only at DEBUG.
_QUIET_ROUTES = frozenset({"/health", "/metrics"})


def route_template(scope: Scope) -> str:
    """The matched route's template (`/store/carts/{cart_id}`), never the raw path: a metric label
    and a log field of bounded cardinality. `unmatched` for paths no route serves (404s)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestObserver:
    """Pure ASGI middleware (the route runs in the same task, so what it binds reaches the line)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        with log_scope():
            try:
                await self.app(scope, receive, send_observed)
            finally:
                elapsed = time.perf_counter() - started
                method, route = str(scope["method"]), route_template(scope)
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_REQUEST_DURATION.labels(method, route).observe(elapsed)
                logger.log(
                    logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )


async def bind_path_ids(request: Request) -> None:
    """App-wide dependency: a request about a cart, order or PaymentIntent says so on every line."""
    bind_log_context(**{name: request.path_params.get(name) for name in CONTEXT_FIELDS})

"""localstripe's aiohttp app with this package's extensions, applied in the order they need.

Everything is done from outside localstripe: replaced methods and properties on its resource
classes, middlewares added to its app, and extra routes. Call `build_app` once per process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from devstack.fakestripe import delays, disputes, idempotency, keys, objects, payments, refunds, state


def build_app(state_file: Path | None) -> web.Application:
    objects.patch_events()
    payments.patch_models()
    refunds.patch_models()
    state.use_state_file(state_file)
    # Only now: importing localstripe's server registers its routes, confirm's patched one included.
    from localstripe import server

    app: web.Application = server.app
    middlewares = app.middlewares
    auth_at = list(middlewares).index(server.auth_middleware)
    middlewares[auth_at] = _auth(server.auth_middleware)
    # Inside localstripe's error middleware (which answers the 401), before its key check.
    middlewares.insert(auth_at, keys.revoked_keys_middleware)
    middlewares.insert(0, payments.stripe_js_middleware)
    # Inside localstripe's save-after-write middleware, so a saved key is written with its objects;
    # the delay innermost, so a held request keeps its Idempotency-Key in flight.
    middlewares.append(idempotency.idempotency_middleware)
    middlewares.append(delays.delay_middleware)
    disputes.add_routes(app)
    refunds.add_routes(app)
    delays.add_routes(app)
    keys.add_routes(app)
    server.store.try_load_from_disk()
    return app


def _auth(localstripe_auth: Any) -> Any:
    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        # Test controls need no key, like localstripe's /_config/; a browser confirms a payment
        # with the publishable key and the client secret.
        if request.path.startswith("/_test/") or await payments.confirmable_with_client_secret(request):
            allowed: web.StreamResponse = await handler(request)
            return allowed
        checked: web.StreamResponse = await localstripe_auth(request, handler)
        return checked

    return auth

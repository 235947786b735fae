"""Test control: API keys that stop working, as a rotated or deleted Stripe key does.

`POST /_test/keys` `{"revoked": ["sk_test_..."], "reject_all": false}` replaces the set of
refused secret keys (`reject_all`: every one); `DELETE /_test/keys` accepts every key again.
A refused key gets what Stripe answers (docs.stripe.com/keys, /error-handling): HTTP 401 with
`{"error": {"type": "invalid_request_error", "code": "api_key_expired", "message": "Expired
API Key provided: sk_test_****…"}}` (stripe-python raises `stripe.AuthenticationError` for any
401). Test controls (`/_test/`, `/_config/`) and the browser's publishable key are never refused.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from devstack.fakestripe.objects import request_params, stripe_error

_revoked: set[str] = set()
_reject_all = False


def _redacted(key: str) -> str:
    return f"{key[:8]}{'*' * 12}{key[-4:]}"


@web.middleware
async def revoked_keys_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if (_revoked or _reject_all) and request.path.startswith("/v1/"):
        from localstripe.server import get_api_key

        key = get_api_key(request)
        if key is not None and (_reject_all or key in _revoked):
            raise stripe_error(401, f"Expired API Key provided: {_redacted(key)}", code="api_key_expired")
    response: web.StreamResponse = await handler(request)
    return response


async def set_revoked(request: web.Request) -> web.Response:
    global _reject_all
    params = await request_params(request)
    revoked, reject_all = params.get("revoked", []), params.get("reject_all", False)
    if not isinstance(revoked, list) or not all(isinstance(key, str) for key in revoked):
        raise stripe_error(400, "revoked must be a list of API keys", param="revoked")
    if not isinstance(reject_all, bool):
        raise stripe_error(400, "reject_all must be true or false", param="reject_all")
    _revoked.clear()
    _revoked.update(revoked)
    _reject_all = reject_all
    return web.json_response({"revoked": sorted(_revoked), "reject_all": _reject_all})


async def accept_all(request: web.Request) -> web.Response:
    global _reject_all
    _revoked.clear()
    _reject_all = False
    return web.json_response({"revoked": [], "reject_all": False})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_test/keys", set_revoked)
    app.router.add_delete("/_test/keys", accept_all)

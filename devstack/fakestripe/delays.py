"""Test control: a slow Stripe. `POST /_test/delays` `{path, seconds, method?, times?, before?}`
holds the next `times` (default 1) requests whose method (default POST) and path (a glob: `*`
matches any text, e.g. `/v1/payment_intents/*/capture`) match for `seconds` after they ran, before
they answer. The work is done but the answer is late: a client that times out has "lost the
response", and a second request with the same Idempotency-Key meanwhile finds the first still in
flight. With `before: true` the request waits before it runs instead: what happens meanwhile
(a hold that expires, say) is what it finds. `DELETE /_test/delays` forgets every pending delay.
"""

from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devstack.fakestripe.objects import request_params, stripe_error

MAX_SECONDS = 60.0


@dataclass
class Delay:
    method: str
    path: str
    seconds: float
    times: int
    before: bool = False

    def matches(self, request: web.Request) -> bool:
        return request.method == self.method and fnmatch.fnmatchcase(request.path, self.path)


_pending: list[Delay] = []


def _take(request: web.Request) -> Delay | None:
    for delay in _pending:
        if delay.matches(request):
            delay.times -= 1
            if delay.times == 0:
                _pending.remove(delay)
            return delay
    return None


@web.middleware
async def delay_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    delay = _take(request) if _pending and not request.path.startswith("/_test/") else None
    if delay is not None and delay.before:
        await asyncio.sleep(delay.seconds)
    try:
        response: web.StreamResponse = await handler(request)
        return response
    finally:
        if delay is not None and not delay.before:
            await asyncio.sleep(delay.seconds)


async def add_delay(request: web.Request) -> web.Response:
    params = await request_params(request)
    path, method = params.get("path"), params.get("method", "POST")
    before = params.get("before", False) in (True, "true")  # JSON, or a form's "true"
    try:
        seconds = float(params["seconds"])
        times = int(params.get("times", 1))
    except (KeyError, TypeError, ValueError):
        raise stripe_error(400, "seconds must be a number and times an integer") from None
    if not isinstance(path, str) or not path.startswith("/"):
        raise stripe_error(400, "path must be a URL path such as /v1/refunds", param="path")
    if not 0 < seconds <= MAX_SECONDS or times < 1 or method not in ("GET", "POST", "DELETE"):
        raise stripe_error(400, f"need 0 < seconds <= {MAX_SECONDS:g}, times >= 1, method GET|POST|DELETE")
    delay = Delay(method=method, path=path, seconds=seconds, times=times, before=before)
    _pending.append(delay)
    return web.json_response({"delay": vars(delay)})


async def clear_delays(request: web.Request) -> web.Response:
    _pending.clear()
    return web.json_response({"delays": []})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_test/delays", add_delay)
    app.router.add_delete("/_test/delays", clear_delays)

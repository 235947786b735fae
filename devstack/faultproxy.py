"""A fault proxy for the fake Stripe: it forwards every request to the upstream and answers with
the upstream's response, unless a fault set at run time matches the request.

    python -m devstack.faultproxy --upstream http://127.0.0.1:8420 --port 8421 [--latency 0.3]

Point `STRIPE_API_BASE` at it and Stripe can be made to fail the ways a network and a provider
fail, per path, while the stack runs, or answer as slowly as the real one (the benchmark's
`--stripe-latency`). Controls (under `/_faults`, never forwarded):

* `POST /_faults` `{path, fault, method?, times?, when?, seconds?}`: the next `times` (default 1)
  requests whose path matches the glob `path` (`*` matches any text, e.g.
  `/v1/payment_intents/*/capture`) and whose method is `method` (default: any) get `fault`:
  - `error`: a 500 with Stripe's error body (`api_error`);
  - `hang`: no answer for `seconds`, then the connection is closed (a client with a shorter
    timeout gives up first);
  - `reset`: the connection is closed without an answer.
  `when` is `before` (default: the upstream never sees the request) or `after` (the upstream
  did the work and its answer is lost: what an Idempotency-Key is for).
* `GET /_faults`: the faults still pending (with the `times` left); `DELETE /_faults`: forget them.
* `PUT /_faults/latency` `{seconds}`: from now on every forwarded request waits `seconds` before
  it reaches the upstream (one round trip to a distant Stripe); `GET /_faults/latency` reads it.
* `GET /_faults/log?path=<glob>`: every request seen, oldest first: `method`, `path`,
  `idempotency_key`, `fault`, `when`, `status` (the upstream's answer, null while in flight or
  when it was never forwarded) and `replayed` (the upstream answered `Idempotent-Replayed: true`).

The functions at the end are what tests call.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx
from aiohttp import ClientSession, ClientTimeout, web

Fault = Literal["error", "hang", "reset"]
When = Literal["before", "after"]
FAULTS: tuple[Fault, ...] = ("error", "hang", "reset")
WHENS: tuple[When, ...] = ("before", "after")
MAX_HANG_SECONDS = 120.0
MAX_LATENCY_SECONDS = 10.0

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy recomputes for the body it sends.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


@dataclass
class PendingFault:
    path: str
    fault: Fault
    method: str | None
    times: int
    when: When
    seconds: float

    def matches(self, request: web.Request) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        return fnmatch.fnmatchcase(request.path, self.path)


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    fault: Fault | None
    when: When | None
    status: int | None = None
    replayed: bool = False


class FaultProxy:
    def __init__(self, upstream: str, latency: float = 0.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.latency = _latency(latency)
        self.pending: list[PendingFault] = []
        self.seen: list[Seen] = []
        self._session: ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/_faults", self.add_fault)
        app.router.add_get("/_faults", self.list_faults)
        app.router.add_delete("/_faults", self.clear_faults)
        app.router.add_get("/_faults/log", self.log)
        app.router.add_get("/_faults/latency", self.get_latency)
        app.router.add_put("/_faults/latency", self.put_latency)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _: web.Application) -> None:
        # No timeout of our own: the client's is the one under test.
        self._session = ClientSession(timeout=ClientTimeout(total=None), auto_decompress=False)

    async def _close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    def _take(self, request: web.Request) -> PendingFault | None:
        for pending in self.pending:
            if pending.matches(request):
                pending.times -= 1
                if pending.times == 0:
                    self.pending.remove(pending)
                return pending
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fault = self._take(request)
        seen = Seen(
            method=request.method,
            path=request.path,
            idempotency_key=request.headers.get("Idempotency-Key"),
            fault=fault.fault if fault else None,
            when=fault.when if fault else None,
        )
        self.seen.append(seen)
        if fault is not None and fault.when == "before":
            return await self._fail(request, fault)
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        # Shielded: a client that gives up (its timeout) must not stop the exchange with the
        # upstream half-way, nor keep its answer out of the log.
        response = await asyncio.shield(self._forward(request, body, seen))
        if fault is not None:
            return await self._fail(request, fault)
        return response

    async def _forward(self, request: web.Request, body: bytes, seen: Seen) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            answer = await upstream.read()
            seen.status = upstream.status
            seen.replayed = upstream.headers.get("Idempotent-Replayed") == "true"
            headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_FORWARDED}
            return web.Response(status=upstream.status, headers=headers, body=answer)

    async def _fail(self, request: web.Request, fault: PendingFault) -> web.StreamResponse:
        if fault.fault == "error":
            # Stripe's shape for its own failures; its SDKs retry them.
            body = {
                "error": {"type": "api_error", "message": "An error occurred with our API (fault proxy)."}
            }
            return web.json_response(body, status=500)
        if fault.fault == "hang":
            await asyncio.sleep(fault.seconds)
        return _drop_connection(request)

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            pending = _parse_fault(await request.json())
        except (ValueError, TypeError, KeyError) as bad:
            return web.json_response(
                {"error": {"type": "invalid_request_error", "message": str(bad)}}, status=400
            )
        self.pending.append(pending)
        return web.json_response({"fault": asdict(pending)})

    async def list_faults(self, _: web.Request) -> web.Response:
        return web.json_response({"faults": [asdict(pending) for pending in self.pending]})

    async def clear_faults(self, _: web.Request) -> web.Response:
        self.pending.clear()
        return web.json_response({"faults": []})

    async def get_latency(self, _: web.Request) -> web.Response:
        return web.json_response({"seconds": self.latency})

    async def put_latency(self, request: web.Request) -> web.Response:
        try:
            params = await request.json()
            self.latency = _latency(float(params["seconds"]))
        except (ValueError, TypeError, KeyError) as bad:
            return web.json_response(
                {"error": {"type": "invalid_request_error", "message": f"seconds: {bad}"}}, status=400
            )
        return web.json_response({"seconds": self.latency})

    async def log(self, request: web.Request) -> web.Response:
        pattern = request.query.get("path", "*")
        entries = [asdict(seen) for seen in self.seen if fnmatch.fnmatchcase(seen.path, pattern)]
        return web.json_response({"requests": entries})


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the client's connection without a byte of answer."""
    if request.transport is not None:
        request.transport.abort()
    # Never written: the transport is gone.
    return web.Response(status=500)


def _latency(seconds: float) -> float:
    if not 0 <= seconds <= MAX_LATENCY_SECONDS:
        raise ValueError(f"a latency needs 0 <= seconds <= {MAX_LATENCY_SECONDS:g}")
    return seconds


def _parse_fault(params: Any) -> PendingFault:
    if not isinstance(params, dict):
        raise TypeError("the body must be a JSON object")
    path, fault, when = params["path"], params["fault"], params.get("when", "before")
    method = params.get("method")
    times = int(params.get("times", 1))
    seconds = float(params.get("seconds", 0))
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("path must be a URL path (a glob) such as /v1/payment_intents/*/capture")
    if fault not in FAULTS or when not in WHENS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}; when one of {', '.join(WHENS)}")
    if method is not None and method not in ("GET", "POST", "DELETE"):
        raise ValueError("method must be GET, POST or DELETE")
    if times < 1:
        raise ValueError("times must be at least 1")
    if fault == "hang" and not 0 < seconds <= MAX_HANG_SECONDS:
        raise ValueError(f"a hang needs 0 < seconds <= {MAX_HANG_SECONDS:g}")
    return PendingFault(path=path, fault=fault, method=method, times=times, when=when, seconds=seconds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.faultproxy", description="a fault proxy in front of the fake Stripe"
    )
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8420")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8421)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every forwarded request waits (default 0)"
    )
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, args.latency)
    print(
        f"fault proxy on http://{args.host}:{args.port} → {args.upstream}, latency {proxy.latency:g} s",
        file=sys.stderr,
        flush=True,
    )
    web.run_app(proxy.app(), host=args.host, port=args.port, print=None, shutdown_timeout=1.0)


# --- what tests call -----------------------------------------------------------------------------


async def inject_fault(
    base_url: str,
    path: str,
    fault: Fault,
    *,
    when: When = "before",
    method: str | None = None,
    times: int = 1,
    seconds: float | None = None,
) -> None:
    """Make the next `times` requests matching `path` (and `method`) fail with `fault`."""
    body: dict[str, Any] = {"path": path, "fault": fault, "when": when, "times": times}
    if method is not None:
        body["method"] = method
    if seconds is not None:
        body["seconds"] = seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        (await client.post("/_faults", json=body)).raise_for_status()


async def pending_faults(base_url: str) -> list[dict[str, Any]]:
    """The faults that have not yet met all their requests."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        response = await client.get("/_faults")
        response.raise_for_status()
        pending: list[dict[str, Any]] = response.json()["faults"]
        return pending


async def clear_faults(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        (await client.delete("/_faults")).raise_for_status()


async def set_latency(base_url: str, seconds: float) -> None:
    """Every request forwarded from now on waits `seconds` first."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        (await client.put("/_faults/latency", json={"seconds": seconds})).raise_for_status()


async def request_log(base_url: str, path: str = "*") -> list[dict[str, Any]]:
    """The requests the proxy has seen whose path matches the glob `path`, oldest first."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        response = await client.get("/_faults/log", params={"path": path})
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["requests"]
        return entries


if __name__ == "__main__":
    main()

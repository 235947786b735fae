"""The fault proxy's latency: every forwarded request waits as long as a distant Stripe would
(the benchmark's `--stripe-latency`), set at start or while it runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devstack.faultproxy import FaultProxy, request_log, set_latency


async def _balance(_: web.Request) -> web.Response:
    return web.json_response({"object": "balance"})


@pytest.fixture
async def proxy_url() -> AsyncIterator[str]:
    upstream_app = web.Application()
    upstream_app.router.add_get("/v1/balance", _balance)
    async with (
        TestServer(upstream_app) as upstream,
        TestServer(FaultProxy(str(upstream.make_url(""))).app()) as proxy,
    ):
        yield str(proxy.make_url("")).rstrip("/")


async def _timed_balance(url: str) -> tuple[float, httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        began = time.perf_counter()
        response = await client.get("/v1/balance")
        return time.perf_counter() - began, response


async def test_a_latency_set_while_it_runs_delays_every_request_and_changes_nothing_else(
    proxy_url: str,
) -> None:
    await set_latency(proxy_url, 0.25)
    took, response = await _timed_balance(proxy_url)
    assert response.status_code == 200 and response.json() == {"object": "balance"}
    assert took >= 0.25

    await set_latency(proxy_url, 0)
    async with httpx.AsyncClient(base_url=proxy_url) as client:
        assert (await client.get("/_faults/latency")).json() == {"seconds": 0}
    assert [entry["status"] for entry in await request_log(proxy_url, "/v1/balance")] == [200]


async def test_a_latency_out_of_bounds_is_refused(proxy_url: str) -> None:
    async with httpx.AsyncClient(base_url=proxy_url) as client:
        for bad in ({"seconds": -1}, {"seconds": 60}, {"seconds": "soon"}, {}):
            answer = await client.put("/_faults/latency", json=bad)
            assert answer.status_code == 400, bad
            assert answer.json()["error"]["type"] == "invalid_request_error"
        assert (await client.get("/_faults/latency")).json() == {"seconds": 0.0}

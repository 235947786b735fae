"""GET /health names the dependency that is down: degraded (200) for each in turn, 503 only
without the database, ok when everything answers. Real services, pointed at closed ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.db import get_engine
from tests.conftest import _reset_cached_clients, free_port

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(
    monkeypatch: pytest.MonkeyPatch,
    temporal_env: WorkflowEnvironment,
    running_worker: Worker,
    localstripe_url: str,
) -> Serve:
    """A fresh API whose settings are the session's, changed by `environment`; restored after.

    With `temporal=True` the app uses the session's Temporal client (otherwise it connects to
    TEMPORAL_ADDRESS on first use, as in production).
    """

    @asynccontextmanager
    async def make(*, temporal: bool = True, **environment: str) -> AsyncIterator[httpx.AsyncClient]:
        with monkeypatch.context() as patch:
            for name, value in environment.items():
                patch.setenv(name, value)
            _reset_cached_clients()
            app = create_app()
            if temporal:
                app.state.temporal = temporal_env.client
            try:
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://ops"
                ) as http:
                    yield http
            finally:
                await get_engine().dispose()
        _reset_cached_clients()

    return make


def closed_port_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{free_port()}"


async def health(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    answer = await http.get("/health")
    return answer.status_code, answer.json()


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {name: check["status"] for name, check in body["checks"].items()}


@pytest.mark.e2e
async def test_everything_up_is_ok(serve: Serve) -> None:
    async with serve() as http:
        code, body = await health(http)

    assert (code, body["status"]) == (200, "ok"), body
    assert statuses(body) == {"database": "ok", "temporal": "ok", "stripe": "ok", "worker": "ok"}
    assert all(check["latency_ms"] >= 0 for check in body["checks"].values())


@pytest.mark.e2e
async def test_database_down_is_503_the_api_cannot_serve(serve: Serve) -> None:
    async with serve(DATABASE_URL=closed_port_url("postgresql") + "/gracestowel") as http:
        code, body = await health(http)

    assert (code, body["status"]) == (503, "degraded"), body
    assert statuses(body) == {"database": "down", "temporal": "ok", "stripe": "ok", "worker": "ok"}
    assert body["checks"]["database"]["detail"]


@pytest.mark.e2e
async def test_temporal_down_is_degraded_and_the_worker_unknown(serve: Serve) -> None:
    async with serve(temporal=False, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}") as http:
        code, body = await health(http)

    assert (code, body["status"]) == (200, "degraded"), body
    assert statuses(body) == {"database": "ok", "temporal": "down", "stripe": "ok", "worker": "unknown"}
    assert body["checks"]["temporal"]["detail"] == "not reachable"


@pytest.mark.e2e
async def test_stripe_down_is_degraded(serve: Serve) -> None:
    async with serve(STRIPE_API_BASE=closed_port_url("http")) as http:
        code, body = await health(http)

    assert (code, body["status"]) == (200, "degraded"), body
    assert statuses(body) == {"database": "ok", "temporal": "ok", "stripe": "down", "worker": "ok"}


@pytest.mark.e2e
async def test_no_worker_polling_the_task_queue_is_degraded(serve: Serve) -> None:
    async with serve(TEMPORAL_TASK_QUEUE="nobody-polls-this-queue") as http:
        code, body = await health(http)

    assert (code, body["status"]) == (200, "degraded"), body
    assert statuses(body) == {"database": "ok", "temporal": "ok", "stripe": "ok", "worker": "down"}
    assert "nobody-polls-this-queue" in body["checks"]["worker"]["detail"]


@pytest.mark.e2e
async def test_a_burst_of_probes_is_answered_by_one_round_of_checks(serve: Serve) -> None:
    async with serve() as http:
        answers = await asyncio.gather(*(health(http) for _ in range(20)))

    # Each round measures its own latencies: twenty identical bodies come from one round.
    bodies = [body for _, body in answers]
    assert all(body == bodies[0] for body in bodies), bodies

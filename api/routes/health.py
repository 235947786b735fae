"""GET /health: can the API serve, and which of its dependencies is down.

Each dependency is checked concurrently, each within CHECK_TIMEOUT_SECONDS, and the whole
answer is kept for CACHE_SECONDS (concurrent callers share one run), so a flood of probes never
becomes a flood on PostgreSQL, Temporal or Stripe. 503 only when the database is down: without
it the API cannot answer anything (no cart, no order, no admin read); with Temporal, Stripe or
the worker down it still serves catalog, carts and placed orders, so it says `degraded` with 200
and a load balancer keeps sending traffic. Details name the kind of failure only (this route is
public); the full error is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client

from api.deps import SettingsDep, get_temporal
from api.errors import APIError
from core.db import get_engine
from core.settings import Settings
from core.stripe_gateway import check_stripe
from core.temporal import task_queue_pollers

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 1.0
# A live worker keeps a long poll open (about a minute) and polls again: one seen within this
# window is polling; a worker that died drops out of the answer after it.
POLLER_FRESHNESS = timedelta(seconds=90)


class CheckStatus(StrEnum):
    OK = "ok"
    DOWN = "down"
    UNKNOWN = "unknown"  # could not be asked (the worker, while Temporal is down)


class Check(BaseModel):
    status: CheckStatus
    latency_ms: float
    detail: str | None = None


class HealthChecks(BaseModel):
    database: Check
    temporal: Check
    stripe: Check
    worker: Check


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    checks: HealthChecks


class _Down(Exception):
    """A dependency answered, and the answer is bad; the message is the check's detail."""


async def _timed(name: str, probe: Callable[[], Awaitable[None]]) -> Check:
    started = time.perf_counter()
    status, detail = CheckStatus.OK, None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe()
    except TimeoutError:
        status, detail = CheckStatus.DOWN, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except _Down as down:
        status, detail = CheckStatus.DOWN, str(down)
    except Exception as exc:
        logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
        status, detail = CheckStatus.DOWN, type(exc).__name__
    return Check(status=status, latency_ms=round((time.perf_counter() - started) * 1000, 1), detail=detail)


async def _database() -> None:
    async with get_engine().connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _workers_polling(client: Client, task_queue: str) -> None:
    """A poller seen lately for workflow tasks and one for activity tasks on our task queue."""
    fresh_after = datetime.now(UTC) - POLLER_FRESHNESS
    kinds = {
        "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    }
    answers = await asyncio.gather(*(task_queue_pollers(client, task_queue, kind) for kind in kinds.values()))
    missing = [
        name
        for name, pollers in zip(kinds, answers, strict=True)
        if not any(p.last_access_time.ToDatetime(tzinfo=UTC) >= fresh_after for p in pollers)
    ]
    if missing:
        raise _Down(
            f"no worker polled task queue {task_queue!r} for {' or '.join(missing)} tasks"
            f" in the last {POLLER_FRESHNESS.total_seconds():g} s"
        )


async def _temporal_and_worker(request: Request, settings: Settings) -> tuple[Check, Check]:
    """Temporal first (the worker can only be asked through it), then the worker's pollers."""
    client: Client | None = None

    async def temporal() -> None:
        nonlocal client
        try:
            connected = await get_temporal(request)
        except APIError as unreachable:
            raise _Down("not reachable") from unreachable
        if not await connected.service_client.check_health():
            raise _Down("not serving")
        client = connected

    temporal_check = await _timed("temporal", temporal)
    if client is None:
        return temporal_check, Check(status=CheckStatus.UNKNOWN, latency_ms=0, detail="Temporal is down")
    ready = client
    return temporal_check, await _timed(
        "worker", lambda: _workers_polling(ready, settings.temporal_task_queue)
    )


async def _run_checks(request: Request, settings: Settings) -> HealthResponse:
    database, stripe, (temporal, worker) = await asyncio.gather(
        _timed("database", _database), _timed("stripe", check_stripe), _temporal_and_worker(request, settings)
    )
    checks = HealthChecks(database=database, temporal=temporal, stripe=stripe, worker=worker)
    everything_up = all(check.status == CheckStatus.OK for check in (database, temporal, stripe, worker))
    return HealthResponse(status="ok" if everything_up else "degraded", checks=checks)


class _HealthCache:
    """The last answer and when it was made; the run in flight, shared by concurrent callers."""

    def __init__(self) -> None:
        self.answer: HealthResponse | None = None
        self.answered_at = 0.0
        self.running: asyncio.Task[HealthResponse] | None = None

    async def get(self, request: Request, settings: Settings) -> HealthResponse:
        if self.answer is not None and time.monotonic() - self.answered_at < CACHE_SECONDS:
            return self.answer
        if self.running is None:
            self.running = asyncio.create_task(_run_checks(request, settings))
            self.running.add_done_callback(self._store)
        # Shielded: a caller that hangs up does not cancel the run the others wait for.
        return await asyncio.shield(self.running)

    def _store(self, task: asyncio.Task[HealthResponse]) -> None:
        self.running = None
        if not task.cancelled() and task.exception() is None:
            self.answer, self.answered_at = task.result(), time.monotonic()


def _cache_of(app: FastAPI) -> _HealthCache:
    cache: _HealthCache | None = getattr(app.state, "health", None)
    if cache is None:
        cache = app.state.health = _HealthCache()
    return cache


@router.get(
    "/health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "The database is down: nothing can be served"}},
)
async def health(request: Request, settings: SettingsDep) -> HealthResponse | JSONResponse:
    answer = await _cache_of(request.app).get(request, settings)
    if answer.checks.database.status != CheckStatus.OK:
        return JSONResponse(answer.model_dump(mode="json"), status_code=503)
    return answer

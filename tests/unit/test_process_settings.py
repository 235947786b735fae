"""The settings that size each process: the API's database pool and the worker's slots."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from core.db import engine_for
from core.settings import Settings
from worker import build_worker


def test_the_database_pool_is_sized_by_the_settings() -> None:
    settings = Settings(
        database_url="postgresql://shop@db.internal/shop", database_pool_size=3, database_max_overflow=7
    )
    engine = engine_for(settings)
    assert engine.pool.size() == 3  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 7  # type: ignore[attr-defined]


async def test_the_worker_runs_as_many_tasks_at_once_as_the_settings_say(
    temporal_env: WorkflowEnvironment,
) -> None:
    settings = Settings(
        worker_max_concurrent_activities=7,
        worker_max_concurrent_workflow_tasks=5,
        worker_max_concurrent_local_activities=3,
    )
    # A queue of its own: the SDK refuses a second worker on the session worker's queue.
    config = build_worker(temporal_env.client, f"slots-{uuid.uuid4()}", [], settings).config()
    assert config.get("max_concurrent_activities") == 7
    assert config.get("max_concurrent_workflow_tasks") == 5
    assert config.get("max_concurrent_local_activities") == 3

"""The worker serves the Temporal SDK's own metrics (pollers, task latencies, activity results) on a
port of its own, WORKER_METRICS_PORT; 0 or empty switches that off."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings, get_settings
from core.temporal import connect_temporal
from domain.ids import new_id
from tests.conftest import Outgoing, eventually, free_port, stack_activities
from worker import build_worker, sdk_runtime


@pytest.mark.e2e
async def test_the_worker_serves_the_sdk_metrics_on_its_own_port(
    database_url: str, temporal_env: WorkflowEnvironment, localstripe_url: str, outgoing: Outgoing
) -> None:
    port = free_port()
    settings = get_settings().model_copy(
        update={
            "worker_metrics_port": port,
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "temporal_task_queue": new_id("metrics-test"),
        }
    )
    client = await connect_temporal(settings, runtime=sdk_runtime(settings))

    async def polling_metrics() -> str | None:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        # The pollers' gauge appears a moment after the queue's first metrics: wait for both.
        return text if settings.temporal_task_queue in text and "temporal_num_pollers" in text else None

    async with build_worker(client, settings.temporal_task_queue, stack_activities(outgoing)):
        text = await eventually(polling_metrics)

    assert "temporal_num_pollers" in text


@pytest.mark.parametrize("off", ["0", ""])
def test_worker_metrics_can_be_switched_off(off: str) -> None:
    assert sdk_runtime(Settings(worker_metrics_port=off)) is None

"""Temporal client, built the same way for the API, the worker and the tests."""

from __future__ import annotations

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from core.settings import Settings, get_settings
from core.tracing import temporal_interceptors


async def connect_temporal(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Client:
    """`runtime`: the SDK runtime (the worker's carries its Prometheus metrics); else the default."""
    settings = settings or get_settings()
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=api_key,
        tls=settings.temporal_tls or api_key is not None,
        data_converter=pydantic_data_converter,
        interceptors=temporal_interceptors(settings),
        runtime=runtime,
    )


async def task_queue_pollers(
    client: Client, task_queue: str, task_type: TaskQueueType.ValueType
) -> list[PollerInfo]:
    """The workers that polled `task_queue` for this type of task lately (Temporal's
    DescribeTaskQueue: each with its identity and `last_access_time`)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=task_type
        )
    )
    return list(response.pollers)

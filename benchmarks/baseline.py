"""The baseline: a bare workflow of 5 sequential no-op regular activities.

This is what a checkout is compared with (see ../shared/notes/temporal.md, "Measured on these
machines"): same Temporal dev server, same worker options as `worker.build_worker`, its own task
queue, its worker in the benchmark process. Workflow code is re-imported by the sandbox: this
module imports nothing but temporalio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.stats import Batch

if TYPE_CHECKING:
    from worker import WorkerSlots

TASK_QUEUE = "bench-baseline"
STEPS = 5


@activity.defn(name="bench_noop")
async def noop() -> None:
    return None


@workflow.defn(name="BenchBaseline")
class BaselineWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        for _ in range(steps):
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
        return steps


def baseline_worker(client: Client, slots: WorkerSlots) -> Worker:
    """With the production worker's slots (worker.worker_slots); its other options are the SDK's defaults
    there too."""
    return Worker(client, task_queue=TASK_QUEUE, workflows=[BaselineWorkflow], activities=[noop], **slots)


async def _one(client: Client, workflow_id: str) -> float:
    started = time.perf_counter()
    done = await client.execute_workflow(
        BaselineWorkflow.run,
        STEPS,
        id=workflow_id,
        task_queue=TASK_QUEUE,
        execution_timeout=timedelta(seconds=120),
    )
    if done != STEPS:
        raise RuntimeError(f"baseline workflow {workflow_id} returned {done}")
    return time.perf_counter() - started


def workflow_id(label: str, index: int) -> str:
    """The ID of the batch `label`'s workflow number `index` (0, 1, ...)."""
    return f"bench-{label}-{index}"


async def run_batch(client: Client, *, label: str, count: int, concurrency: int) -> Batch:
    """`count` workflows, at most `concurrency` in flight; each timed from start to result."""
    gate = asyncio.Semaphore(concurrency)

    async def limited(index: int) -> float:
        async with gate:
            return await _one(client, workflow_id(label, index))

    started = time.perf_counter()
    latencies: Sequence[float] = await asyncio.gather(*(limited(i) for i in range(count)))
    return Batch(tuple(latencies), time.perf_counter() - started, concurrency)

"""`make replay-check`, the deploy gate: every open workflow of ours on a Temporal server replayed
against the workflow code checked out here, failing on the first one that does not replay.

    python -m devstack.replay_check

A new worker picks up the workflows that are running now and replays their histories on its own
code; a change that makes different commands (an activity added, moved or removed, a timer, a
child workflow...) breaks them with a non-determinism error. Run this with the code about to be
deployed, before deploying it: it lists the open workflows of the types in `worker.WORKFLOWS`
on the worker's task queue, fetches each history and replays it with
`temporalio.worker.Replayer`.

Settings exactly as the worker reads them (`core.settings`): `TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_TASK_QUEUE`, `TEMPORAL_API_KEY` / `TEMPORAL_TLS`, so it runs
against the dev server, a cluster or Temporal Cloud alike.

Exit codes: 0 every open workflow replays (or there is none); 1 one does not: its workflow ID,
type, run and the error are printed; 2 Temporal could not be asked (settings, connection).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from pydantic import ValidationError
from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError
from temporalio.worker import Replayer

from core.settings import Settings, get_settings
from core.temporal import connect_temporal
from worker import WORKFLOWS


@dataclass(frozen=True)
class ReplayFailure:
    workflow_id: str
    run_id: str
    workflow_type: str
    error: str


@dataclass
class ReplayReport:
    replayed: Counter[str] = field(default_factory=Counter)  # by workflow type
    failure: ReplayFailure | None = None


def open_workflows_query(task_queue: str, workflows: Sequence[type]) -> str:
    """Temporal's visibility query for the running workflows of these types on the task queue."""
    names = ", ".join(f"'{workflow._Definition.must_from_class(cls).name}'" for cls in workflows)
    return f"ExecutionStatus = 'Running' AND TaskQueue = '{task_queue}' AND WorkflowType IN ({names})"


def _started(history: WorkflowHistory) -> tuple[str, str]:
    """The workflow type and run ID, from the history's first event."""
    first = history.events[0]
    return (
        first.workflow_execution_started_event_attributes.workflow_type.name,
        first.workflow_execution_started_event_attributes.original_execution_run_id,
    )


async def replay_open_workflows(client: Client, task_queue: str, workflows: Sequence[type]) -> ReplayReport:
    """Replay the open workflows' histories on `workflows`; stops at the first that fails."""
    replayer = Replayer(workflows=list(workflows), data_converter=client.data_converter)
    histories = client.list_workflows(open_workflows_query(task_queue, workflows)).map_histories()
    report = ReplayReport()
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            workflow_type, run_id = _started(result.history)
            if result.replay_failure is not None:
                error = f"{type(result.replay_failure).__name__}: {result.replay_failure}"
                report.failure = ReplayFailure(result.history.workflow_id, run_id, workflow_type, error)
                break
            report.replayed[workflow_type] += 1
    return report


async def run_check(settings: Settings, workflows: Sequence[type], out: TextIO) -> int:
    """The command: replay, print what happened, return the exit code."""
    queue = settings.temporal_task_queue
    where = f"{settings.temporal_address}/{settings.temporal_namespace}, task queue {queue}"
    try:
        client = await connect_temporal(settings)
        report = await replay_open_workflows(client, queue, workflows)
    except (RuntimeError, RPCError) as exc:
        print(f"replay-check: could not ask Temporal ({where}): {exc}", file=out)
        return 2
    total = sum(report.replayed.values())
    if report.failure is not None:
        failed = report.failure
        print(
            f"replay-check: FAILED. Workflow {failed.workflow_id} ({failed.workflow_type},"
            f" run {failed.run_id}) on {where} does not replay on this code:\n  {failed.error}\n"
            f"{total} open workflow(s) replayed before it. Do not deploy this code: guard the change"
            " with workflow.patched() or make it a new workflow type (README: Changing a workflow).",
            file=out,
        )
        return 1
    print(f"replay-check: {total} open workflow(s) on {where} replay on this code.", file=out)
    for workflow_type, replayed in sorted(report.replayed.items()):
        print(f"  {workflow_type}: {replayed}", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m devstack.replay_check",
        description="Replay every open workflow of ours on Temporal against this code (the deploy gate).",
        epilog="Settings from the environment, as the worker reads them: TEMPORAL_ADDRESS, "
        "TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_API_KEY, TEMPORAL_TLS.",
    ).parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as invalid:
        print(f"replay-check: the settings are invalid: {invalid}", file=sys.stderr)
        return 2
    return asyncio.run(run_check(settings, WORKFLOWS, sys.stdout))


if __name__ == "__main__":
    sys.exit(main())

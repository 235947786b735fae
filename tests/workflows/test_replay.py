"""Recorded histories of every workflow type must replay on today's workflow code.

Every `tests/histories/*.json` is replayed (a new file is picked up by itself), on the workflow
type its first event names, which is also the one its file name starts with (`checkout_…`,
`order_…`, `reconciler…`, `outbox_…`). A change that would break workflows already running in production
(non-determinism) fails here. When a change is meant to alter the history, guard it with
`workflow.patched()` (or make a new workflow type) and keep these files; record a new one next to
them (`python -m tests.histories.record <name>`, which never overwrites a file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.checkout import CHECKOUT_WORKFLOW
from domain.orders.workflow import ORDER_WORKFLOW
from tests.histories.record import EDITIONS, NAMES, history_file
from tests.workflows.breaking import BREAKING_CHANGES
from worker import WORKFLOWS
from workflows.outbox import OutboxDeliveryWorkflow
from workflows.reconciler import StripeReconcilerWorkflow

HISTORIES = {
    path.stem: WorkflowHistory.from_json(path.stem, path.read_text())
    for path in (Path(__file__).parent.parent / "histories").glob("*.json")
}
# A history file's name starts with the workflow type it is a history of.
WORKFLOW_TYPE_BY_PREFIX = {
    "checkout": CHECKOUT_WORKFLOW,
    "order": ORDER_WORKFLOW,
    "reconciler": StripeReconcilerWorkflow.__name__,
    "outbox": OutboxDeliveryWorkflow.__name__,
}


def _workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def test_every_path_of_the_record_script_is_recorded() -> None:
    missing = sorted(name for name in NAMES if history_file(name) not in HISTORIES)
    assert not missing, f"record them: python -m tests.histories.record {' '.join(missing)}"


def _patches(history: WorkflowHistory) -> set[str]:
    """The `workflow.patched()` IDs whose new path this history took (their markers)."""
    return {
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
    }


@pytest.mark.parametrize("name", sorted(name for name in HISTORIES if "." in name))
def test_history_of_an_edition_took_the_path_of_its_patch(name: str) -> None:
    """`checkout_paid.lean-checkout` is a history of the code after that patch, not before it."""
    edition = name.partition(".")[2]
    assert edition in EDITIONS[name.partition("_")[0]]
    assert edition in _patches(HISTORIES[name])


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_recorded_history_is_of_the_workflow_type_its_name_says(name: str) -> None:
    assert _workflow_type(HISTORIES[name]) == WORKFLOW_TYPE_BY_PREFIX[name.partition("_")[0]]


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays_deterministically(name: str) -> None:
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(HISTORIES[name], raise_on_replay_failure=True)
    assert result.replay_failure is None


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_fails_on_a_breaking_change_of_its_workflow(name: str) -> None:
    """The replay above is not vacuous: an unguarded new command (tests/workflows/breaking.py)
    in this history's workflow type makes this very history fail with a non-determinism error."""
    breaking = BREAKING_CHANGES[_workflow_type(HISTORIES[name])]
    replayer = Replayer(workflows=[breaking], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(HISTORIES[name], raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result.replay_failure

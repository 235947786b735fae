"""Recorded checkout and order histories must replay on today's workflow code.

A change that would break workflows already running in production (non-determinism) fails here.
When a change is meant to alter the history, guard it with `workflow.patched()` (or make a new
workflow type) and keep these files; record a new one next to them
(`python -m tests.histories.record <name>`, which never overwrites a file).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = {
    path.stem: path.read_text() for path in (Path(__file__).parent.parent / "histories").glob("*.json")
}


def test_there_are_recorded_histories() -> None:
    assert set(HISTORIES) >= {
        "checkout_declined_then_paid",
        "checkout_expired",
        "order_shipment",
        "order_cancel",
        "order_partial_refund",
        "order_return",
        "order_dispute",
    }


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays_deterministically(name: str) -> None:
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None

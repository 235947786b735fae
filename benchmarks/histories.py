"""What the Temporal server did per order, read from the histories of the run: events, workflow
tasks, activity tasks and local activities of each checkout and its order's workflow, next to the
same for a baseline workflow. Counts, not timings: they do not move with the machine's load, so
they show a change of round trips where the timings are within their noise."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

_LOCAL_ACTIVITY_MARKER = "core_local_activity"


@dataclass(frozen=True)
class ServerWork:
    """Means per unit (an order: its checkout and its order's workflow; or a baseline workflow)."""

    units: int
    events: float
    workflow_tasks: float
    activity_tasks: float
    local_activities: float
    search_attribute_upserts: float


async def _tally(client: Client, workflow_id: str) -> tuple[int, int, int, int, int]:
    """(events, workflow tasks, activity tasks, local activities, upserts) of the workflow's latest
    run; all 0 when there is none (an order whose workflow was never started)."""
    try:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError:
        return 0, 0, 0, 0, 0
    types = [event.event_type for event in history.events]
    markers = sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == _LOCAL_ACTIVITY_MARKER
    )
    return (
        len(types),
        types.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
        types.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        markers,
        types.count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
    )


async def server_work(client: Client, units: Sequence[Sequence[str]]) -> ServerWork | None:
    """The means over `units`, each the IDs of the workflows that together make one unit."""
    if not units:
        return None
    tallies = await asyncio.gather(*(_tally(client, workflow_id) for unit in units for workflow_id in unit))
    totals = [sum(column) for column in zip(*tallies, strict=True)]
    events, workflow_tasks, activity_tasks, local_activities, upserts = (
        total / len(units) for total in totals
    )
    return ServerWork(len(units), events, workflow_tasks, activity_tasks, local_activities, upserts)

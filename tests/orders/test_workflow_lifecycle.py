"""The order's workflow closes once its windows have passed and nothing is open; a late Stripe
event about the order starts a new run, which reads the order and Stripe afresh."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import get_stripe_client
from domain.ids import new_id, order_workflow_id
from models import Region
from tests.checkout.conftest import MakeVariant, buy, stack_on_own_queue, transactions_of
from tests.conftest import Outgoing, eventually
from workflows.order import OrderWorkflow


async def _runs(temporal_env: WorkflowEnvironment, workflow_id: str) -> list[Any]:
    return [run async for run in temporal_env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]


@pytest.mark.e2e
async def test_order_workflow_closes_after_its_windows_and_a_late_event_starts_a_new_run(
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    outgoing: Outgoing,
) -> None:
    # Windows of 0 days: a run may close as soon as it has nothing open.
    async with stack_on_own_queue(
        temporal_env, regions, outgoing, order_return_window_days=0, order_dispute_window_days=0
    ) as (_, shopper):
        purchase = await buy(shopper, await make_variant(stock=3))
        workflow_id = order_workflow_id(purchase.payment_intent_id)
        [first] = await eventually(lambda: _closed(temporal_env, workflow_id, 1))
        closed = await temporal_env.client.get_workflow_handle_for(
            OrderWorkflow.run, workflow_id, run_id=first.run_id
        ).result()
        assert closed.snapshot is not None and closed.snapshot.order_id == purchase.order["id"]

        # Months later the customer's refund is made in the dashboard: the event still reaches the order.
        made = await get_stripe_client().v1.refunds.create_async(
            {"payment_intent": purchase.payment_intent_id, "amount": 300}
        )
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": "refund.created",
            "created": 1_800_000_000,
            "data": {
                "object": {"id": made.id, "object": "refund", "payment_intent": purchase.payment_intent_id}
            },
        }
        late = await shopper.webhook(event)
        assert (late.status_code, late.json()["routed"]) == (200, "order"), late.text
        runs = await eventually(lambda: _closed(temporal_env, workflow_id, 2))

    assert len({run.run_id for run in runs}) == 2
    assert [t.amount for t in await transactions_of(purchase.order["id"]) if t.reference == "refund"] == [
        -300
    ]


async def _closed(temporal_env: WorkflowEnvironment, workflow_id: str, count: int) -> list[Any] | None:
    runs = [run for run in await _runs(temporal_env, workflow_id) if run.close_time is not None]
    return runs if len(runs) >= count else None

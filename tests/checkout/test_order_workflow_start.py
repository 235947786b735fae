"""The checkout starts the order's workflow once: an operator who got there first (and whose run
already closed) is not followed by a second run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.checkout import CheckoutStatus
from domain.ids import order_workflow_id
from models import Region
from tests.checkout.conftest import MakeVariant, admin_headers, pay, stack_on_own_queue, workflow_outcome
from tests.conftest import Outgoing, eventually


class HeldAnalytics(Outgoing):
    """PostHog that holds every event until released: the checkout waits after capturing."""

    def __init__(self) -> None:
        super().__init__()
        self.released = asyncio.Event()

    async def capture(self, **event: Any) -> None:
        await self.released.wait()
        await super().capture(**event)


async def _runs(temporal_env: WorkflowEnvironment, workflow_id: str) -> list[Any]:
    return [run async for run in temporal_env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]


@pytest.mark.e2e
async def test_an_order_shipped_before_the_checkout_finished_keeps_one_order_workflow_run(
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    regions: dict[str, Region],
    make_variant: MakeVariant,
) -> None:
    emails = HeldAnalytics()
    variant_id = await make_variant(stock=3)
    # Windows of 0 days: the order's workflow closes as soon as nothing is open (right after shipping).
    async with stack_on_own_queue(
        temporal_env, regions, emails, order_return_window_days=0, order_dispute_window_days=0
    ) as (_, shopper):
        http = shopper.http
        cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
        await pay(payment_intent_id)
        completed = await shopper.complete(cart["id"])
        assert completed.status_code == 200, completed.text
        order_id = completed.json()["order"]["id"]
        workflow_id = order_workflow_id(payment_intent_id)

        shipped = await http.post(
            f"/admin/orders/{order_id}/shipments",
            json={"carrier": "DHL", "tracking_number": "JD1"},
            headers=admin_headers(),
        )
        assert shipped.status_code == 201, shipped.text
        [first] = await eventually(lambda: _closed_runs(temporal_env, workflow_id))
        emails.released.set()  # the checkout goes on to start the order's workflow
        outcome = await workflow_outcome(temporal_env, payment_intent_id)

    assert outcome.status == CheckoutStatus.COMPLETED
    assert [run.run_id for run in await _runs(temporal_env, workflow_id)] == [first.run_id]


async def _closed_runs(temporal_env: WorkflowEnvironment, workflow_id: str) -> list[Any]:
    return [run for run in await _runs(temporal_env, workflow_id) if run.close_time is not None]

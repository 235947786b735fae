"""The checkout starts the order's workflow once, in the task that answers `complete`; that run
sends the confirmation and the analytics event, and an operator's first operation goes to it."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.checkout import CheckoutStatus
from domain.ids import order_workflow_id
from models import Region
from tests.checkout.conftest import (
    MakeVariant,
    admin_headers,
    confirmation_tried,
    pay,
    stack_on_own_queue,
    workflow_outcome,
)
from tests.conftest import Outgoing, eventually


async def _runs(temporal_env: WorkflowEnvironment, workflow_id: str) -> list[Any]:
    return [run async for run in temporal_env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]


async def _started(temporal_env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await temporal_env.client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return True


@pytest.mark.e2e
async def test_the_checkouts_order_workflow_confirms_the_order_and_takes_the_operators_shipment(
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    regions: dict[str, Region],
    make_variant: MakeVariant,
) -> None:
    outgoing = Outgoing()
    variant_id = await make_variant(stock=3)
    async with stack_on_own_queue(temporal_env, regions, outgoing) as (_, shopper):
        cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
        await pay(payment_intent_id)
        completed = await shopper.complete(cart["id"])
        assert completed.status_code == 200, completed.text
        order_id = completed.json()["order"]["id"]
        workflow_id = order_workflow_id(payment_intent_id)
        # Started by the checkout's answering task (Temporal starts a child a moment after).
        await eventually(lambda: _started(temporal_env, workflow_id))

        shipped = await shopper.http.post(
            f"/admin/orders/{order_id}/shipments",
            json={"carrier": "DHL", "tracking_number": "JD1"},
            headers=admin_headers(),
        )
        assert shipped.status_code == 201, shipped.text
        outcome = await workflow_outcome(temporal_env, payment_intent_id)
        email, event = await confirmation_tried(order_id)

    assert outcome.status == CheckoutStatus.COMPLETED
    # One run of the order's workflow, the checkout's own (its parent), open for the order's life.
    [run] = await _runs(temporal_env, workflow_id)
    assert (run.parent_id, run.close_time) == (payment_intent_id, None)
    assert (email.status, event.status) == ("sent", "sent")
    sent = [key for _, key in outgoing.emails if key.startswith(f"{order_id}:")]
    assert sorted(sent) == [
        f"{order_id}:confirmation-email",
        f"{order_id}:shipment-email:{shipped.json()['fulfillment']['id']}",
    ]
    assert [e["event"] for e in outgoing.events if e["distinct_id"] == order_id] == ["order_placed"]

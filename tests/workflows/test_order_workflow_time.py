"""The OrderWorkflow on the time-skipping server: continue-as-new keeps what each request answered."""

from __future__ import annotations

from typing import Any

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from core.settings import get_settings
from domain.ids import order_workflow_id
from domain.orders.operations import ShipRequest
from domain.orders.workflow import SHIP_UPDATE
from services import dispatch, orders
from tests.checkout.conftest import MakeVariant, Shopper, admin_headers, pay
from tests.conftest import eventually
from tests.workflows.conftest import WorkerFactory
from workflows.order import OrderWorkflow


async def _buy(shopper: Shopper, make_variant: MakeVariant) -> tuple[str, str]:
    cart, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(stock=3), 1)])
    await pay(payment_intent_id)
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    return completed.json()["order"]["id"], payment_intent_id


async def _run_id(env: WorkflowEnvironment, workflow_id: str) -> str:
    """The current run's ID, once the workflow exists (the checkout starts it after its emails)."""

    async def current() -> str | None:
        try:
            return (await env.client.get_workflow_handle(workflow_id).describe()).run_id
        except RPCError:
            return None

    run_id: str = await eventually(current)
    return run_id


async def _own_run(env: WorkflowEnvironment, order_id: str, payment_intent_id: str, **changes: Any) -> str:
    """Replace the run the checkout started (its child) by one this test starts, with `changes`.

    (The Java time-skipping server stops skipping time once an abandoned child outlives its
    parent and completes; a run without a parent closes as it does on a real cluster.)
    """
    workflow_id = order_workflow_id(payment_intent_id)
    await _run_id(env, workflow_id)
    await env.client.get_workflow_handle(workflow_id).terminate("test: replaced by a run without a parent")
    async with get_sessionmaker()() as session:
        start = orders.workflow_start(get_settings(), await orders.load_snapshot(session, order_id))
    handle = await env.client.start_workflow(
        OrderWorkflow.run,
        start.model_copy(update=changes),
        id=workflow_id,
        task_queue=get_settings().temporal_task_queue,
    )
    return handle.result_run_id or ""


async def test_continue_as_new_keeps_what_each_request_answered(
    time_skipping_env: WorkflowEnvironment,
    skipping_shopper: Shopper,
    make_variant: MakeVariant,
    new_worker: WorkerFactory,
) -> None:
    settings = get_settings()
    async with new_worker():
        order_id, payment_intent_id = await _buy(skipping_shopper, make_variant)
        workflow_id = order_workflow_id(payment_intent_id)
        # A run that continues-as-new after a few events.
        await _own_run(time_skipping_env, order_id, payment_intent_id, continue_as_new_after=10)
        async with get_sessionmaker()() as session:
            start = orders.workflow_start(settings, await orders.load_snapshot(session, order_id))
        request = ShipRequest(
            order_id=order_id, request_id="ship-once", actor="test", carrier="DHL", tracking_number="JD9"
        )

        first = await dispatch.operate_on_order(
            time_skipping_env.client, settings, start, SHIP_UPDATE, request, update_id="ship-once"
        )
        handle = time_skipping_env.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
        # The same request again, to whichever run is current (another update ID: Temporal's own
        # deduplication does not cross runs, the workflow's carried memory does).
        again = await dispatch.operate_on_order(
            time_skipping_env.client, settings, start, SHIP_UPDATE, request, update_id="ship-once:again"
        )
        state = await handle.query(OrderWorkflow.state)
        shown = (await skipping_shopper.http.get(f"/admin/orders/{order_id}", headers=admin_headers())).json()

    assert again == first and first.fulfillment_id is not None
    history = await time_skipping_env.client.get_workflow_handle(workflow_id).fetch_history()
    assert history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    assert state.snapshot is not None and state.snapshot.items[0].shipped == 1
    assert [f["id"] for f in shown["order"]["fulfillments"]] == [first.fulfillment_id]

"""The reconciler: a paid checkout whose webhook was lost and whose storefront never came back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import get_settings
from domain.checkout import CheckoutStatus, ReconcileInput
from domain.ids import new_id
from domain.outbox import outbox_schedule_id
from tests.checkout.conftest import MakeVariant, Shopper, orders_of_cart, pay, workflow_outcome
from worker import ensure_schedules
from workflows.reconciler import RECONCILER_SCHEDULE_ID, StripeReconcilerWorkflow


@pytest.mark.e2e
async def test_reconciler_turns_an_unannounced_authorization_into_the_order(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=3)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    await pay(payment_intent_id)  # localstripe sends no event for an authorization: nobody is told
    assert await orders_of_cart(cart["id"]) == []

    result = await temporal_env.client.execute_workflow(
        StripeReconcilerWorkflow.run,
        ReconcileInput(lookback_seconds=3600),
        id=new_id("reconcile-test"),
        task_queue=get_settings().temporal_task_queue,
    )

    assert result.nudged >= 1
    outcome = await workflow_outcome(temporal_env, payment_intent_id)
    assert outcome.status == CheckoutStatus.COMPLETED
    assert [order.id for order in await orders_of_cart(cart["id"])] == [outcome.order_id]

    again = await temporal_env.client.execute_workflow(
        StripeReconcilerWorkflow.run,
        ReconcileInput(lookback_seconds=3600),
        id=new_id("reconcile-test"),
        task_queue=get_settings().temporal_task_queue,
    )
    assert again.nudged == 0  # captured now: nothing left to reconcile
    assert len(await orders_of_cart(cart["id"])) == 1


@pytest.mark.e2e
async def test_worker_start_creates_the_schedules_and_updates_their_intervals(
    temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    settings = get_settings()
    outbox_id = outbox_schedule_id(settings.temporal_task_queue)
    try:
        await ensure_schedules(temporal_env.client, settings)
        await ensure_schedules(
            temporal_env.client,
            settings.model_copy(update={"reconciler_interval_seconds": 120, "outbox_interval_seconds": 30}),
        )
        description = await temporal_env.client.get_schedule_handle(RECONCILER_SCHEDULE_ID).describe()
        assert [spec.every for spec in description.schedule.spec.intervals] == [timedelta(seconds=120)]
        outbox = await temporal_env.client.get_schedule_handle(outbox_id).describe()
        assert [spec.every for spec in outbox.schedule.spec.intervals] == [timedelta(seconds=30)]
    finally:
        await temporal_env.client.get_schedule_handle(RECONCILER_SCHEDULE_ID).delete()
        await temporal_env.client.get_schedule_handle(outbox_id).delete()

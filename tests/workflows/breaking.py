"""A deliberately breaking change of each workflow type we have recorded histories of, for
tests/workflows/test_replay.py only.

Each is registered under its workflow's name and starts a timer before anything else: a new
command at the start of the run without `workflow.patched()`. No recorded history has it, so
every one of them must fail to replay on it; one that did not would not be tested by the replay.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.checkout import (
        CHECKOUT_WORKFLOW,
        CheckoutInput,
        CheckoutState,
        ReconcileInput,
        ReconcileResult,
    )
    from domain.orders.workflow import ORDER_WORKFLOW, OrderWorkflowInput, OrderWorkflowState
    from domain.outbox import DeliveryRun
    from workflows.checkout import CheckoutWorkflow
    from workflows.order import OrderWorkflow
    from workflows.outbox import OutboxDeliveryWorkflow
    from workflows.reconciler import StripeReconcilerWorkflow

PAUSE = timedelta(seconds=1)


@workflow.defn(name=CHECKOUT_WORKFLOW)
class CheckoutPausingFirst(CheckoutWorkflow):
    @workflow.run
    async def run(self, checkout: CheckoutInput) -> CheckoutState:
        await workflow.sleep(PAUSE)
        return await super().run(checkout)


@workflow.defn(name=ORDER_WORKFLOW)
class OrderPausingFirst(OrderWorkflow):
    @workflow.run
    async def run(self, start: OrderWorkflowInput) -> OrderWorkflowState:
        await workflow.sleep(PAUSE)
        return await super().run(start)


@workflow.defn(name=StripeReconcilerWorkflow.__name__)
class ReconcilerPausingFirst(StripeReconcilerWorkflow):
    @workflow.run
    async def run(self, request: ReconcileInput) -> ReconcileResult:
        await workflow.sleep(PAUSE)
        return await super().run(request)


@workflow.defn(name=OutboxDeliveryWorkflow.__name__)
class OutboxDeliveryPausingFirst(OutboxDeliveryWorkflow):
    @workflow.run
    async def run(self) -> DeliveryRun:
        await workflow.sleep(PAUSE)
        return await super().run()


# By the workflow type name a history's first event carries.
BREAKING_CHANGES: dict[str, type] = {
    CHECKOUT_WORKFLOW: CheckoutPausingFirst,
    ORDER_WORKFLOW: OrderPausingFirst,
    StripeReconcilerWorkflow.__name__: ReconcilerPausingFirst,
    OutboxDeliveryWorkflow.__name__: OutboxDeliveryPausingFirst,
}

"""StripeReconcilerWorkflow: run by a Temporal Schedule, one short run per interval."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconciler import ReconcilerActivities
    from domain.checkout import ReconcileInput, ReconcileResult

RECONCILER_SCHEDULE_ID = "stripe-reconciler"


@workflow.defn
class StripeReconcilerWorkflow:
    @workflow.run
    async def run(self, request: ReconcileInput) -> ReconcileResult:
        return await workflow.execute_activity_method(
            ReconcilerActivities.nudge_authorized_checkouts,
            request,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )

"""OutboxDeliveryWorkflow: run by a Temporal Schedule, one short run per interval, it delivers
every due pending email and analytics event (activities/notifications.py has the rules)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from domain.outbox import DeliveryRun


@workflow.defn
class OutboxDeliveryWorkflow:
    @workflow.run
    async def run(self) -> DeliveryRun:
        # A failed run loses nothing: its messages stay pending and the next run takes them.
        return await workflow.execute_activity_method(
            NotificationActivities.deliver_due_messages,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )

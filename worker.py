"""The Temporal worker: every workflow and activity, built in one place (also used by the tests)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypedDict

import stripe
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities.errors import ServiceRefusals
from activities.fulfillment import FulfillmentActivities
from activities.inventory import InventoryActivities
from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from activities.reconciler import ReconcilerActivities
from activities.refunds import RefundActivities
from core.analytics import AnalyticsSink, PostHogSink
from core.email import EmailSender, ResendEmailSender
from core.settings import Settings, get_settings
from domain.checkout import ReconcileInput
from domain.outbox import outbox_schedule_id
from services.outbox import RetryRule
from workflows.checkout import CheckoutWorkflow
from workflows.fulfillment import FulfillmentWorkflow
from workflows.order import OrderWorkflow
from workflows.outbox import OutboxDeliveryWorkflow
from workflows.reconciler import RECONCILER_SCHEDULE_ID, StripeReconcilerWorkflow

# FulfillmentWorkflow stays registered so that runs started before the OrderWorkflow can finish;
# nothing starts a new one.
WORKFLOWS: Sequence[type] = (
    CheckoutWorkflow,
    OrderWorkflow,
    FulfillmentWorkflow,
    StripeReconcilerWorkflow,
    OutboxDeliveryWorkflow,
)


def email_sender_from(settings: Settings) -> EmailSender | None:
    if settings.resend_api_key is None:
        return None
    return ResendEmailSender(settings.resend_api_key.get_secret_value(), settings.email_from)


def analytics_from(settings: Settings) -> AnalyticsSink | None:
    if settings.posthog_api_key is None:
        return None
    return PostHogSink(settings.posthog_api_key.get_secret_value(), settings.posthog_host)


def build_activities(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
    email_sender: EmailSender | None,
    analytics: AnalyticsSink | None,
) -> list[Callable[..., Any]]:
    inventory = InventoryActivities(sessionmaker)
    payments = PaymentActivities(stripe_client, sessionmaker)
    orders = OrderActivities(sessionmaker, settings)
    refunds = RefundActivities(stripe_client, sessionmaker)
    notifications = NotificationActivities(
        sessionmaker,
        email_sender,
        analytics,
        shop_email=settings.shop_notification_email,
        retry=RetryRule(
            max_attempts=settings.outbox_max_attempts,
            base_seconds=settings.outbox_retry_base_seconds,
            cap_seconds=settings.outbox_retry_max_seconds,
        ),
        batch_size=settings.outbox_batch_size,
    )
    reconciler = ReconcilerActivities(stripe_client, settings)
    fulfillment = FulfillmentActivities(sessionmaker)
    return [
        inventory.reserve_cart_inventory,
        inventory.release_cart_inventory,
        payments.retrieve_payment_intent,
        payments.cancel_payment_intent,
        payments.refund_payment_intent,
        payments.capture_order_payment,
        orders.place_order,
        orders.record_checkout,
        orders.load_order_start,
        orders.ship_order,
        orders.cancel_order,
        orders.reserve_refund,
        orders.record_refund,
        orders.request_return,
        orders.receive_return,
        orders.cancel_return,
        refunds.create_stripe_refund,
        refunds.sync_order_with_stripe,
        notifications.send_order_confirmation,
        notifications.send_order_email,
        notifications.track_order_placed,
        notifications.send_shipping_confirmation,
        notifications.deliver_due_messages,
        fulfillment.record_shipment,
        reconciler.nudge_authorized_checkouts,
    ]


class WorkerSlots(TypedDict):
    """How many tasks of each kind one worker process runs at once (the Worker's own options)."""

    max_concurrent_activities: int
    max_concurrent_workflow_tasks: int
    max_concurrent_local_activities: int


def worker_slots(settings: Settings) -> WorkerSlots:
    return WorkerSlots(
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
    )


def build_worker(
    client: Client,
    task_queue: str,
    activities: list[Callable[..., Any]],
    settings: Settings | None = None,
) -> Worker:
    """The production worker; its slots come from `settings` (default: the process's settings)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities,
        interceptors=[ServiceRefusals()],
        **worker_slots(settings if settings is not None else get_settings()),
    )


def reconciler_schedule(settings: Settings) -> Schedule:
    # Look back over several intervals, so a run that failed or was skipped loses nothing.
    lookback = max(86_400, 3 * settings.reconciler_interval_seconds)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            StripeReconcilerWorkflow.run,
            ReconcileInput(lookback_seconds=lookback),
            id=RECONCILER_SCHEDULE_ID,
            task_queue=settings.temporal_task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.reconciler_interval_seconds))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def outbox_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            OutboxDeliveryWorkflow.run,
            id=outbox_schedule_id(settings.temporal_task_queue),
            task_queue=settings.temporal_task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.outbox_interval_seconds))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create the Schedule, or bring an existing one in line with the settings."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """The reconciler's and the outbox delivery's Schedules, as the settings say."""
    await ensure_schedule(client, RECONCILER_SCHEDULE_ID, reconciler_schedule(settings))
    await ensure_schedule(client, outbox_schedule_id(settings.temporal_task_queue), outbox_schedule(settings))


def sdk_runtime(settings: Settings) -> Runtime | None:
    """The Temporal SDK's runtime with its own metrics (task latencies, slots, pollers, activity
    failures…) served at http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics; None when off."""
    if settings.worker_metrics_port is None:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


async def main() -> None:
    from core.db import get_sessionmaker
    from core.logs import configure_logging
    from core.stripe_gateway import get_stripe_client
    from core.temporal import connect_temporal
    from core.tracing import start_tracing, tracing_enabled

    # The sandbox imports a workflow's module afresh for every workflow run (temporalio's design);
    # without a bytecode cache (PYTHONDONTWRITEBYTECODE) each of those imports compiles the source
    # again, a few milliseconds of CPU per run. This process writes the caches (where it may).
    sys.dont_write_bytecode = False
    settings = get_settings()
    configure_logging(settings, service="worker")
    if tracing_enabled(settings):
        start_tracing(settings, "gracestowel-worker")
    client = await connect_temporal(settings, runtime=sdk_runtime(settings))
    activities = build_activities(
        settings=settings,
        sessionmaker=get_sessionmaker(),
        stripe_client=get_stripe_client(),
        email_sender=email_sender_from(settings),
        analytics=analytics_from(settings),
    )
    worker = build_worker(client, settings.temporal_task_queue, activities, settings)
    await ensure_schedules(client, settings)
    log = logging.getLogger("worker")
    if settings.worker_metrics_port is not None:
        log.info(
            "Temporal SDK metrics on http://%s:%s/metrics",
            settings.worker_metrics_host,
            settings.worker_metrics_port,
        )
    log.info("worker polling task queue %r", settings.temporal_task_queue)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())

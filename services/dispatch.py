"""Everything sent to a workflow from outside it: starts, signals, updates and queries.

Used by the API and by the reconciler activity.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from core.settings import Settings
from domain.checkout import CheckoutInput, PaymentEvent, ReservationResult
from models import Checkout
from workflows.checkout import CheckoutWorkflow


async def start_checkout(temporal: Client, settings: Settings, checkout: Checkout) -> ReservationResult:
    """Start the checkout workflow (or attach to the running one) and hold stock for the cart."""
    start = WithStartWorkflowOperation(
        CheckoutWorkflow.run,
        CheckoutInput(
            payment_intent_id=checkout.payment_intent_id,
            cart_id=checkout.cart_id,
            payment_timeout_seconds=settings.checkout_payment_timeout_seconds,
        ),
        id=checkout.payment_intent_id,
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A checkout that failed on a bug may be run again; one that finished may not.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        static_summary=f"Checkout of cart {checkout.cart_id}",
    )
    return await temporal.execute_update_with_start_workflow(
        CheckoutWorkflow.sync_reservation, start_workflow_operation=start
    )


async def signal_with_start(
    temporal: Client, settings: Settings, payment_intent_id: str, event: PaymentEvent
) -> WorkflowHandle[Any, Any]:
    """Deliver a payment hint even if the checkout does not exist yet (it then starts from it).

    A checkout that has finished is never started again this way: Temporal raises
    `WorkflowAlreadyStartedError`, which callers acknowledge.
    """
    return await temporal.start_workflow(
        CheckoutWorkflow.run,
        CheckoutInput(
            payment_intent_id=payment_intent_id,
            payment_timeout_seconds=settings.checkout_payment_timeout_seconds,
        ),
        id=payment_intent_id,
        task_queue=settings.temporal_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        start_signal="payment_event",
        start_signal_args=[event],
    )

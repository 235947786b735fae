"""Everything sent to a workflow from outside it: starts, signals, updates and queries.

The API and the reconciler activity both send through here. Workflows are addressed by the
names in domain/ (the workflow definitions declare the same ones), never by importing
workflows/: activities importing workflows would be a cycle. Temporal's errors (RPCError,
WorkflowAlreadyStartedError, WorkflowUpdateFailedError) reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from core.settings import Settings
from domain.checkout import (
    CHECKOUT_STATE_QUERY,
    CHECKOUT_WORKFLOW,
    COMPLETE_UPDATE,
    PAYMENT_EVENT_SIGNAL,
    SYNC_RESERVATION_UPDATE,
    CheckoutInput,
    CheckoutState,
    CompletionResult,
    PaymentEvent,
    ReservationResult,
)
from domain.ids import order_workflow_id
from domain.orders.operations import (
    CancelRequest,
    CancelReturnRequest,
    OperationOutcome,
    ReceiveReturnRequest,
    RefundRequest,
    ReturnRequest,
    ShipRequest,
)
from domain.orders.workflow import (
    ORDER_STATE_QUERY,
    ORDER_WORKFLOW,
    STRIPE_EVENT_SIGNAL,
    OrderWorkflowInput,
    OrderWorkflowState,
    StripeEventHint,
)
from domain.outbox import outbox_schedule_id
from models import Checkout
from services.errors import ServiceError

OrderRequest = (
    ShipRequest | CancelRequest | RefundRequest | ReturnRequest | ReceiveReturnRequest | CancelReturnRequest
)


class OperationPending(ServiceError):
    """The order's workflow did not answer in time; the operation continues (503, Retry-After)."""

    code = "operation_pending"


async def start_checkout(temporal: Client, settings: Settings, checkout: Checkout) -> ReservationResult:
    """Start the checkout workflow (or attach to the running one) and hold stock for the cart."""
    start: WithStartWorkflowOperation[Any, CheckoutState] = WithStartWorkflowOperation(
        CHECKOUT_WORKFLOW,
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
        result_type=CheckoutState,
    )
    reservation: ReservationResult = await temporal.execute_update_with_start_workflow(
        SYNC_RESERVATION_UPDATE, start_workflow_operation=start, result_type=ReservationResult
    )
    return reservation


async def signal_payment_event(
    temporal: Client, settings: Settings, payment_intent_id: str, event: PaymentEvent
) -> None:
    """Deliver a payment hint even if the checkout does not exist yet (it then starts from it).

    A checkout that has finished is never started again this way: Temporal raises
    `WorkflowAlreadyStartedError`, which callers acknowledge.
    """
    await _signal_with_start(
        temporal,
        settings,
        CHECKOUT_WORKFLOW,
        CheckoutInput(
            payment_intent_id=payment_intent_id,
            payment_timeout_seconds=settings.checkout_payment_timeout_seconds,
        ),
        workflow_id=payment_intent_id,
        signal=PAYMENT_EVENT_SIGNAL,
        signal_arg=event,
        result_type=CheckoutState,
    )


async def complete_checkout(temporal: Client, payment_intent_id: str) -> CompletionResult:
    """The storefront's `complete`: the checkout re-reads the payment and answers with its outcome."""
    result: CompletionResult = await temporal.get_workflow_handle(payment_intent_id).execute_update(
        COMPLETE_UPDATE, result_type=CompletionResult
    )
    return result


async def checkout_state(temporal: Client, payment_intent_id: str) -> CheckoutState:
    """The checkout workflow's live state (its `state` Query)."""
    state: CheckoutState = await temporal.get_workflow_handle(payment_intent_id).query(
        CHECKOUT_STATE_QUERY, result_type=CheckoutState
    )
    return state


async def operate_on_order(
    temporal: Client,
    settings: Settings,
    start: OrderWorkflowInput,
    update: str,
    request: OrderRequest,
    *,
    update_id: str,
) -> OperationOutcome:
    """Run one operation on the order's workflow, starting a run if none is open.

    Update-with-start: a running workflow takes the update (USE_EXISTING); a closed one is followed
    by a new run (ALLOW_DUPLICATE) from `start` (the snapshot the caller loaded). `update_id`
    makes Temporal answer a repeat of the same request with the first one's outcome. A refusal
    becomes the ServiceError of its code; no answer within `order_operation_wait_seconds` is
    `OperationPending` (the operation goes on; the same request again gets its outcome).
    """
    operation: WithStartWorkflowOperation[Any, OrderWorkflowState] = WithStartWorkflowOperation(
        ORDER_WORKFLOW,
        start,
        id=order_workflow_id(start.payment_intent_id),
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Order {start.order_id}",
        result_type=OrderWorkflowState,
    )
    try:
        outcome: OperationOutcome = await asyncio.wait_for(
            temporal.execute_update_with_start_workflow(
                update,
                request,
                start_workflow_operation=operation,
                id=update_id,
                result_type=OperationOutcome,
            ),
            timeout=settings.order_operation_wait_seconds,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as waited:
        # (asyncio.wait_for cancels the call; the SDK reports that cancellation as its own error.)
        raise OperationPending(
            "The operation was accepted and is still running; repeat the same request for its result"
        ) from waited
    except WorkflowUpdateFailedError as failed:
        refusal = failed.cause
        if isinstance(refusal, ApplicationError) and refusal.type:
            raise ServiceError(refusal.message, code=refusal.type) from failed
        raise
    return outcome


async def signal_order_event(
    temporal: Client, settings: Settings, start: OrderWorkflowInput, hint: StripeEventHint
) -> None:
    """Deliver a Stripe event to the order's workflow, starting a new run if none is open."""
    await _signal_with_start(
        temporal,
        settings,
        ORDER_WORKFLOW,
        start,
        workflow_id=order_workflow_id(start.payment_intent_id),
        signal=STRIPE_EVENT_SIGNAL,
        signal_arg=hint,
        result_type=OrderWorkflowState,
        # A closed order workflow is started again: a late event still reaches the order.
        reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Order {start.order_id}",
    )


async def order_state(temporal: Client, payment_intent_id: str) -> OrderWorkflowState:
    """The order workflow's live state (its `state` Query)."""
    state: OrderWorkflowState = await temporal.get_workflow_handle(
        order_workflow_id(payment_intent_id)
    ).query(ORDER_STATE_QUERY, result_type=OrderWorkflowState)
    return state


async def _signal_with_start(
    temporal: Client,
    settings: Settings,
    workflow: str,
    start_arg: BaseModel,
    *,
    workflow_id: str,
    signal: str,
    signal_arg: BaseModel,
    result_type: type[BaseModel],
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
    static_summary: str | None = None,
) -> None:
    """Signal the workflow, starting it from `start_arg` first if it is not running.

    By default a closed run is never started again this way (REJECT_DUPLICATE): Temporal raises
    `WorkflowAlreadyStartedError` instead.
    """
    await temporal.start_workflow(
        workflow,
        start_arg,
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        id_reuse_policy=reuse,
        start_signal=signal,
        start_signal_args=[signal_arg],
        result_type=result_type,
        static_summary=static_summary,
    )


async def deliver_outbox_now(client: Client, settings: Settings) -> None:
    """Run the outbox delivery Schedule's workflow now instead of at its next interval."""
    await client.get_schedule_handle(outbox_schedule_id(settings.temporal_task_queue)).trigger()

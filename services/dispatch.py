"""Everything sent to a workflow from outside it: starts, signals, updates and queries.

The API and the reconciler activity both send through here. Workflows are addressed by the
names in domain/ (the workflow definitions declare the same ones), never by importing
workflows/: activities importing workflows would be a cycle. Temporal's errors (RPCError,
WorkflowAlreadyStartedError, WorkflowUpdateFailedError) reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistoryEventFilterType,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from domain.attention import (
    ATTENTION_REASON,
    CLOSED_RUN_REASONS,
    NEEDS_ATTENTION,
    RETRY_NOW_SIGNAL,
    Attention,
    FlaggedWorkflow,
    RetryOutcome,
)
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


class WorkflowNotFound(ServiceError):
    code = "workflow_not_found"


class WorkflowCompleted(ServiceError):
    """A completed run is never run again: its outcome (an order, a refund) stands."""

    code = "workflow_completed"


class WorkflowNotStuck(ServiceError):
    """Running, and no step is failing: there is nothing to retry."""

    code = "workflow_not_stuck"


class WorkflowNotResettable(ServiceError):
    """Its code never got past its first workflow task: a fix, once deployed, is picked up by itself."""

    code = "workflow_not_resettable"


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


# --- support: workflows that need attention, and retrying them ------------------------------------

# Seconds a workflow's `state` Query may take while listing or retrying (no worker: no answer).
STATE_QUERY_SECONDS = 5.0
_STATE_QUERIES: dict[str, tuple[str, type[CheckoutState] | type[OrderWorkflowState]]] = {
    CHECKOUT_WORKFLOW: (CHECKOUT_STATE_QUERY, CheckoutState),
    ORDER_WORKFLOW: (ORDER_STATE_QUERY, OrderWorkflowState),
}
_NEEDS_ATTENTION = SearchAttributeKey.for_bool(NEEDS_ATTENTION)
_ATTENTION_REASON = SearchAttributeKey.for_keyword(ATTENTION_REASON)
_NOT_COMPLETED = ("Failed", "Terminated", "TimedOut")
_TASK_FAILURE_EVENTS = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
)
# What Temporal itself reports on a run whose workflow task keeps failing (a bug, a payload the
# code cannot read): the system search attribute the Temporal UI's "task failures" view reads.
_REPORTED_PROBLEMS = SearchAttributeKey.for_keyword_list("TemporalReportedProblems")
_TASK_PROBLEMS = ("category=WorkflowTaskFailed", "category=WorkflowTaskTimedOut")
NEEDS_ATTENTION_QUERY = (
    f"WorkflowType IN ('{CHECKOUT_WORKFLOW}', '{ORDER_WORKFLOW}') AND ({NEEDS_ATTENTION} = true"
    f" OR ExecutionStatus IN ({', '.join(repr(s) for s in _NOT_COMPLETED)})"
    f" OR (ExecutionStatus = 'Running' AND TemporalReportedProblems IN"
    f" ({', '.join(repr(p) for p in _TASK_PROBLEMS)})))"
)


async def workflows_needing_attention(temporal: Client, *, limit: int) -> list[FlaggedWorkflow]:
    """Checkout and order workflows whose step keeps failing, or whose last run ended without
    completing (failed, terminated, timed out; a run that was reset or started again since is not).
    Newest first."""
    listed = [found async for found in temporal.list_workflows(NEEDS_ATTENTION_QUERY, limit=limit)]
    flagged = await asyncio.gather(
        *(
            _flagged(temporal, found.id, found.run_id, found.workflow_type, found.typed_search_attributes)
            for found in listed
        )
    )
    return [workflow for workflow in flagged if workflow is not None]


async def _flagged(
    temporal: Client,
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    search_attributes: TypedSearchAttributes,
) -> FlaggedWorkflow | None:
    handle = temporal.get_workflow_handle(workflow_id, run_id=run_id)
    description = await handle.describe()
    status = description.status
    if status == WorkflowExecutionStatus.RUNNING:
        attention = await _live_attention(handle, workflow_type)
        if attention is None and _task_failing(description.typed_search_attributes):
            attention = await _workflow_task_failure(handle)
        if attention is None and search_attributes.get(_NEEDS_ATTENTION):
            attention = Attention(  # flagged, and no worker answers its Query now
                step="unknown",
                reason=search_attributes.get(_ATTENTION_REASON) or "step_failing",
                last_failure="the workflow did not answer its state query",
                attempts=0,
                since=description.start_time,
            )
        if attention is None:  # visibility lags: the step recovered meanwhile
            return None
    else:
        latest = await temporal.get_workflow_handle(workflow_id).describe()
        if latest.run_id != run_id or status is None or status.name not in CLOSED_RUN_REASONS:
            return None
        attention = Attention(
            step="run",
            reason=CLOSED_RUN_REASONS[status.name],
            last_failure=await _close_reason(handle),
            attempts=1,
            since=description.close_time or datetime.now(UTC),
        )
    return FlaggedWorkflow(
        workflow_id=workflow_id,
        workflow_type=workflow_type,
        run_id=run_id,
        status=status.name if status is not None else "UNKNOWN",
        attention=attention,
    )


async def _live_attention(handle: WorkflowHandle[Any, Any], workflow_type: str) -> Attention | None:
    """What the running workflow's `state` Query says is failing (None: nothing, or no answer)."""
    try:
        async with asyncio.timeout(STATE_QUERY_SECONDS):
            query, state_type = _STATE_QUERIES[workflow_type]
            state = await handle.query(query, result_type=state_type)
    except (TimeoutError, RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return None
    attention: Attention | None = state.attention
    return attention


def _task_failing(search_attributes: TypedSearchAttributes) -> bool:
    return any(problem in _TASK_PROBLEMS for problem in search_attributes.get(_REPORTED_PROBLEMS) or [])


async def _workflow_task_failure(handle: WorkflowHandle[Any, Any]) -> Attention | None:
    """The workflow's code itself fails (its workflow task): the failures since it last got past one."""
    failures: list[HistoryEvent] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            failures = []
        elif event.event_type in _TASK_FAILURE_EVENTS:
            failures.append(event)
    if not failures:
        return None
    last = failures[-1]
    message = last.workflow_task_failed_event_attributes.failure.message or "the workflow task timed out"
    return Attention(
        step="workflow_task",
        reason="workflow_task_failing",
        last_failure=message[:1000],
        attempts=len(failures),
        since=failures[0].event_time.ToDatetime(tzinfo=UTC),
    )


async def _close_reason(handle: WorkflowHandle[Any, Any]) -> str:
    """Why a closed run ended: its failure's message, the termination's reason, or its timeout."""
    async for event in handle.fetch_history_events(
        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
    ):
        if event.HasField("workflow_execution_failed_event_attributes"):
            return event.workflow_execution_failed_event_attributes.failure.message or "failed"
        if event.HasField("workflow_execution_terminated_event_attributes"):
            attributes = event.workflow_execution_terminated_event_attributes
            by = attributes.identity or "unknown"
            return f"terminated: {attributes.reason or 'no reason given'} (by {by})"
        if event.HasField("workflow_execution_timed_out_event_attributes"):
            return "the run timed out"
    return "closed"


async def retry_workflow(
    temporal: Client, workflow_type: str, workflow_id: str, *, reason: str, actor: str
) -> RetryOutcome:
    """Support's one call. A run that ended without completing is reset to its last completed
    workflow task (Temporal's Reset; the signals it had received are applied again) and continues
    on today's code as a new run; a running one whose step keeps failing retries that step now
    (`retry_now`). A completed run: WorkflowCompleted; running and not stuck: WorkflowNotStuck."""
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFound(f"No workflow {workflow_id!r}") from error
        raise
    if description.workflow_type != workflow_type:
        raise WorkflowNotFound(f"No {workflow_type} {workflow_id!r}")
    status = description.status
    if status in (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.CONTINUED_AS_NEW):
        raise WorkflowCompleted(f"Workflow {workflow_id!r} completed; there is nothing to retry")
    if status == WorkflowExecutionStatus.RUNNING and not _task_failing(description.typed_search_attributes):
        if await _live_attention(handle, description.workflow_type) is None:
            raise WorkflowNotStuck(f"Workflow {workflow_id!r} is running and no step is failing")
        await handle.signal(RETRY_NOW_SIGNAL)
        return RetryOutcome(
            workflow_id=workflow_id, run_id=description.run_id, action="step_retried", status="RUNNING"
        )
    # Ended without completing, or running with its workflow task failing (reset: today's code now).
    closed = temporal.get_workflow_handle(workflow_id, run_id=description.run_id)
    last_task = await _last_completed_workflow_task(closed)
    reset = await temporal.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=temporal.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=description.run_id),
            reason=f"{reason} (retried by {actor})",
            workflow_task_finish_event_id=last_task,
            # The same closed run retried twice (a double click) is reset once.
            request_id=f"{description.run_id}:retry",
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL,
        )
    )
    return RetryOutcome(workflow_id=workflow_id, run_id=reset.run_id, action="reset", status="RUNNING")


async def _last_completed_workflow_task(handle: WorkflowHandle[Any, Any]) -> int:
    """The ID of the run's last WorkflowTaskCompleted event: the last point the code got past."""
    last: HistoryEvent | None = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last = event
    if last is None:
        raise WorkflowNotResettable(
            f"Workflow {handle.id!r} never completed a workflow task: there is no point to reset it to"
        )
    return last.event_id

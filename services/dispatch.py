"""Everything sent to a workflow from outside it: starts, signals, updates and queries.

The API and the reconciler activity both send through here. Workflows are addressed by the
names in domain/ (the workflow definitions declare the same ones), never by importing
workflows/: activities importing workflows would be a cycle. Temporal's errors (RPCError,
WorkflowAlreadyStartedError, WorkflowUpdateFailedError) reach the caller unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

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
from domain.fulfillment import FULFILLMENT_WORKFLOW, SHIP_SIGNAL, FulfillmentInput, FulfillmentState, Shipment
from domain.ids import fulfillment_workflow_id
from models import Checkout, Order


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


async def ship_order(temporal: Client, settings: Settings, order: Order, shipment: Shipment) -> str:
    """Hand the shipment to the order's FulfillmentWorkflow; returns that workflow's ID.

    Signal-with-start: works whether or not the checkout has started the fulfillment yet. A
    fulfillment that has finished raises `WorkflowAlreadyStartedError` (already shipped).
    """
    workflow_id = fulfillment_workflow_id(order.payment_intent_id)
    await _signal_with_start(
        temporal,
        settings,
        FULFILLMENT_WORKFLOW,
        FulfillmentInput(order_id=order.id, payment_intent_id=order.payment_intent_id),
        workflow_id=workflow_id,
        signal=SHIP_SIGNAL,
        signal_arg=shipment,
        result_type=FulfillmentState,
    )
    return workflow_id


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
) -> None:
    """Signal the workflow, starting it from `start_arg` first if it is not running.

    A closed run is never started again this way (REJECT_DUPLICATE): Temporal raises
    `WorkflowAlreadyStartedError` instead.
    """
    await temporal.start_workflow(
        workflow,
        start_arg,
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        start_signal=signal,
        start_signal_args=[signal_arg],
        result_type=result_type,
    )

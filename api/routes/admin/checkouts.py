"""Admin API: find any checkout by cart, order or PaymentIntent, with its live workflow state;
list the checkout and order workflows that need attention, and retry one in one call."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, SupportDep, TemporalDep, ViewerDep, get_temporal
from api.errors import (
    RETRY_AFTER_HEADER,
    APIError,
    error_response,
    error_responses,
    not_found,
    refusal,
    temporal_unavailable,
)
from api.schemas.attention import RetryIn, RetryOut, RetryResponse
from core.settings import Settings
from domain.attention import Attention, FlaggedWorkflow, RetryOutcome
from domain.checkout import CHECKOUT_WORKFLOW, CheckoutState
from domain.orders.workflow import ORDER_WORKFLOW
from models import Checkout, Order
from services import audit, dispatch

router = APIRouter()


class CheckoutOut(BaseModel):
    payment_intent_id: str
    cart_id: str
    status: str
    amount: int
    currency_code: str
    order_id: str | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    # Where an operator sees (and support retries) this checkout: workflow ID = PaymentIntent ID.
    temporal_ui_url: str
    # With `needs_attention=true`: why its workflow needs help (a failing step, or a run that ended).
    attention: Attention | None = None


class FlaggedWorkflowOut(BaseModel):
    """A checkout or order workflow that needs attention (with `needs_attention=true`)."""

    workflow_id: str
    workflow_type: str  # CheckoutWorkflow or OrderWorkflow
    run_id: str
    status: str  # Temporal's execution status
    payment_intent_id: str
    order_id: str | None
    attention: Attention
    temporal_ui_url: str


class CheckoutList(BaseModel):
    checkouts: list[CheckoutOut]
    # Only with `needs_attention=true`: every checkout and order workflow that needs it, also a
    # checkout with no row above (started by a webhook, stuck before it recorded itself).
    workflows: list[FlaggedWorkflowOut] = []


class CheckoutDetail(BaseModel):
    checkout: CheckoutOut
    # Live answer of the workflow's `state` Query; null when Temporal cannot be reached.
    workflow_state: CheckoutState | None


def temporal_ui_url(settings: Settings, workflow_id: str) -> str:
    return (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{quote(workflow_id)}"
    )


def _checkout_out(settings: Settings, checkout: Checkout, attention: Attention | None = None) -> CheckoutOut:
    return CheckoutOut(
        payment_intent_id=checkout.payment_intent_id,
        cart_id=checkout.cart_id,
        status=checkout.status,
        amount=checkout.amount,
        currency_code=checkout.currency_code,
        order_id=checkout.order_id,
        failure_code=checkout.failure_code,
        created_at=checkout.created_at,
        updated_at=checkout.updated_at,
        temporal_ui_url=temporal_ui_url(settings, checkout.payment_intent_id),
        attention=attention,
    )


_TEMPORAL_FOR_ATTENTION = error_response(
    refusal("Temporal is not reachable (asked with `needs_attention=true`)", "temporal_unavailable"),
    headers=RETRY_AFTER_HEADER,
)


@router.get("/checkouts", response_model=CheckoutList, responses={503: _TEMPORAL_FOR_ATTENTION})
async def list_checkouts(
    principal: ViewerDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cart_id: str | None = None,
    order_id: str | None = None,
    payment_intent_id: str | None = None,
    status: str | None = None,
    needs_attention: bool = Query(
        default=False,
        description="Only checkouts (and order workflows) whose step keeps failing or whose run failed,"
        " was terminated or timed out, each with `attention`; the Temporal UI: `NeedsAttention = true`",
    ),
    limit: int = Query(default=50, ge=1, le=500),
) -> CheckoutList:
    query = select(Checkout).order_by(Checkout.created_at.desc()).limit(limit)
    for column, value in (
        (Checkout.cart_id, cart_id),
        (Checkout.order_id, order_id),
        (Checkout.payment_intent_id, payment_intent_id),
        (Checkout.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if not needs_attention:
        return CheckoutList(checkouts=[_checkout_out(settings, c) for c in await session.scalars(query)])
    flagged = await _needing_attention(await get_temporal(request), limit)
    checkouts = {f.workflow_id: f.attention for f in flagged if f.workflow_type == CHECKOUT_WORKFLOW}
    rows = await session.scalars(query.where(Checkout.payment_intent_id.in_(checkouts)))
    payments = {f.workflow_id: _payment_of(f) for f in flagged}
    order_ids = {
        payment: order
        for payment, order in await session.execute(
            select(Order.payment_intent_id, Order.id).where(Order.payment_intent_id.in_(payments.values()))
        )
    }
    return CheckoutList(
        checkouts=[_checkout_out(settings, c, checkouts[c.payment_intent_id]) for c in rows],
        workflows=[
            FlaggedWorkflowOut(
                **f.model_dump(),
                payment_intent_id=payments[f.workflow_id],
                order_id=order_ids.get(payments[f.workflow_id]),
                temporal_ui_url=temporal_ui_url(settings, f.workflow_id),
            )
            for f in flagged
        ],
    )


def _payment_of(flagged: FlaggedWorkflow) -> str:
    """The PaymentIntent ID behind a workflow: the checkout's ID, or the order's `{pi}:order`
    (domain.ids.order_workflow_id)."""
    if flagged.workflow_type == ORDER_WORKFLOW:
        return flagged.workflow_id.rsplit(":", 1)[0]
    return flagged.workflow_id


async def _needing_attention(temporal: Client, limit: int) -> list[FlaggedWorkflow]:
    try:
        return await dispatch.workflows_needing_attention(temporal, limit=limit)
    except RPCError as exc:
        raise temporal_unavailable() from exc


@router.get(
    "/checkouts/{payment_intent_id}",
    response_model=CheckoutDetail,
    responses=error_responses({404: refusal("No such checkout", "checkout_not_found")}),
)
async def get_checkout(
    payment_intent_id: str, principal: ViewerDep, request: Request, session: SessionDep, settings: SettingsDep
) -> CheckoutDetail:
    checkout = await session.get(Checkout, payment_intent_id)
    if checkout is None:
        raise not_found("checkout", payment_intent_id)
    try:
        temporal = await get_temporal(request)
        state = await dispatch.checkout_state(temporal, payment_intent_id)
    except (APIError, RPCError):
        state = None  # the database's view still answers while Temporal is unreachable
    return CheckoutDetail(checkout=_checkout_out(settings, checkout), workflow_state=state)


# What both retry routes may refuse (the order's route adds its own 404).
RETRY_REFUSALS = {
    404: refusal("No such workflow", "workflow_not_found"),
    409: refusal(
        "The workflow completed (nothing to retry), it runs and no step is failing, or its code"
        " never got past its first workflow task (nothing to reset to)",
        "workflow_completed",
        "workflow_not_stuck",
        "workflow_not_resettable",
    ),
}


async def retry(
    temporal: Client, workflow_type: str, workflow_id: str, body: RetryIn, actor: str
) -> RetryOutcome:
    """Temporal's part of a retry (services.dispatch); Temporal down is a 503."""
    try:
        return await dispatch.retry_workflow(
            temporal, workflow_type, workflow_id, reason=body.reason, actor=actor
        )
    except RPCError as exc:
        raise temporal_unavailable() from exc


def retry_response(settings: Settings, outcome: RetryOutcome) -> RetryResponse:
    return RetryResponse(
        retry=RetryOut(**outcome.model_dump(), temporal_ui_url=temporal_ui_url(settings, outcome.workflow_id))
    )


@router.post(
    "/checkouts/{payment_intent_id}/retry",
    response_model=RetryResponse,
    responses=error_responses(RETRY_REFUSALS),
)
async def retry_checkout(
    payment_intent_id: str,
    body: RetryIn,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> RetryResponse:
    """Support's one call: a checkout run that failed, was terminated or timed out is reset to its
    last completed workflow task (its signals kept) and continues on today's code; a running one
    whose step keeps failing retries it now. Recorded in the audit log with the key's name."""
    outcome = await retry(temporal, CHECKOUT_WORKFLOW, payment_intent_id, body, principal.name)
    async with session.begin():
        await audit.record(
            session,
            actor=principal.name,
            entity_type="checkout",
            entity_id=payment_intent_id,
            verb="retried",
            data={"reason": body.reason, "action": outcome.action, "run_id": outcome.run_id},
        )
    return retry_response(settings, outcome)

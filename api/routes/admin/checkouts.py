"""Admin API: find any checkout by cart, order or PaymentIntent, with its live workflow state."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, ViewerDep, get_temporal
from api.errors import APIError, error_responses, not_found, refusal
from core.settings import Settings
from domain.checkout import CheckoutState
from models import Checkout
from services import dispatch

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


class CheckoutList(BaseModel):
    checkouts: list[CheckoutOut]


class CheckoutDetail(BaseModel):
    checkout: CheckoutOut
    # Live answer of the workflow's `state` Query; null when Temporal cannot be reached.
    workflow_state: CheckoutState | None


def temporal_ui_url(settings: Settings, workflow_id: str) -> str:
    return (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{quote(workflow_id)}"
    )


def _checkout_out(settings: Settings, checkout: Checkout) -> CheckoutOut:
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
    )


@router.get("/checkouts", response_model=CheckoutList)
async def list_checkouts(
    principal: ViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    cart_id: str | None = None,
    order_id: str | None = None,
    payment_intent_id: str | None = None,
    status: str | None = None,
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
    return CheckoutList(checkouts=[_checkout_out(settings, c) for c in await session.scalars(query)])


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

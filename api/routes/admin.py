"""Admin API for operators and support: find any checkout by cart, order or PaymentIntent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import AdminDep, SessionDep, SettingsDep, TemporalDep, get_temporal
from api.errors import APIError, not_found, temporal_unavailable
from api.schemas.orders import OrderOut, OrderResponse
from core.settings import Settings
from domain.checkout import CheckoutState
from domain.fulfillment import Shipment
from models import Checkout, Order, OutboxMessage
from services import dispatch

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


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


class OutboxMessageOut(BaseModel):
    id: str
    channel: str
    recipient: str
    subject: str
    status: str
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


class OutboxList(BaseModel):
    messages: list[OutboxMessageOut]


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


@router.get("/checkouts/{payment_intent_id}", response_model=CheckoutDetail)
async def get_checkout(
    payment_intent_id: str, request: Request, session: SessionDep, settings: SettingsDep
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


@router.get("/orders/{order_id}", response_model=OrderResponse)
async def get_order(order_id: str, session: SessionDep) -> OrderResponse:
    order = await session.get(Order, order_id)
    if order is None:
        raise not_found("order", order_id)
    return OrderResponse(order=OrderOut.of(order))


class ShipmentAccepted(BaseModel):
    order_id: str
    # The FulfillmentWorkflow that records the shipment and emails the customer.
    workflow_id: str
    shipment: Shipment


@router.post("/orders/{order_id}/shipments", response_model=ShipmentAccepted, status_code=202)
async def ship_order(
    order_id: str, shipment: Shipment, session: SessionDep, settings: SettingsDep, temporal: TemporalDep
) -> ShipmentAccepted:
    """The warehouse handed the order to a carrier. Accepted once; the workflow does the rest."""
    order = await session.get(Order, order_id)
    if order is None:
        raise not_found("order", order_id)
    if order.payment_status != "captured":
        raise APIError(409, "order_not_paid", "Only a captured order can be shipped")
    if order.fulfillment_status == "shipped":
        raise APIError(409, "already_shipped", "This order has already been shipped")
    try:
        workflow_id = await dispatch.ship_order(temporal, settings, order, shipment)
    except WorkflowAlreadyStartedError as done:
        raise APIError(409, "already_shipped", "This order has already been shipped") from done
    except RPCError as exc:
        raise temporal_unavailable() from exc
    return ShipmentAccepted(order_id=order.id, workflow_id=workflow_id, shipment=shipment)


@router.get("/outbox", response_model=OutboxList)
async def list_outbox(
    session: SessionDep, channel: str | None = None, limit: int = Query(default=50, ge=1, le=500)
) -> OutboxList:
    """Email and analytics messages; in dev (no Resend/PostHog key) this is where they are delivered."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return OutboxList(
        messages=[
            OutboxMessageOut.model_validate(m, from_attributes=True) for m in await session.scalars(query)
        ]
    )

"""Admin API: an order as operators see it, and telling it that the order has shipped."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import AdminDep, SessionDep, SettingsDep, TemporalDep, ViewerDep
from api.errors import APIError, not_found, temporal_unavailable
from api.schemas.orders import OrderOut, OrderResponse
from domain.fulfillment import Shipment
from models import Order
from services import dispatch

router = APIRouter()


@router.get("/orders/{order_id}", response_model=OrderResponse)
async def get_order(order_id: str, principal: ViewerDep, session: SessionDep) -> OrderResponse:
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
    order_id: str,
    principal: AdminDep,
    shipment: Shipment,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
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

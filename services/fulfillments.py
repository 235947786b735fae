"""Shipments: an order's items leaving the warehouse, all at once or in parts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from domain.orders.operations import ShipRequest, check_ship
from domain.orders.records import OrderEventType
from domain.orders.snapshot import OrderSnapshot
from models import Fulfillment, FulfillmentItem
from services.errors import ServiceError
from services.orders import load_snapshot, lock_order, record_event, refresh_statuses, refusals

# The request ID of the one fulfillment a legacy FulfillmentWorkflow records (and migration 0004's).
LEGACY_REQUEST_ID = "legacy"


async def ship(session: AsyncSession, request: ShipRequest) -> tuple[Fulfillment, OrderSnapshot]:
    """One fulfillment with its items, the items' shipped counters, the statuses and the timeline.

    Idempotent by the request ID: a repeat returns the fulfillment it made. The CHECK on the
    counters (shipped <= quantity) refuses what a racing writer could still get wrong.
    """
    order = await lock_order(session, request.order_id)
    existing = await session.scalar(
        select(Fulfillment).where(
            Fulfillment.order_id == order.id, Fulfillment.request_id == request.request_id
        )
    )
    if existing is not None:
        return existing, await load_snapshot(session, order.id, order=order)
    with refusals():
        quantities = check_ship(await load_snapshot(session, order.id, order=order), request)
    fulfillment = Fulfillment(
        id=new_id("ful"),
        order_id=order.id,
        request_id=request.request_id,
        actor=request.actor,
        carrier=request.carrier,
        tracking_number=request.tracking_number,
        shipped_at=datetime.now(UTC),
        items=[
            FulfillmentItem(id=new_id("fulitem"), order_item_id=item_id, quantity=quantity)
            for item_id, quantity in sorted(quantities.items())
        ],
    )
    session.add(fulfillment)
    for item in order.items:
        item.shipped_quantity += quantities.get(item.id, 0)
    await session.flush()
    await record_event(
        session,
        order.id,
        OrderEventType.SHIPPED,
        actor=request.actor,
        dedupe_key=f"{fulfillment.id}:shipped",
        data={
            "fulfillment_id": fulfillment.id,
            "carrier": request.carrier,
            "tracking_number": request.tracking_number,
            "items": quantities,
        },
    )
    return fulfillment, await refresh_statuses(session, order)


async def ship_rest_once(session: AsyncSession, request: ShipRequest) -> Fulfillment | None:
    """For the legacy FulfillmentWorkflow: ship what remains, or nothing if the order moved on."""
    try:
        fulfillment, _ = await ship(session, request)
    except ServiceError:
        return None  # shipped, canceled or not paid: there is nothing left for it to ship
    return fulfillment

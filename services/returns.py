"""Returns: asked for (never more than shipped and not yet returned), received, or canceled.

`order_items.returned_quantity` counts the units asked back or received (not canceled); its
CHECK (returned <= shipped) refuses what a racing request could still get wrong. Received units
the operator restocks go back to the level they left from, through the inventory ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from domain.orders.operations import (
    CancelReturnRequest,
    ReceiveReturnRequest,
    ReturnRequest,
    check_cancel_return,
    check_receive_return,
    check_return,
)
from domain.orders.records import OrderEventType
from domain.orders.snapshot import OrderSnapshot
from domain.orders.statuses import ReturnStatus, transition
from models import Order, Return, ReturnItem, StockChangeReason
from services import inventory
from services.catalog import is_plausible_key
from services.errors import ServiceError
from services.orders import load_snapshot, lock_order, record_event, refresh_statuses, refusals


class ReturnNotFound(ServiceError):
    code = "return_not_found"


async def get_return(session: AsyncSession, return_id: str) -> Return:
    found = await session.get(Return, return_id) if is_plausible_key(return_id) else None
    if found is None:
        raise ReturnNotFound(f"Return {return_id!r} was not found")
    return found


async def _locked_return(session: AsyncSession, order: Order, return_id: str) -> Return:
    found = await session.scalar(
        select(Return)
        .where(Return.id == return_id, Return.order_id == order.id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise ReturnNotFound(f"Return {return_id!r} was not found")
    return found


async def request_return(session: AsyncSession, request: ReturnRequest) -> tuple[Return, OrderSnapshot]:
    order = await lock_order(session, request.order_id)
    existing = await session.scalar(
        select(Return).where(Return.order_id == order.id, Return.request_id == request.request_id)
    )
    if existing is not None:
        return existing, await load_snapshot(session, order.id, order=order)
    with refusals():
        quantities = check_return(await load_snapshot(session, order.id, order=order), request)
    created = Return(
        id=new_id("ret"),
        order_id=order.id,
        status=ReturnStatus.REQUESTED,
        reason=request.reason,
        actor=request.actor,
        request_id=request.request_id,
        items=[
            ReturnItem(id=new_id("retitem"), order_item_id=item_id, quantity=quantity)
            for item_id, quantity in sorted(quantities.items())
        ],
    )
    session.add(created)
    for item in order.items:
        item.returned_quantity += quantities.get(item.id, 0)
    await session.flush()
    await record_event(
        session,
        order.id,
        OrderEventType.RETURN_REQUESTED,
        actor=request.actor,
        dedupe_key=f"{created.id}:requested",
        data={"return_id": created.id, "items": quantities},
    )
    return created, await refresh_statuses(session, order)


async def receive_return(
    session: AsyncSession, request: ReceiveReturnRequest
) -> tuple[Return, dict[str, int], OrderSnapshot]:
    """The return received: what came back counted, what is restocked back on the shelf.

    Returns the return, the units received per order item (what its refund is computed from)
    and the order. Received again: the same answer.
    """
    order = await lock_order(session, request.order_id)
    received_return = await _locked_return(session, order, request.return_id)
    if received_return.status == ReturnStatus.RECEIVED:
        received = {line.order_item_id: line.received_quantity for line in received_return.items}
        return received_return, received, await load_snapshot(session, order.id, order=order)
    with refusals():
        received = check_receive_return(await load_snapshot(session, order.id, order=order), request)
    restock = {line.item_id: line.quantity for line in request.items if line.restock}
    items = {item.id: item for item in order.items}
    for line in received_return.items:
        line.received_quantity = received.get(line.order_item_id, 0)
        line.restocked_quantity = min(restock.get(line.order_item_id, 0), line.received_quantity)
        # Units asked for but not received are no longer on their way back.
        items[line.order_item_id].returned_quantity -= line.quantity - line.received_quantity
    location_id = order.stock_location_id or await inventory.location_for_channel(
        session, order.sales_channel_id
    )
    await inventory.restock(
        session,
        order_id=order.id,
        location_id=location_id,
        quantities={
            items[line.order_item_id].variant_id: line.restocked_quantity for line in received_return.items
        },
        reason=StockChangeReason.RETURN,
        actor=request.actor,
        reference=f"{received_return.id}:restock",
    )
    received_return.status = transition(ReturnStatus(received_return.status), ReturnStatus.RECEIVED)
    received_return.received_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session,
        order.id,
        OrderEventType.RETURN_RECEIVED,
        actor=request.actor,
        dedupe_key=f"{received_return.id}:received",
        data={"return_id": received_return.id, "received": received, "restocked": restock},
    )
    return received_return, received, await refresh_statuses(session, order)


async def cancel_return(session: AsyncSession, request: CancelReturnRequest) -> tuple[Return, OrderSnapshot]:
    order = await lock_order(session, request.order_id)
    canceled = await _locked_return(session, order, request.return_id)
    if canceled.status == ReturnStatus.CANCELED:
        return canceled, await load_snapshot(session, order.id, order=order)
    with refusals():
        check_cancel_return(await load_snapshot(session, order.id, order=order), request)
    items = {item.id: item for item in order.items}
    for line in canceled.items:
        items[line.order_item_id].returned_quantity -= line.quantity
    canceled.status = transition(ReturnStatus(canceled.status), ReturnStatus.CANCELED)
    canceled.canceled_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session,
        order.id,
        OrderEventType.RETURN_CANCELED,
        actor=request.actor,
        dedupe_key=f"{canceled.id}:canceled",
        data={"return_id": canceled.id},
    )
    return canceled, await refresh_statuses(session, order)

"""Fulfillment activities: record that an order left the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.fulfillment import RecordShipmentInput
from domain.ids import new_id
from models import Fulfillment, Order


class FulfillmentActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def record_shipment(self, request: RecordShipmentInput) -> None:
        """One fulfillment row per order and the order marked shipped, in one transaction."""
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                insert(Fulfillment)
                .values(
                    id=new_id("ful"),
                    order_id=request.order_id,
                    carrier=request.shipment.carrier,
                    tracking_number=request.shipment.tracking_number,
                    shipped_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["order_id"])
            )
            await session.execute(
                update(Order).where(Order.id == request.order_id).values(fulfillment_status="shipped")
            )

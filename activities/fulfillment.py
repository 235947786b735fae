"""The legacy FulfillmentWorkflow's activity (running ones must finish): record that the order shipped.

New orders are shipped through their OrderWorkflow (activities/orders.py); this ships whatever
is left of an older order, once, as the legacy fulfillment.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.fulfillment import RecordShipmentInput
from domain.orders.operations import ShipRequest
from domain.orders.records import SYSTEM_ACTOR
from services.fulfillments import LEGACY_REQUEST_ID, ship_rest_once


class FulfillmentActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def record_shipment(self, request: RecordShipmentInput) -> None:
        async with self._sessionmaker() as session, session.begin():
            await ship_rest_once(
                session,
                ShipRequest(
                    order_id=request.order_id,
                    request_id=LEGACY_REQUEST_ID,
                    actor=SYSTEM_ACTOR,
                    carrier=request.shipment.carrier,
                    tracking_number=request.shipment.tracking_number,
                ),
            )

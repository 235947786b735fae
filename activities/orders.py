"""Order activities: turn an authorized checkout into an order, in one database transaction.

A refusal (services.errors.ServiceError) fails the activity for good: see activities/errors.py.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.checkout import CheckoutRecord, OrderRef, PaymentIntentSnapshot
from services import orders


class OrderActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def place_order(self, payment: PaymentIntentSnapshot) -> OrderRef:
        """Create the order, its items, PaymentCollection and Payment, and take its stock: all or nothing."""
        async with self._sessionmaker() as session, session.begin():
            order = await orders.place_order(session, payment)
            return OrderRef(order_id=order.id, total=order.total, currency_code=order.currency_code)

    @activity.defn
    async def record_checkout(self, record: CheckoutRecord) -> None:
        """Keep the database's read cache of the checkout in step with the workflow."""
        async with self._sessionmaker() as session, session.begin():
            await orders.record_checkout(session, record)

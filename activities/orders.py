"""Order activities: the database steps of the checkout and of the OrderWorkflow.

Each is one transaction through services/ and runs as a local activity. Every one is idempotent
(the request ID, the refund's idempotency key and the timeline's dedupe keys are unique in the
database), and each OrderWorkflow step returns the order's snapshot as it now is. A refusal
(services.errors.ServiceError) fails the activity for good: see activities/errors.py.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.settings import Settings
from domain.checkout import CheckoutRecord, OrderRef, PaymentIntentSnapshot
from domain.orders.operations import (
    CancelReturnRequest,
    ReceiveReturnRequest,
    RefundRequest,
    ReturnRequest,
    ShipRequest,
)
from domain.orders.workflow import Applied, CancelOrderStep, OrderStart, StripeRefundOutcome
from services import fulfillments, orders, refunds, returns


class OrderActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings

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

    @activity.defn
    async def load_order_start(self, order_id: str) -> OrderStart:
        """What an OrderWorkflow started without its order needs first: the order and the windows."""
        async with self._sessionmaker() as session:
            snapshot = await orders.load_snapshot(session, order_id)
        return OrderStart(
            snapshot=snapshot,
            return_window_days=self._settings.order_return_window_days,
            dispute_window_days=self._settings.order_dispute_window_days,
        )

    @activity.defn
    async def ship_order(self, request: ShipRequest) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            fulfillment, snapshot = await fulfillments.ship(session, request)
            return Applied(snapshot=snapshot, fulfillment_id=fulfillment.id)

    @activity.defn
    async def cancel_order(self, step: CancelOrderStep) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            return Applied(
                snapshot=await orders.cancel_order(
                    session, step.request, voided=step.voided, capture_failure=step.capture_failure
                )
            )

    @activity.defn
    async def reserve_refund(self, request: RefundRequest) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            refund, snapshot = await refunds.reserve(session, request)
            return Applied(snapshot=snapshot, refund_id=refund.id)

    @activity.defn
    async def record_refund(self, outcome: StripeRefundOutcome) -> Applied:
        """What Stripe answered to our refund, recorded: its transaction, or its failure."""
        async with self._sessionmaker() as session, session.begin():
            if outcome.stripe_refund_id is None:
                snapshot = await refunds.record_refused(
                    session,
                    outcome.order_id,
                    outcome.refund_id,
                    code=outcome.refusal_code or "refund_refused",
                    message=outcome.refusal_message or "Stripe refused the refund",
                )
            else:
                snapshot = await refunds.record_stripe_refund(
                    session,
                    outcome.order_id,
                    outcome.refund_id,
                    stripe_refund_id=outcome.stripe_refund_id,
                    stripe_status=outcome.stripe_status or "succeeded",
                    failure_reason=outcome.failure_reason,
                )
            return Applied(snapshot=snapshot, refund_id=outcome.refund_id)

    @activity.defn
    async def request_return(self, request: ReturnRequest) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            created, snapshot = await returns.request_return(session, request)
            return Applied(snapshot=snapshot, return_id=created.id)

    @activity.defn
    async def receive_return(self, request: ReceiveReturnRequest) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            received, units, snapshot = await returns.receive_return(session, request)
            return Applied(
                snapshot=snapshot, return_id=received.id, refund_id=received.refund_id, received=units
            )

    @activity.defn
    async def cancel_return(self, request: CancelReturnRequest) -> Applied:
        async with self._sessionmaker() as session, session.begin():
            canceled, snapshot = await returns.cancel_return(session, request)
            return Applied(snapshot=snapshot, return_id=canceled.id)

"""Stripe activities. Every call that moves money carries an idempotency key built from business IDs,
and each one first re-reads the PaymentIntent so a retry after a lost response does nothing twice.
"""

from __future__ import annotations

import stripe
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import stripe_gateway
from domain.checkout import CancelPaymentInput, PaymentIntentSnapshot
from domain.ids import capture_idempotency_key, refund_idempotency_key
from domain.money import to_stripe_amount
from models import Order
from services import payments
from services.orders import ORDER_COLUMNS


def _business_error(exc: stripe.StripeError) -> ApplicationError:
    """Stripe said no (4xx): retrying the same request cannot help."""
    return ApplicationError(str(exc.user_message or exc), type=type(exc).__name__, non_retryable=True)


class PaymentActivities:
    def __init__(
        self, stripe_client: stripe.StripeClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self._stripe = stripe_client
        self._sessionmaker = sessionmaker

    async def _retrieve(self, payment_intent_id: str) -> PaymentIntentSnapshot:
        try:
            return await stripe_gateway.retrieve_payment_intent(payment_intent_id, client=self._stripe)
        except stripe.InvalidRequestError as exc:  # (a rejected API key: activities.errors)
            raise _business_error(exc) from exc

    @activity.defn
    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentSnapshot:
        return await self._retrieve(payment_intent_id)

    @activity.defn
    async def cancel_payment_intent(self, request: CancelPaymentInput) -> PaymentIntentSnapshot:
        """Cancel an unpaid PaymentIntent, and void an authorization only when asked to.

        A captured one is left for a refund; an authorized one found at expiry is kept, so a
        payment that arrived at the last moment still becomes an order.
        """
        current = await self._retrieve(request.payment_intent_id)
        if current.canceled or current.captured or (current.authorized and not request.void_authorization):
            return current
        try:
            return await stripe_gateway.cancel_payment_intent(request.payment_intent_id, client=self._stripe)
        except stripe.InvalidRequestError:
            # It moved on while we asked (e.g. captured): report what it is now.
            return await self._retrieve(request.payment_intent_id)

    @activity.defn
    async def refund_payment_intent(self, payment_intent_id: str) -> PaymentIntentSnapshot:
        """Give back money that was taken without an order (compensation only)."""
        current = await self._retrieve(payment_intent_id)
        if not current.captured:
            return current
        try:
            await stripe_gateway.refund_payment_intent(
                payment_intent_id,
                idempotency_key=refund_idempotency_key(payment_intent_id, "no-order"),
                client=self._stripe,
            )
        except stripe.InvalidRequestError as exc:
            raise _business_error(exc) from exc
        return await self._retrieve(payment_intent_id)

    @activity.defn
    async def capture_order_payment(self, order_id: str) -> None:
        """Capture exactly `Order.total` and record the capture transaction, once."""
        async with self._sessionmaker() as session:
            order = await session.get(Order, order_id, options=ORDER_COLUMNS)  # its columns are all it needs
        if order is None:
            raise ApplicationError(
                f"order {order_id} does not exist", type="OrderNotFound", non_retryable=True
            )
        expected = to_stripe_amount(order.total, order.currency_code)
        try:
            # Straight to the capture, with no read first (one Stripe round trip, not two): the
            # idempotency key gives a repeat (a retry after a lost answer) the first answer, and
            # Stripe refuses what cannot be captured, which the read below then explains.
            current = await stripe_gateway.capture_payment_intent(
                order.payment_intent_id,
                expected,
                idempotency_key=capture_idempotency_key(order.payment_intent_id),
                client=self._stripe,
            )
        except stripe.InvalidRequestError:
            # More than is authorized, canceled, or captured already (from the dashboard, say).
            current = await self._retrieve(order.payment_intent_id)
            if current.authorized and current.amount_capturable < expected:
                raise ApplicationError(
                    f"authorized {current.amount_capturable} < order total {expected}",
                    type="AmountMismatch",
                    non_retryable=True,
                ) from None
        if not current.captured:
            raise ApplicationError(
                f"payment {order.payment_intent_id} is {current.status}, cannot capture",
                type="CaptureFailed",
                non_retryable=True,
            )
        async with self._sessionmaker() as session, session.begin():
            await payments.record_capture(session, order, current)

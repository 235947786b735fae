"""Stripe side of the order's money: making our refunds, and re-reading what Stripe holds.

Refunds are created with the idempotency key `{order_id}:refund:{request ID}` and
`metadata.refund_id`; before creating one we look for a refund of the PaymentIntent carrying our
`refund_id`, so even a retry after the key expired (Stripe keeps keys about 24 h) cannot refund
twice. No database transaction is open during a Stripe call.
"""

from __future__ import annotations

import stripe
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core import stripe_gateway
from domain.money import to_stripe_amount
from domain.orders.operations import REFUND_REFUSED, STRIPE_REFUND_REFUSALS, RefundReason
from domain.orders.statuses import RefundStatus
from domain.orders.workflow import RefundRef, StripeRefundOutcome, SyncResult
from services import disputes, orders, refunds


class RefundActivities:
    def __init__(
        self, stripe_client: stripe.StripeClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self._stripe = stripe_client
        self._sessionmaker = sessionmaker

    @activity.defn
    async def create_stripe_refund(self, ref: RefundRef) -> StripeRefundOutcome:
        """Our reserved refund at Stripe: found (made by an earlier attempt), made now, or refused."""
        async with self._sessionmaker() as session:
            order = await orders.get_order(session, ref.order_id)
            refund = await refunds.get_refund(session, ref.order_id, ref.refund_id)
        outcome = StripeRefundOutcome(order_id=order.id, refund_id=refund.id)
        if refund.status != RefundStatus.REQUESTED and refund.stripe_refund_id is None:
            # Refused before (the answer of that attempt was recorded): the same refusal again.
            return outcome.model_copy(update={"refusal_code": refund.failure_reason})
        made = next(
            (
                found
                for found in await stripe_gateway.refunds_of(order.payment_intent_id, client=self._stripe)
                if found.our_refund_id == refund.id
            ),
            None,
        )
        if made is None:
            params: dict[str, object] = {
                "payment_intent": order.payment_intent_id,
                "amount": to_stripe_amount(refund.amount, order.currency_code),
                "metadata": {"refund_id": refund.id, "order_id": order.id},
            }
            if (reason := RefundReason(refund.reason).stripe_reason) is not None:
                params["reason"] = reason
            try:
                made = await stripe_gateway.create_refund(
                    params, idempotency_key=refund.idempotency_key, client=self._stripe
                )
            except (stripe.InvalidRequestError, stripe.IdempotencyError) as refused:
                return outcome.model_copy(
                    update={
                        "refusal_code": refused.code
                        if refused.code in STRIPE_REFUND_REFUSALS
                        else REFUND_REFUSED,
                        "refusal_message": str(refused.user_message or refused),
                    }
                )
        return outcome.model_copy(
            update={
                "stripe_refund_id": made.id,
                "stripe_status": made.status,
                "failure_reason": made.failure_reason,
            }
        )

    @activity.defn
    async def sync_order_with_stripe(self, order_id: str) -> SyncResult:
        """Re-read the refunds and disputes of the order's PaymentIntent and make the database agree.

        Called when a Stripe event about the order's charge arrives (the event is only a hint).
        """
        async with self._sessionmaker() as session:
            payment_intent_id = (await orders.get_order(session, order_id)).payment_intent_id
        stripe_refunds = await stripe_gateway.refunds_of(payment_intent_id, client=self._stripe)
        stripe_disputes = await stripe_gateway.disputes_of(payment_intent_id, client=self._stripe)
        async with self._sessionmaker() as session, session.begin():
            order = await orders.lock_order(session, order_id)
            emails = await refunds.reconcile(session, order, stripe_refunds)
            emails += await disputes.reconcile(session, order, stripe_disputes)
            snapshot = await orders.refresh_statuses(session, order)
        return SyncResult(snapshot=snapshot, emails=emails)

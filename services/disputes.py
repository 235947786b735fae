"""Disputes (chargebacks), as Stripe reports them: shown on the order, their funds as transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.stripe_gateway import StripeDispute
from domain.money import from_stripe_amount
from domain.orders.records import STRIPE_ACTOR, OrderEventType, TransactionReference
from domain.orders.statuses import OPEN_DISPUTE_STATUSES, DisputeStatus, transition
from domain.orders.workflow import EmailKind, EmailRequest
from models import Dispute, Order
from services.orders import record_event, record_transaction


async def reconcile(
    session: AsyncSession, order: Order, stripe_disputes: Sequence[StripeDispute]
) -> list[EmailRequest]:
    """Upsert each dispute with Stripe's status; one `dispute` transaction per balance transaction.

    Runs with the order locked. Returns the emails that follow: the shop's notice for each new one.
    """
    emails: list[EmailRequest] = []
    for stripe in stripe_disputes:
        status = DisputeStatus(stripe.status)
        dispute = await session.get(Dispute, stripe.id, populate_existing=True)
        if dispute is None:
            dispute = Dispute(
                id=stripe.id,
                order_id=order.id,
                amount=from_stripe_amount(stripe.amount, order.currency_code),
                currency_code=order.currency_code,
                reason=stripe.reason,
                status=status,
                opened_at=datetime.fromtimestamp(stripe.created, UTC)
                if stripe.created
                else datetime.now(UTC),
            )
            session.add(dispute)
            await session.flush()
            await _event(session, order, OrderEventType.DISPUTE_OPENED, dispute, f"{dispute.id}:opened")
            emails.append(EmailRequest(order_id=order.id, kind=EmailKind.DISPUTE, subject_id=dispute.id))
        elif DisputeStatus(dispute.status) != status:
            dispute.status = transition(DisputeStatus(dispute.status), status)
            await _event(session, order, OrderEventType.DISPUTE_UPDATED, dispute, f"{dispute.id}:{status}")
        for transaction_id, stripe_amount in stripe.balance_transactions:
            amount = from_stripe_amount(abs(stripe_amount), order.currency_code)
            signed = amount if stripe_amount > 0 else -amount
            await record_transaction(session, order, TransactionReference.DISPUTE, transaction_id, signed)
            kind = (
                OrderEventType.DISPUTE_FUNDS_REINSTATED
                if signed > 0
                else OrderEventType.DISPUTE_FUNDS_WITHDRAWN
            )
            await _event(session, order, kind, dispute, f"{transaction_id}:funds", amount=signed)
        if status not in OPEN_DISPUTE_STATUSES and dispute.closed_at is None:
            dispute.closed_at = datetime.now(UTC)
            await _event(session, order, OrderEventType.DISPUTE_CLOSED, dispute, f"{dispute.id}:closed")
    await session.flush()
    return emails


async def _event(
    session: AsyncSession,
    order: Order,
    kind: OrderEventType,
    dispute: Dispute,
    dedupe_key: str,
    *,
    amount: int | None = None,
) -> None:
    data: dict[str, object] = {"dispute_id": dispute.id, "status": dispute.status, "reason": dispute.reason}
    data["amount"] = dispute.amount if amount is None else amount
    await record_event(session, order.id, kind, actor=STRIPE_ACTOR, dedupe_key=dedupe_key, data=data)

"""Refunds: reserved under the order's lock, sent to Stripe, recorded once however Stripe answers.

1. `reserve`: one transaction that locks the order row, computes what is refundable
   (paid - refunded - refunds not yet answered) and refuses more (409 `refund_exceeds_refundable`),
   then writes the `requested` Refund and its item counters. This lock is where no race gets
   past: two refunds, or a refund and a cancellation, are decided one after the other.
2. The Stripe call happens outside any transaction (activities/refunds.py).
3. `record_outcome` / `reconcile`: what Stripe holds becomes the refund's status and exactly one
   `refund` transaction per Stripe refund (unique by the `re_…` ID), one `refund_reversal` when it
   failed, whether we learned it from our own call, its webhook or the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.stripe_gateway import StripeRefund
from domain.ids import new_id, order_refund_idempotency_key
from domain.money import from_stripe_amount
from domain.orders.operations import RefundReason, RefundRequest, RefundSource, check_refund
from domain.orders.records import STRIPE_ACTOR, OrderEventType, TransactionReference
from domain.orders.snapshot import OrderSnapshot
from domain.orders.statuses import REFUND_MONEY_SENT, RefundStatus, transition
from domain.orders.workflow import EmailKind, EmailRequest
from models import Order, OrderItem, Refund, Return
from services.errors import ServiceError
from services.orders import (
    load_snapshot,
    lock_order,
    record_event,
    record_transaction,
    refresh_statuses,
    refusals,
)

# Stripe's refund statuses (https://docs.stripe.com/api/refunds/object#refund_object-status) as ours.
_STATUS_OF_STRIPE = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
_NO_MONEY = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})


async def reserve(session: AsyncSession, request: RefundRequest) -> tuple[Refund, OrderSnapshot]:
    """The `requested` refund for this request, or the one an earlier attempt with its key made.

    The same request ID with another body is refused (409 `idempotency_key_reused`).
    """
    order = await lock_order(session, request.order_id)
    key = order_refund_idempotency_key(order.id, request.request_id)
    existing = await session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if existing is not None:
        if existing.request_fingerprint != request.fingerprint:
            raise ServiceError(
                "This Idempotency-Key was used for another request", code="idempotency_key_reused"
            )
        return existing, await load_snapshot(session, order.id, order=order)
    with refusals():
        plan = check_refund(await load_snapshot(session, order.id, order=order), request)
    refund = Refund(
        id=new_id("refund"),
        order_id=order.id,
        amount=plan.amount,
        currency_code=order.currency_code,
        status=RefundStatus.REQUESTED,
        reason=request.reason,
        note=request.note,
        items=plan.items or None,
        include_shipping=plan.include_shipping,
        source=request.source,
        actor=request.actor,
        idempotency_key=key,
        request_fingerprint=request.fingerprint,
        return_id=request.return_id,
    )
    session.add(refund)
    await session.flush()
    await _count_items(session, order, refund, +1)
    if request.return_id is not None:
        await session.execute(
            update(Return).where(Return.id == request.return_id).values(refund_id=refund.id)
        )
    await record_event(
        session,
        order.id,
        OrderEventType.REFUND_REQUESTED,
        actor=request.actor,
        dedupe_key=f"{refund.id}:requested",
        data={
            "refund_id": refund.id,
            "amount": refund.amount,
            "reason": refund.reason,
            "source": refund.source,
        },
    )
    return refund, await refresh_statuses(session, order)


async def _count_items(session: AsyncSession, order: Order, refund: Refund, sign: int) -> None:
    """Add (or, for a refund that gave nothing, take back) its units to the items' refunded counters."""
    for item_id, units in (refund.items or {}).items():
        await session.execute(
            update(OrderItem)
            .where(OrderItem.id == item_id, OrderItem.order_id == order.id)
            .values(refunded_quantity=OrderItem.refunded_quantity + sign * int(units))
        )


async def get_refund(session: AsyncSession, order_id: str, refund_id: str) -> Refund:
    refund = await session.scalar(select(Refund).where(Refund.id == refund_id, Refund.order_id == order_id))
    if refund is None:
        raise ServiceError(f"Refund {refund_id!r} was not found", code="refund_not_found")
    return refund


async def record_refused(
    session: AsyncSession, order_id: str, refund_id: str, *, code: str, message: str
) -> OrderSnapshot:
    """Stripe refused to make the refund: it is `failed` with the reason, its reservation released."""
    order = await lock_order(session, order_id)
    refund = await get_refund(session, order.id, refund_id)
    if refund.status == RefundStatus.REQUESTED:
        await _fail(session, order, refund, code, actor=refund.actor, detail=message)
    return await refresh_statuses(session, order)


async def record_stripe_refund(
    session: AsyncSession,
    order_id: str,
    refund_id: str,
    *,
    stripe_refund_id: str,
    stripe_status: str,
    failure_reason: str | None,
) -> OrderSnapshot:
    """Our refund as Stripe made it: its ID, its status and its transactions."""
    order = await lock_order(session, order_id)
    refund = await get_refund(session, order.id, refund_id)
    await _apply(session, order, refund, stripe_refund_id, stripe_status, failure_reason)
    return await refresh_statuses(session, order)


async def reconcile(
    session: AsyncSession, order: Order, stripe_refunds: Sequence[StripeRefund]
) -> list[EmailRequest]:
    """Make the database hold every refund Stripe holds for the order's PaymentIntent (order locked).

    A refund we do not know is one made outside us (the dashboard): a new row, source `stripe`
    — unless its `metadata.refund_id` names one of ours whose Stripe answer was lost, which it
    then completes. Returns the emails that follow (a refund email for each new outside refund).
    """
    emails: list[EmailRequest] = []
    for stripe in stripe_refunds:
        refund = await session.scalar(select(Refund).where(Refund.stripe_refund_id == stripe.id))
        if refund is None and stripe.our_refund_id is not None:
            refund = await session.scalar(
                select(Refund).where(Refund.id == stripe.our_refund_id, Refund.order_id == order.id)
            )
        if refund is None:
            refund = await _outside_refund(session, order, stripe)
            emails.append(EmailRequest(order_id=order.id, kind=EmailKind.REFUND, subject_id=refund.id))
        await _apply(session, order, refund, stripe.id, stripe.status, stripe.failure_reason)
    return emails


async def _outside_refund(session: AsyncSession, order: Order, stripe: StripeRefund) -> Refund:
    try:
        reason = RefundReason(stripe.reason or RefundReason.OTHER)
    except ValueError:  # one of Stripe's own, e.g. expired_uncaptured_charge
        reason = RefundReason.OTHER
    refund = Refund(
        id=new_id("refund"),
        order_id=order.id,
        amount=from_stripe_amount(stripe.amount, order.currency_code),
        currency_code=order.currency_code,
        status=RefundStatus.REQUESTED,
        reason=reason,
        note="Made outside Grace's Towel (e.g. the Stripe dashboard)",
        include_shipping=False,
        source=RefundSource.STRIPE,
        actor=STRIPE_ACTOR,
        idempotency_key=f"stripe:{stripe.id}",
        stripe_refund_id=stripe.id,
    )
    session.add(refund)
    await session.flush()
    return refund


async def _apply(
    session: AsyncSession,
    order: Order,
    refund: Refund,
    stripe_refund_id: str,
    stripe_status: str,
    failure_reason: str | None,
) -> None:
    """Stripe's view of one refund: its ID, status, and the transactions that follow from it."""
    status = _STATUS_OF_STRIPE.get(stripe_status, RefundStatus.PENDING)
    previous = RefundStatus(refund.status)
    if previous in _NO_MONEY and refund.stripe_refund_id is not None:
        return  # final: its transaction and its reversal are written
    if refund.stripe_refund_id is None:
        refund.stripe_refund_id = stripe_refund_id
    # Stripe made it: the money left the balance (a refund transaction) ...
    await record_transaction(session, order, TransactionReference.REFUND, stripe_refund_id, -refund.amount)
    if status in REFUND_MONEY_SENT and previous not in REFUND_MONEY_SENT:
        refund.status = transition(previous, status)
        await record_event(
            session,
            order.id,
            OrderEventType.REFUND_SUCCEEDED,
            actor=refund.actor,
            dedupe_key=f"{refund.id}:succeeded",
            data={"refund_id": refund.id, "amount": refund.amount, "stripe_refund_id": stripe_refund_id},
        )
    elif status in REFUND_MONEY_SENT:
        refund.status = transition(previous, status)
    # ... and if it failed, came back (a reversal): shown on the order with Stripe's reason.
    if status in _NO_MONEY:
        await record_transaction(
            session, order, TransactionReference.REFUND_REVERSAL, stripe_refund_id, refund.amount
        )
        if previous not in _NO_MONEY:
            await _fail(session, order, refund, failure_reason or status, actor=STRIPE_ACTOR, to=status)
    await session.flush()


async def _fail(
    session: AsyncSession,
    order: Order,
    refund: Refund,
    reason: str,
    *,
    actor: str,
    to: RefundStatus = RefundStatus.FAILED,
    detail: str | None = None,
) -> None:
    refund.status = transition(RefundStatus(refund.status), to)
    refund.failure_reason = reason[:200]
    await _count_items(session, order, refund, -1)
    data = {"refund_id": refund.id, "amount": refund.amount, "failure_reason": reason}
    await record_event(
        session,
        order.id,
        OrderEventType.REFUND_FAILED,
        actor=actor,
        dedupe_key=f"{refund.id}:failed",
        data={**data, "message": detail} if detail else data,
    )

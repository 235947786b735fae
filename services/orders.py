"""Orders: placing one, the snapshot its workflow keeps, its timeline, statuses and cancellation.

Every function that changes an order first locks its row (`lock_order`, `SELECT ... FOR
UPDATE`): operations on one order queue up in the database as they do in its workflow, and the
checks (domain.orders.operations) run again on what the lock shows, where no race gets past.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from core.settings import Settings
from domain.checkout import CheckoutRecord, FailureCode, PaymentIntentSnapshot
from domain.ids import new_id
from domain.money import to_stripe_amount
from domain.orders.operations import CancelRequest, OrderRefused, check_cancel
from domain.orders.records import SYSTEM_ACTOR, OrderEventType, TransactionReference
from domain.orders.snapshot import ItemSnapshot, OrderSnapshot, ReturnSnapshot
from domain.orders.statuses import (
    OPEN_DISPUTE_STATUSES,
    OPEN_REFUND_STATUSES,
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    ReturnStatus,
    fulfillment_status_of,
    order_status_of,
    payment_status_of,
    transition,
)
from domain.orders.workflow import OrderWorkflowInput
from models import (
    Checkout,
    Dispute,
    Fulfillment,
    Order,
    OrderEvent,
    OrderItem,
    OrderTransaction,
    Payment,
    PaymentCollection,
    Refund,
    Return,
    ReturnItem,
    StockChangeReason,
)
from services import inventory
from services.carts import cart_totals, load_cart
from services.catalog import is_plausible_key
from services.errors import ServiceError


class OrderNotFound(ServiceError):
    code = "order_not_found"


@contextmanager
def refusals() -> Iterator[None]:
    """A check's OrderRefused, as the services' one error type."""
    try:
        yield
    except OrderRefused as refused:
        raise ServiceError(refused.message, code=refused.code) from refused


async def order_for_cart(session: AsyncSession, cart_id: str) -> Order | None:
    """The cart's order as the store shows it (ORDER_AS_SHOWN), if it has one."""
    return await session.scalar(select(Order).where(Order.cart_id == cart_id).options(*ORDER_AS_SHOWN))


async def place_order(session: AsyncSession, payment: PaymentIntentSnapshot) -> Order:
    """The PaymentIntent's order with its items, PaymentCollection and Payment, its stock taken.

    Idempotent: a PaymentIntent that already has its order gets that order back. `Order.total`
    is computed here from the cart and must equal what Stripe holds; a mismatch is refused
    (the workflow voids the payment), never a silent charge. Every refusal's code is one of the
    checkout's FailureCodes. Runs in the caller's transaction: all of it happens or none.
    """
    existing = await session.scalar(select(Order).where(Order.payment_intent_id == payment.id))
    if existing is not None:  # a retry after a commit whose answer was lost
        return existing
    cart = await load_cart(session, payment.cart_id or "", for_update=True)
    if cart.completed_at is not None or await session.scalar(
        select(Order.id).where(Order.cart_id == cart.id)
    ):
        raise ServiceError(f"cart {cart.id} already has an order", code=FailureCode.CART_ALREADY_ORDERED)
    if not cart.items:
        raise ServiceError(f"cart {cart.id} is empty", code=FailureCode.CART_EMPTY)
    totals = await cart_totals(session, cart)
    held = payment.amount_received if payment.captured else payment.amount_capturable
    expected = to_stripe_amount(totals.total, cart.currency_code)
    if payment.currency != cart.currency_code or held != expected:
        raise ServiceError(
            f"payment holds {held} {payment.currency}, order total is {expected} {cart.currency_code}",
            code=FailureCode.AMOUNT_MISMATCH,
        )

    collection = PaymentCollection(
        id=new_id("paycol"),
        currency_code=cart.currency_code,
        amount=totals.total,
        status=PaymentStatus.AUTHORIZED,
    )
    session.add(collection)
    await session.flush()  # the order's NOT NULL foreign key needs the collection first
    location_id = await inventory.location_for_channel(session, cart.sales_channel_id)
    order = Order(
        id=new_id("order"),
        cart_id=cart.id,
        payment_intent_id=payment.id,
        payment_collection_id=collection.id,
        region_id=cart.region_id,
        sales_channel_id=cart.sales_channel_id,
        stock_location_id=location_id,
        currency_code=cart.currency_code,
        email=cart.email,
        shipping_address=cart.shipping_address,
        status=OrderStatus.PENDING,
        payment_status=PaymentStatus.AUTHORIZED,
        fulfillment_status=FulfillmentStatus.NOT_FULFILLED,
        subtotal=totals.subtotal,
        shipping_total=totals.shipping_total,
        tax_total=totals.tax_total,
        total=totals.total,
        access_token=secrets.token_urlsafe(32),
    )
    session.add(order)
    session.add_all(
        OrderItem(
            id=new_id("ordli"),
            order_id=order.id,
            variant_id=item.variant_id,
            title=item.title,
            sku=item.sku,
            quantity=item.quantity,
            unit_price=item.unit_price,
            subtotal=item.unit_price * item.quantity,
        )
        for item in cart.items
    )
    session.add(
        Payment(
            id=new_id("pay"),
            payment_collection_id=collection.id,
            payment_intent_id=payment.id,
            currency_code=cart.currency_code,
            amount=totals.total,
            status="authorized",
        )
    )
    await inventory.fulfil_from_reservation(
        session,
        payment_intent_id=payment.id,
        order_id=order.id,
        location_id=location_id,
        quantities={item.variant_id: item.quantity for item in cart.items},
    )
    cart.completed_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session, order.id, OrderEventType.PLACED, actor=SYSTEM_ACTOR, dedupe_key=f"{order.id}:placed"
    )
    return order


async def record_checkout(session: AsyncSession, record: CheckoutRecord) -> None:
    """Keep the database's read cache of the checkout in step with the workflow."""
    await session.execute(
        update(Checkout)
        .where(Checkout.payment_intent_id == record.payment_intent_id)
        .values(status=record.status.value, order_id=record.order_id, failure_code=record.failure_code)
    )


# --- the timeline ----------------------------------------------------------------------------


async def record_event(
    session: AsyncSession,
    order_id: str,
    event_type: OrderEventType,
    *,
    actor: str,
    dedupe_key: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the order's timeline, once per `dedupe_key` however often it is retried."""
    await session.execute(
        insert(OrderEvent)
        .values(
            id=new_id("ordevt"),
            order_id=order_id,
            type=event_type,
            actor=actor,
            data=data or {},
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


async def record_transaction(
    session: AsyncSession, order: Order, reference: TransactionReference, reference_id: str, amount: int
) -> None:
    """A money movement of the order, written once per (reference, Stripe object) however it arrives."""
    await session.execute(
        insert(OrderTransaction)
        .values(
            id=new_id("ordtxn"),
            order_id=order.id,
            amount=amount,
            currency_code=order.currency_code,
            reference=reference,
            reference_id=reference_id,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["reference", "reference_id"])
    )


def workflow_start(settings: Settings, snapshot: OrderSnapshot) -> OrderWorkflowInput:
    """How the order's workflow starts when an operation or event finds none running: with the
    order as it is now and the windows of today's settings."""
    return OrderWorkflowInput(
        order_id=snapshot.order_id,
        payment_intent_id=snapshot.payment_intent_id,
        snapshot=snapshot,
        return_window_days=settings.order_return_window_days,
        dispute_window_days=settings.order_dispute_window_days,
    )


# --- the order as its workflow sees it ----------------------------------------------------------


async def lock_order(session: AsyncSession, order_id: str) -> Order:
    """The order, row-locked until the transaction ends, as the database holds it now."""
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderNotFound(f"Order {order_id!r} was not found")
    return order


# For reads that need less of an order than all its collections (each is loaded by its own query):
# the order's own columns, or those and its lines. A collection not loaded raises if touched.
ORDER_COLUMNS: Final[Sequence[ORMOption]] = (raiseload("*"),)
ORDER_AND_LINES: Final[Sequence[ORMOption]] = (selectinload(Order.items), raiseload("*"))
# What the store shows of an order (api.schemas.orders.OrderOut): its lines, its PaymentCollection
# (joined, without its Payments) and its transactions.
ORDER_AS_SHOWN: Final[Sequence[ORMOption]] = (
    selectinload(Order.items),
    selectinload(Order.transactions),
    joinedload(Order.payment_collection).raiseload("*"),
    raiseload("*"),
)


async def get_order(session: AsyncSession, order_id: str, *, options: Sequence[ORMOption] = ()) -> Order:
    order = await session.get(Order, order_id, options=options) if is_plausible_key(order_id) else None
    if order is None:
        raise OrderNotFound(f"Order {order_id!r} was not found")
    return order


@dataclass(frozen=True)
class Money:
    """An order's money as its transactions and refunds say (minor units)."""

    paid: int
    refunded: int
    reserved: int
    captured_at: datetime | None

    @property
    def refundable(self) -> int:
        return max(self.paid - self.refunded - self.reserved, 0)


async def order_money(session: AsyncSession, order_id: str) -> Money:
    """paid: the captures; refunded: -(refunds + reversals); reserved: refunds Stripe has not answered."""
    rows = (
        await session.execute(
            select(
                OrderTransaction.reference,
                func.sum(OrderTransaction.amount),
                func.min(OrderTransaction.created_at),
            )
            .where(OrderTransaction.order_id == order_id)
            .group_by(OrderTransaction.reference)
        )
    ).all()
    sums = {reference: (int(total), first) for reference, total, first in rows}
    reserved = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status == RefundStatus.REQUESTED
        )
    )
    capture = sums.get(TransactionReference.CAPTURE, (0, None))
    refunds = sums.get(TransactionReference.REFUND, (0, None))[0]
    reversals = sums.get(TransactionReference.REFUND_REVERSAL, (0, None))[0]
    return Money(
        paid=capture[0], refunded=-(refunds + reversals), reserved=int(reserved or 0), captured_at=capture[1]
    )


async def load_snapshot(session: AsyncSession, order_id: str, *, order: Order | None = None) -> OrderSnapshot:
    """What the OrderWorkflow keeps of the order, read from the database (in the caller's transaction)."""
    order = order or await get_order(session, order_id, options=ORDER_AND_LINES)
    money = await order_money(session, order.id)
    received = dict(
        (
            await session.execute(
                select(ReturnItem.order_item_id, func.sum(ReturnItem.received_quantity))
                .join(Return, Return.id == ReturnItem.return_id)
                .where(Return.order_id == order.id, Return.status == ReturnStatus.RECEIVED)
                .group_by(ReturnItem.order_item_id)
            )
        ).all()
    )
    open_returns = (
        await session.scalars(
            select(Return)
            .where(Return.order_id == order.id, Return.status == ReturnStatus.REQUESTED)
            .order_by(Return.created_at)
        )
    ).all()
    refunds = (
        await session.execute(
            select(Refund.id, Refund.status, Refund.include_shipping)
            .where(Refund.order_id == order.id)
            .order_by(Refund.created_at)
        )
    ).all()
    open_disputes = (
        await session.scalars(
            select(Dispute.id).where(
                Dispute.order_id == order.id, Dispute.status.in_(list(OPEN_DISPUTE_STATUSES))
            )
        )
    ).all()
    last_shipped_at = await session.scalar(
        select(func.max(Fulfillment.shipped_at)).where(Fulfillment.order_id == order.id)
    )
    return OrderSnapshot(
        order_id=order.id,
        payment_intent_id=order.payment_intent_id,
        currency_code=order.currency_code,
        subtotal=order.subtotal,
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        total=order.total,
        status=OrderStatus(order.status),
        payment_status=PaymentStatus(order.payment_status),
        fulfillment_status=FulfillmentStatus(order.fulfillment_status),
        paid=money.paid,
        refunded=money.refunded,
        reserved=money.reserved,
        shipping_refunded=any(
            include_shipping and RefundStatus(status) not in _MONEY_BACK
            for _, status, include_shipping in refunds
        ),
        items=[
            ItemSnapshot(
                id=item.id,
                quantity=item.quantity,
                unit_price=item.unit_price,
                shipped=item.shipped_quantity,
                returned=item.returned_quantity,
                received=int(received.get(item.id, 0)),
                refunded=item.refunded_quantity,
            )
            for item in order.items
        ],
        open_returns=[
            ReturnSnapshot(
                id=ret.id,
                request_id=ret.request_id,
                items={line.order_item_id: line.quantity for line in ret.items},
            )
            for ret in open_returns
        ],
        open_refund_ids=[
            refund_id for refund_id, status, _ in refunds if RefundStatus(status) in OPEN_REFUND_STATUSES
        ],
        open_dispute_ids=list(open_disputes),
        placed_at=order.created_at,
        captured_at=money.captured_at,
        last_shipped_at=last_shipped_at,
    )


# A refund in one of these gave nothing (or gave it back): its items and shipping may be refunded again.
_MONEY_BACK = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})


async def refresh_statuses(session: AsyncSession, order: Order, *, voided: bool = False) -> OrderSnapshot:
    """Set the order's statuses from its money and item counters (through the state machine).

    Call after changing the order's rows, in the same transaction; returns the new snapshot.
    """
    await session.flush()
    await session.refresh(order)
    for item in order.items:
        await session.refresh(item)
    snapshot = await load_snapshot(session, order.id, order=order)
    canceled = order.status == OrderStatus.CANCELED
    fulfillment = fulfillment_status_of(
        ((item.quantity, item.shipped, item.received) for item in snapshot.items), canceled=canceled
    )
    payment = payment_status_of(
        captured=snapshot.paid > 0,
        voided=voided or snapshot.payment_status == PaymentStatus.CANCELED,
        paid=snapshot.paid,
        refunded=snapshot.refunded,
    )
    order.fulfillment_status = transition(snapshot.fulfillment_status, fulfillment)
    left_to_ship = sum(item.unshipped for item in snapshot.items)
    order.status = transition(snapshot.status, order_status_of(fulfillment, left_to_ship=left_to_ship))
    order.payment_status = transition(snapshot.payment_status, payment)
    await session.execute(
        update(PaymentCollection)
        .where(PaymentCollection.id == order.payment_collection_id)
        .values(status=payment)
    )
    await session.flush()
    return snapshot.model_copy(
        update={
            "status": OrderStatus(order.status),
            "fulfillment_status": fulfillment,
            "payment_status": payment,
        }
    )


# --- cancellation ----------------------------------------------------------------------------


async def cancel_order(
    session: AsyncSession, request: CancelRequest, *, voided: bool, capture_failure: str | None = None
) -> OrderSnapshot:
    """The order canceled, every unshipped unit back where it left, in one transaction. Idempotent.

    The money has been dealt with before (the authorization voided: `voided`, or the captured
    amount refunded); nothing that shipped can be canceled (409 `order_fulfilled`).
    """
    order = await lock_order(session, request.order_id)
    with refusals():
        if not check_cancel(await load_snapshot(session, order.id, order=order), request):
            return await load_snapshot(session, order.id, order=order)
    location_id = order.stock_location_id or await inventory.location_for_channel(
        session, order.sales_channel_id
    )
    await inventory.restock(
        session,
        order_id=order.id,
        location_id=location_id,
        quantities={item.variant_id: item.quantity - item.shipped_quantity for item in order.items},
        reason=StockChangeReason.CANCEL,
        actor=request.actor,
        reference=f"{order.id}:cancel",
    )
    if capture_failure is not None:
        await record_event(
            session,
            order.id,
            OrderEventType.CAPTURE_FAILED,
            actor=request.actor,
            dedupe_key=f"{order.id}:capture-failed",
            data={"message": capture_failure},
        )
    order.status = transition(OrderStatus(order.status), OrderStatus.CANCELED)
    order.canceled_at = datetime.now(UTC)
    if voided:
        await session.execute(
            update(Payment)
            .where(Payment.payment_intent_id == order.payment_intent_id)
            .values(status="canceled")
        )
        await record_event(
            session,
            order.id,
            OrderEventType.PAYMENT_VOIDED,
            actor=request.actor,
            dedupe_key=f"{order.id}:voided",
        )
    await record_event(
        session,
        order.id,
        OrderEventType.CANCELED,
        actor=request.actor,
        dedupe_key=f"{order.id}:canceled",
        data={"reason": request.reason} if request.reason else {},
    )
    return await refresh_statuses(session, order, voided=voided)


# --- reads for the admin API ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPage:
    orders: Sequence[Order]
    count: int


async def list_orders(
    session: AsyncSession,
    *,
    status: str | None,
    payment_status: str | None,
    fulfillment_status: str | None,
    email: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> OrderPage:
    """Orders newest first, filtered by statuses, exact email (any case) and `q` (ID, email or item)."""
    conditions: list[Any] = []
    for column, value in (
        (Order.status, status),
        (Order.payment_status, payment_status),
        (Order.fulfillment_status, fulfillment_status),
    ):
        if value is not None:
            conditions.append(column == value)
    if email is not None:
        conditions.append(func.lower(Order.email) == email.lower())
    if q:
        conditions.append(
            or_(
                *(
                    column.icontains(q, autoescape=True)
                    for column in (Order.id, Order.email, Order.payment_intent_id)
                ),
                Order.id.in_(
                    select(OrderItem.order_id).where(
                        or_(
                            OrderItem.title.icontains(q, autoescape=True),
                            OrderItem.sku.icontains(q, autoescape=True),
                        )
                    )
                ),
            )
        )
    count = await session.scalar(select(func.count()).select_from(Order).where(*conditions))
    orders = await session.scalars(
        select(Order)
        .where(*conditions)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return OrderPage(orders=orders.all(), count=count or 0)


@dataclass(frozen=True)
class OrderRecords:
    """Everything the admin API shows with an order."""

    fulfillments: Sequence[Fulfillment]
    returns: Sequence[Return]
    refunds: Sequence[Refund]
    disputes: Sequence[Dispute]
    events: Sequence[OrderEvent]
    money: Money


async def order_records(session: AsyncSession, order_id: str) -> OrderRecords:
    def of(model: Any, order_by: Callable[[Any], Any]) -> Any:
        return session.scalars(select(model).where(model.order_id == order_id).order_by(order_by(model)))

    return OrderRecords(
        fulfillments=(await of(Fulfillment, lambda m: m.shipped_at)).all(),
        returns=(await of(Return, lambda m: m.created_at)).all(),
        refunds=(await of(Refund, lambda m: m.created_at)).all(),
        disputes=(await of(Dispute, lambda m: m.opened_at)).all(),
        events=(await of(OrderEvent, lambda m: m.created_at)).all(),
        money=await order_money(session, order_id),
    )

"""Order activities: turn an authorized checkout into an order, in one database transaction."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.checkout import CheckoutRecord, FailureCode, OrderRef, PaymentIntentSnapshot
from domain.ids import new_id
from domain.money import to_stripe_amount
from models import Checkout, Order, OrderItem, Payment, PaymentCollection
from services import inventory
from services.carts import CartNotFound, cart_totals, load_cart


def _refuse(code: FailureCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code.value, non_retryable=True)


class OrderActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def place_order(self, payment: PaymentIntentSnapshot) -> OrderRef:
        """Create the order, its items, PaymentCollection and Payment, and take its stock: all or nothing.

        `Order.total` is computed here from the cart and must equal what Stripe holds; a mismatch
        is a business error (the workflow voids the payment), never a silent charge.
        """
        try:
            async with self._sessionmaker() as session, session.begin():
                existing = await session.scalar(select(Order).where(Order.payment_intent_id == payment.id))
                if existing is not None:  # a retry after a commit whose answer was lost
                    return OrderRef(
                        order_id=existing.id, total=existing.total, currency_code=existing.currency_code
                    )
                order = await self._create_order(session, payment)
                return OrderRef(order_id=order.id, total=order.total, currency_code=order.currency_code)
        except inventory.InsufficientInventory as short:
            raise _refuse(FailureCode.INSUFFICIENT_INVENTORY, short.message) from short

    async def _create_order(self, session: AsyncSession, payment: PaymentIntentSnapshot) -> Order:
        try:
            cart = await load_cart(session, payment.cart_id or "", for_update=True)
        except CartNotFound as missing:
            raise _refuse(FailureCode.CART_NOT_FOUND, str(missing)) from missing
        if cart.completed_at is not None or await session.scalar(
            select(Order.id).where(Order.cart_id == cart.id)
        ):
            raise _refuse(FailureCode.CART_ALREADY_ORDERED, f"cart {cart.id} already has an order")
        if not cart.items:
            raise _refuse(FailureCode.CART_EMPTY, f"cart {cart.id} is empty")
        totals = await cart_totals(session, cart)
        held = payment.amount_received if payment.captured else payment.amount_capturable
        expected = to_stripe_amount(totals.total, cart.currency_code)
        if payment.currency != cart.currency_code or held != expected:
            raise _refuse(
                FailureCode.AMOUNT_MISMATCH,
                f"payment holds {held} {payment.currency}, order total is {expected} {cart.currency_code}",
            )

        collection = PaymentCollection(
            id=new_id("paycol"), currency_code=cart.currency_code, amount=totals.total, status="authorized"
        )
        session.add(collection)
        await session.flush()  # the order's NOT NULL foreign key needs the collection first
        order = Order(
            id=new_id("order"),
            cart_id=cart.id,
            payment_intent_id=payment.id,
            payment_collection_id=collection.id,
            region_id=cart.region_id,
            sales_channel_id=cart.sales_channel_id,
            currency_code=cart.currency_code,
            email=cart.email,
            shipping_address=cart.shipping_address,
            status="pending",
            payment_status="authorized",
            fulfillment_status="not_fulfilled",
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
            location_id=await inventory.location_for_channel(session, cart.sales_channel_id),
            quantities={item.variant_id: item.quantity for item in cart.items},
        )
        cart.completed_at = datetime.now(UTC)
        await session.flush()
        return order

    @activity.defn
    async def record_checkout(self, record: CheckoutRecord) -> None:
        """Keep the database's read cache of the checkout in step with the workflow."""
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(Checkout)
                .where(Checkout.payment_intent_id == record.payment_intent_id)
                .values(
                    status=record.status.value, order_id=record.order_id, failure_code=record.failure_code
                )
            )

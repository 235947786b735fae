"""Orders: placing one from an authorized checkout, finding a cart's order, the checkout read cache."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.checkout import CheckoutRecord, FailureCode, PaymentIntentSnapshot
from domain.ids import new_id
from domain.money import to_stripe_amount
from models import Checkout, Order, OrderItem, Payment, PaymentCollection
from services import inventory
from services.carts import cart_totals, load_cart
from services.errors import ServiceError


async def order_for_cart(session: AsyncSession, cart_id: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.cart_id == cart_id))


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
        order_id=order.id,
        location_id=await inventory.location_for_channel(session, cart.sales_channel_id),
        quantities={item.variant_id: item.quantity for item in cart.items},
    )
    cart.completed_at = datetime.now(UTC)
    await session.flush()
    return order


async def record_checkout(session: AsyncSession, record: CheckoutRecord) -> None:
    """Keep the database's read cache of the checkout in step with the workflow."""
    await session.execute(
        update(Checkout)
        .where(Checkout.payment_intent_id == record.payment_intent_id)
        .values(status=record.status.value, order_id=record.order_id, failure_code=record.failure_code)
    )

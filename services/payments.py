"""Payments: a cart's PaymentIntent and the checkout rows that track it, and the capture's bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import stripe_gateway
from domain.checkout import TERMINAL_STATUSES, CheckoutStatus, PaymentIntentSnapshot
from domain.money import to_stripe_amount
from domain.orders.records import SYSTEM_ACTOR, OrderEventType, TransactionReference
from domain.orders.statuses import PaymentStatus
from models import Cart, Checkout, Order, Payment, PaymentCollection
from services.carts import cart_totals, load_cart, reprice
from services.catalog import unsellable_variants
from services.errors import ServiceError
from services.orders import record_event, record_transaction

# A PaymentIntent's amount can change only until the customer has paid it.
_AMOUNT_EDITABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})
_OPEN = [status.value for status in CheckoutStatus if status not in TERMINAL_STATUSES]


class CheckoutRefused(ServiceError):
    """The cart cannot be paid as it is; the storefront contract answers `{"type": "cart", "error"}`."""

    extra: ClassVar[Mapping[str, str]] = {"type": "cart"}


def _check_ready(cart: Cart) -> None:
    if cart.completed_at is not None:
        raise CheckoutRefused("The cart is already completed", code="cart_completed")
    if not cart.items:
        raise CheckoutRefused("Add at least one item before paying", code="cart_empty")
    if not cart.email:
        raise CheckoutRefused("Set the cart's email before paying", code="email_required")
    if cart.shipping_method is None:
        raise CheckoutRefused("Choose a shipping option before paying", code="shipping_method_required")


async def open_checkout(session: AsyncSession, cart_id: str) -> Checkout | None:
    return await session.scalar(
        select(Checkout)
        .where(Checkout.cart_id == cart_id, Checkout.status.in_(_OPEN))
        .order_by(Checkout.created_at.desc())
        .limit(1)
    )


async def latest_checkout(session: AsyncSession, cart_id: str) -> Checkout | None:
    return await session.scalar(
        select(Checkout).where(Checkout.cart_id == cart_id).order_by(Checkout.created_at.desc()).limit(1)
    )


async def prepare_payment_intent(session: AsyncSession, cart_id: str) -> tuple[Checkout, str]:
    """Create the cart's PaymentIntent, or bring the open one's amount up to date with the cart.

    Returns the checkout and the PaymentIntent's client secret. The amount always comes from the
    server's totals at the catalog's current prices (a price change since the cart's last change
    applies here, and is refused once the payment is authorized). Runs in the caller's
    transaction; the cart's row lock makes concurrent calls for one cart queue up instead of
    creating two PaymentIntents.
    """
    cart = await load_cart(session, cart_id, for_update=True)
    _check_ready(cart)
    if await unsellable_variants(session, {item.variant_id for item in cart.items}):
        raise CheckoutRefused(
            "Some items are no longer sold: remove them from the cart", code="variant_unavailable"
        )
    # The one place an open payment session picks up a price changed since the cart last did.
    await reprice(session, cart)
    totals = await cart_totals(session, cart)
    amount = to_stripe_amount(totals.total, cart.currency_code)

    checkout = await open_checkout(session, cart.id)
    if checkout is not None:
        intent = await stripe_gateway.retrieve_payable(checkout.payment_intent_id)
        if intent.payment.amount != amount:
            if intent.payment.status not in _AMOUNT_EDITABLE:
                raise CheckoutRefused(
                    "The cart changed after its payment was authorized;"
                    " complete the cart or cancel the payment",
                    code="payment_already_authorized",
                )
            intent = await stripe_gateway.update_payment_intent_amount(checkout.payment_intent_id, amount)
            checkout.amount = totals.total
        return checkout, intent.client_secret

    attempts = await session.scalar(
        select(func.count()).select_from(Checkout).where(Checkout.cart_id == cart.id)
    )
    intent = await stripe_gateway.create_payment_intent(
        amount=amount,
        currency=cart.currency_code,
        cart_id=cart.id,
        # Same cart, same version, same attempt: Stripe answers with the same PaymentIntent.
        idempotency_key=f"{cart.id}:v{cart.version}:a{attempts}",
    )
    checkout = Checkout(
        payment_intent_id=intent.payment.id,
        cart_id=cart.id,
        status=CheckoutStatus.RESERVING.value,
        amount=totals.total,
        currency_code=cart.currency_code,
    )
    session.add(checkout)
    await session.flush()
    return checkout, intent.client_secret


async def record_capture(session: AsyncSession, order: Order, captured: PaymentIntentSnapshot) -> None:
    """The capture's OrderTransaction (once per PaymentIntent) and every status that follows from it."""
    now = datetime.now(UTC)
    await record_transaction(session, order, TransactionReference.CAPTURE, captured.id, order.total)
    await session.execute(
        update(Payment)
        .where(Payment.payment_intent_id == order.payment_intent_id, Payment.status != "captured")
        .values(status="captured", captured_at=now)
    )
    await session.execute(
        update(PaymentCollection)
        .where(
            PaymentCollection.id == order.payment_collection_id,
            PaymentCollection.status == PaymentStatus.AUTHORIZED,
        )
        .values(status=PaymentStatus.CAPTURED)
    )
    await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.payment_status == PaymentStatus.AUTHORIZED)
        .values(payment_status=PaymentStatus.CAPTURED)
    )
    await record_event(
        session, order.id, OrderEventType.CAPTURED, actor=SYSTEM_ACTOR, dedupe_key=f"{order.id}:captured"
    )

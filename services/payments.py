"""Payments: a cart's PaymentIntent and the checkout rows that track it, and the capture's bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import stripe
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

# How often payment-sessions plans again when the cart changed while Stripe answered.
_PLAN_ROUNDS = 3
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


async def checkout_has_ended(session: AsyncSession, payment_intent_id: str) -> bool:
    """The read cache says the PaymentIntent's checkout has ended (a terminal status, written by
    its workflow): a Stripe event about it then changes nothing, such as the `succeeded` that our
    own capture makes Stripe send."""
    status = await session.scalar(
        select(Checkout.status).where(Checkout.payment_intent_id == payment_intent_id)
    )
    return status is not None and CheckoutStatus(status) in TERMINAL_STATUSES


async def latest_checkout(session: AsyncSession, cart_id: str) -> Checkout | None:
    return await session.scalar(
        select(Checkout).where(Checkout.cart_id == cart_id).order_by(Checkout.created_at.desc()).limit(1)
    )


@dataclass(frozen=True)
class _PaymentPlan:
    """What the cart needs from Stripe, read under its row lock (then released)."""

    cart_id: str
    version: int
    currency_code: str
    total: int
    amount: int  # in Stripe's units
    open_payment_intent_id: str | None
    attempts: int


async def _plan_payment(session: AsyncSession, cart_id: str) -> _PaymentPlan:
    cart = await load_cart(session, cart_id, for_update=True)
    _check_ready(cart)
    if await unsellable_variants(session, {item.variant_id for item in cart.items}):
        raise CheckoutRefused(
            "Some items are no longer sold: remove them from the cart", code="variant_unavailable"
        )
    # The one place an open payment session picks up a price changed since the cart last did.
    await reprice(session, cart)
    totals = await cart_totals(session, cart)
    checkout = await open_checkout(session, cart.id)
    attempts = await session.scalar(
        select(func.count()).select_from(Checkout).where(Checkout.cart_id == cart.id)
    )
    return _PaymentPlan(
        cart_id=cart.id,
        version=cart.version,
        currency_code=cart.currency_code,
        total=totals.total,
        amount=to_stripe_amount(totals.total, cart.currency_code),
        open_payment_intent_id=checkout.payment_intent_id if checkout is not None else None,
        attempts=attempts or 0,
    )


async def _intent_for(plan: _PaymentPlan) -> stripe_gateway.PayablePaymentIntent:
    """The plan's PaymentIntent at Stripe: the open one with its amount brought up to date, or a new one."""
    if plan.open_payment_intent_id is None:
        return await stripe_gateway.create_payment_intent(
            amount=plan.amount,
            currency=plan.currency_code,
            cart_id=plan.cart_id,
            # Same cart, same version, same attempt: Stripe answers with the same PaymentIntent, so
            # concurrent calls for one cart get one.
            idempotency_key=f"{plan.cart_id}:v{plan.version}:a{plan.attempts}",
        )
    intent = await stripe_gateway.retrieve_payable(plan.open_payment_intent_id)
    if intent.payment.amount == plan.amount:
        return intent
    if intent.payment.status not in _AMOUNT_EDITABLE:
        raise CheckoutRefused(
            "The cart changed after its payment was authorized; complete the cart or cancel the payment",
            code="payment_already_authorized",
        )
    return await stripe_gateway.update_payment_intent_amount(plan.open_payment_intent_id, plan.amount)


async def _record_payment(
    session: AsyncSession, plan: _PaymentPlan, intent: stripe_gateway.PayablePaymentIntent
) -> Checkout | None:
    """Write the plan (its repricing too) and Stripe's answer if the cart, planned again under its
    row lock, is still what was planned: a compare-and-set. None: it changed, plan again."""
    now = await _plan_payment(session, plan.cart_id)
    # A new PaymentIntent: the open checkout is none yet, or this one (a concurrent call's, same key).
    expected_open = (
        {plan.open_payment_intent_id} if plan.open_payment_intent_id else {None, intent.payment.id}
    )
    if (now.version, now.total) != (
        plan.version,
        plan.total,
    ) or now.open_payment_intent_id not in expected_open:
        return None
    checkout = await open_checkout(session, plan.cart_id)
    if checkout is None:
        checkout = _new_checkout(plan, intent)
        session.add(checkout)
    checkout.amount = plan.total
    await session.flush()
    return checkout


def _new_checkout(plan: _PaymentPlan, intent: stripe_gateway.PayablePaymentIntent) -> Checkout:
    return Checkout(
        payment_intent_id=intent.payment.id,
        cart_id=plan.cart_id,
        status=CheckoutStatus.RESERVING.value,
        amount=plan.total,
        currency_code=plan.currency_code,
    )


async def _track_new_payment_intent(
    session: AsyncSession, plan: _PaymentPlan, intent: stripe_gateway.PayablePaymentIntent
) -> bool:
    """A new PaymentIntent the cart changed under: recorded as the cart's open checkout (it exists
    at Stripe with the cart in its metadata; the next round brings its amount up to date), unless
    another call's is that already. Returns whether it lost to that one."""
    await load_cart(session, plan.cart_id, for_update=True)
    current = await open_checkout(session, plan.cart_id)
    if current is None:
        session.add(_new_checkout(plan, intent))
        await session.flush()
        return False
    return current.payment_intent_id != intent.payment.id


async def prepare_payment_intent(session: AsyncSession, cart_id: str) -> tuple[Checkout, str]:
    """Create the cart's PaymentIntent, or bring the open one's amount up to date with the cart.

    Returns the checkout and the PaymentIntent's client secret. The amount always comes from the
    server's totals at the catalog's current prices (a price change since the cart's last change
    applies here, and is refused once the payment is authorized).

    No transaction is open while Stripe answers: the cart is planned for in one short transaction
    (rolled back: nothing is written before Stripe said yes), Stripe called outside any, and the
    plan written in another only if the cart, planned again, is unchanged (else plan again).
    Concurrent calls for one cart converge on one PaymentIntent: the same idempotency key, and
    the cart's open checkout decided under its row lock.
    """
    for _ in range(_PLAN_ROUNDS):
        async with session.begin() as planning:
            plan = await _plan_payment(session, cart_id)
            await planning.rollback()
        intent = await _intent_for(plan)
        async with session.begin() as writing:
            checkout = await _record_payment(session, plan, intent)
            if checkout is None:
                await writing.rollback()
        if checkout is not None:
            return checkout, intent.client_secret
        if plan.open_payment_intent_id is None:
            async with session.begin():
                superseded = await _track_new_payment_intent(session, plan, intent)
            if superseded:
                with suppress(stripe.StripeError):  # never confirmed: no client has its secret
                    await stripe_gateway.cancel_payment_intent(intent.payment.id)
    raise CheckoutRefused(
        "The cart keeps changing while its payment is prepared; try again", code="cart_changed"
    )


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

"""Starting and finishing checkouts from the API side: PaymentIntents and the workflow handle."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from core.settings import Settings
from core.stripe_gateway import get_stripe_client, snapshot
from domain.checkout import (
    TERMINAL_STATUSES,
    CheckoutInput,
    CheckoutStatus,
    PaymentEvent,
    ReservationResult,
)
from domain.money import to_stripe_amount
from models import Cart, Checkout, Order
from services.carts import cart_totals, load_cart
from workflows.checkout import CheckoutWorkflow

# A PaymentIntent's amount can change only until the customer has paid it.
_AMOUNT_EDITABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})
_OPEN = [status.value for status in CheckoutStatus if status not in TERMINAL_STATUSES]


class CartNotReady(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PaymentAlreadyAuthorized(Exception):
    pass


def _check_ready(cart: Cart) -> None:
    if cart.completed_at is not None:
        raise CartNotReady("cart_completed", "The cart is already completed")
    if not cart.items:
        raise CartNotReady("cart_empty", "Add at least one item before paying")
    if not cart.email:
        raise CartNotReady("email_required", "Set the cart's email before paying")
    if cart.shipping_method is None:
        raise CartNotReady("shipping_method_required", "Choose a shipping option before paying")


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


async def order_for_cart(session: AsyncSession, cart_id: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.cart_id == cart_id))


async def prepare_payment_intent(session: AsyncSession, cart_id: str) -> tuple[Checkout, str]:
    """Create the cart's PaymentIntent, or bring the open one's amount up to date with the cart.

    Returns the checkout and the PaymentIntent's client secret. The amount always comes from the
    server's totals. Runs in the caller's transaction; the cart's row lock makes concurrent
    calls for one cart queue up instead of creating two PaymentIntents.
    """
    stripe_client = get_stripe_client()
    cart = await load_cart(session, cart_id, for_update=True)
    _check_ready(cart)
    totals = await cart_totals(session, cart)
    amount = to_stripe_amount(totals.total, cart.currency_code)

    checkout = await open_checkout(session, cart.id)
    if checkout is not None:
        intent = await stripe_client.v1.payment_intents.retrieve_async(checkout.payment_intent_id)
        if intent.amount != amount:
            if intent.status not in _AMOUNT_EDITABLE:
                raise PaymentAlreadyAuthorized(checkout.payment_intent_id)
            intent = await stripe_client.v1.payment_intents.update_async(
                checkout.payment_intent_id, {"amount": amount}
            )
            checkout.amount = totals.total
        return checkout, str(intent.client_secret)

    attempts = await session.scalar(
        select(func.count()).select_from(Checkout).where(Checkout.cart_id == cart.id)
    )
    intent = await stripe_client.v1.payment_intents.create_async(
        {
            "amount": amount,
            "currency": cart.currency_code,
            "capture_method": "manual",
            "metadata": {"cart_id": cart.id},
        },
        # Same cart, same version, same attempt: Stripe answers with the same PaymentIntent.
        {"idempotency_key": f"{cart.id}:v{cart.version}:a{attempts}"},
    )
    paid = snapshot(intent)
    checkout = Checkout(
        payment_intent_id=paid.id,
        cart_id=cart.id,
        status=CheckoutStatus.RESERVING.value,
        amount=totals.total,
        currency_code=cart.currency_code,
    )
    session.add(checkout)
    await session.flush()
    return checkout, str(intent.client_secret)


async def start_checkout(temporal: Client, settings: Settings, checkout: Checkout) -> ReservationResult:
    """Start the checkout workflow (or attach to the running one) and hold stock for the cart."""
    start = WithStartWorkflowOperation(
        CheckoutWorkflow.run,
        CheckoutInput(
            payment_intent_id=checkout.payment_intent_id,
            cart_id=checkout.cart_id,
            payment_timeout_seconds=settings.checkout_payment_timeout_seconds,
        ),
        id=checkout.payment_intent_id,
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A checkout that failed on a bug may be run again; one that finished may not.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        static_summary=f"Checkout of cart {checkout.cart_id}",
    )
    return await temporal.execute_update_with_start_workflow(
        CheckoutWorkflow.sync_reservation, start_workflow_operation=start
    )


async def signal_with_start(
    temporal: Client, settings: Settings, payment_intent_id: str, event: PaymentEvent
) -> WorkflowHandle[Any, Any]:
    """Deliver a payment hint even if the checkout does not exist yet (it then starts from it).

    A checkout that has finished is never started again this way: Temporal raises
    `WorkflowAlreadyStartedError`, which callers acknowledge.
    """
    return await temporal.start_workflow(
        CheckoutWorkflow.run,
        CheckoutInput(
            payment_intent_id=payment_intent_id,
            payment_timeout_seconds=settings.checkout_payment_timeout_seconds,
        ),
        id=payment_intent_id,
        task_queue=settings.temporal_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        start_signal="payment_event",
        start_signal_args=[event],
    )

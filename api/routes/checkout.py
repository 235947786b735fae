"""Paying for a cart: the payment session (PaymentIntent + CheckoutWorkflow) and `complete`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, get_temporal
from api.errors import (
    RETRY_LATER_RESPONSE,
    APIError,
    checkout_pending,
    combined,
    error_responses,
    not_found,
    refusal,
    temporal_unavailable,
)
from api.metrics import CHECKOUT_COMPLETIONS, PAYMENT_SESSIONS, counted
from api.request_limits import PAYMENT_SESSIONS as PAYMENT_SESSION_LIMIT
from api.schemas.orders import CompleteResponse, PaymentSessionOut, PaymentSessionResponse, PlacedOrderOut
from core.logs import bind_log_context
from domain.checkout import TERMINAL_STATUSES, CheckoutStatus, CompletionResult, FailureCode
from domain.orders.statuses import OrderStatus
from models import Cart, Checkout, Order
from services.dispatch import complete_checkout, start_checkout
from services.orders import ORDER_AS_SHOWN, order_for_cart
from services.payments import latest_checkout, prepare_payment_intent

router = APIRouter(prefix="/store/carts", tags=["checkout"])

# Why there is no order yet, as the storefront's HTTP status: pay (402) or fix the cart (409).
_STATUS_FOR_FAILURE: dict[str, int] = {
    FailureCode.PAYMENT_REQUIRED: 402,
    FailureCode.PAYMENT_FAILED: 402,
}
_MESSAGES = {
    FailureCode.PAYMENT_REQUIRED: "The payment has not been authorized yet",
    FailureCode.CHECKOUT_EXPIRED: "The payment did not arrive in time; start a new payment session",
    FailureCode.PAYMENT_CANCELED: "The payment was canceled; start a new payment session",
    FailureCode.CAPTURE_FAILED: (
        "The payment could not be taken: the order was canceled and nothing was charged"
    ),
}
_CHECKOUT_UNREACHABLE = "The checkout service is not reachable; try again"
# The workflow did not answer within CHECKOUT_ANSWER_TIMEOUT_SECONDS: asyncio's timeout, or the
# SDK's own form of that cancellation while it waits for an Update's result.
_NO_ANSWER_IN_TIME = (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError)


# What the checkout itself may answer: 402 (pay first) or 409 (no order possible), by its code.
_PAYMENT_MISSING = refusal(
    "No authorized payment yet", *(code for code in FailureCode if code in _STATUS_FOR_FAILURE)
)
_NO_ORDER_POSSIBLE = refusal(
    "No order is possible for this cart as it is",
    *(code for code in FailureCode if code not in _STATUS_FOR_FAILURE),
)
_CART_NOT_FOUND = refusal("No such cart", "cart_not_found")


def cart_error(code: str, message: str) -> APIError:
    """Why the checkout has no order, in the contract's shape: `{"type": "cart", "error": {...}}`."""
    return APIError(_STATUS_FOR_FAILURE.get(code, 409), str(code), message, extra={"type": "cart"})


@router.post(
    "/{cart_id}/payment-sessions",
    response_model=PaymentSessionResponse,
    dependencies=[Depends(PAYMENT_SESSION_LIMIT)],
    responses={
        **error_responses(
            {
                400: refusal(
                    "The cart is not ready to pay",
                    "cart_empty",
                    "email_required",
                    "shipping_method_required",
                    "variant_not_priced",
                ),
                402: _PAYMENT_MISSING,
                404: _CART_NOT_FOUND,
                409: combined(
                    refusal(
                        "The cart cannot be paid as it is",
                        "cart_completed",
                        "payment_already_authorized",
                        "variant_unavailable",
                        "cart_changed",
                    ),
                    _NO_ORDER_POSSIBLE,
                ),
            }
        ),
        503: RETRY_LATER_RESPONSE,
    },
)
@counted(PAYMENT_SESSIONS, "created")
async def create_payment_session(
    cart_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> PaymentSessionResponse:
    """Never hangs: without the workflow's answer within CHECKOUT_ANSWER_TIMEOUT_SECONDS, 503
    `checkout_pending`; the reservation request stays with the workflow, and a repeat answers."""
    checkout, client_secret = await prepare_payment_intent(session, cart_id)
    bind_log_context(payment_intent_id=checkout.payment_intent_id)
    try:
        async with asyncio.timeout(settings.checkout_answer_timeout_seconds):
            reservation = await start_checkout(await get_temporal(request), settings, checkout)
    except _NO_ANSWER_IN_TIME as exc:
        raise checkout_pending() from exc
    except (RPCError, WorkflowUpdateFailedError) as exc:
        raise temporal_unavailable(_CHECKOUT_UNREACHABLE) from exc
    if not reservation.reserved:
        raise cart_error(
            reservation.failure_code or FailureCode.INSUFFICIENT_INVENTORY,
            reservation.failure_message or "Some items are no longer available",
        )
    return PaymentSessionResponse(
        payment_session=PaymentSessionOut(
            payment_intent_id=checkout.payment_intent_id,
            client_secret=client_secret,
            amount=checkout.amount,
            currency_code=checkout.currency_code,
        )
    )


@router.post(
    "/{cart_id}/complete",
    response_model=CompleteResponse,
    responses={
        **error_responses({402: _PAYMENT_MISSING, 404: _CART_NOT_FOUND, 409: _NO_ORDER_POSSIBLE}),
        503: RETRY_LATER_RESPONSE,
    },
)
@counted(CHECKOUT_COMPLETIONS, "order")
async def complete_cart(
    cart_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> CompleteResponse:
    """Answers with the cart's order; every call for one cart returns the same order and token.

    Never hangs: without the workflow's answer within CHECKOUT_ANSWER_TIMEOUT_SECONDS (and no
    outcome in the database), 503 `checkout_pending`; a repeat gets the real answer.
    """
    order = await order_for_cart(session, cart_id)
    if order is not None:
        bind_log_context(order_id=order.id, payment_intent_id=order.payment_intent_id)
        return await _placed(session, order)
    checkout = await latest_checkout(session, cart_id)
    if checkout is None:
        if await session.get(Cart, cart_id) is None:
            raise not_found("cart", cart_id)
        raise cart_error(FailureCode.PAYMENT_REQUIRED, "Create a payment session and pay before completing")
    payment_intent_id = checkout.payment_intent_id
    bind_log_context(payment_intent_id=payment_intent_id)
    # Hand the connection back while the workflow works: under load that can take seconds.
    await session.close()
    try:
        async with asyncio.timeout(settings.checkout_answer_timeout_seconds):
            temporal = await get_temporal(request)  # only now: a placed order is answered without it
            result = await complete_checkout(temporal, payment_intent_id)
    except (RPCError, WorkflowUpdateFailedError, *_NO_ANSWER_IN_TIME) as exc:
        # The workflow may have finished in the meantime: the database then has its outcome.
        result = await _outcome_from_database(session, payment_intent_id)
        if result.order_id is None and result.status not in TERMINAL_STATUSES:
            if isinstance(exc, _NO_ANSWER_IN_TIME):
                raise checkout_pending() from exc
            raise temporal_unavailable(_CHECKOUT_UNREACHABLE) from exc
    if result.order_id is not None:
        order = await session.get(Order, result.order_id, options=ORDER_AS_SHOWN)
        if order is not None:
            bind_log_context(order_id=order.id)
            return await _placed(session, order)
    code = result.failure_code or FailureCode.PAYMENT_REQUIRED
    raise cart_error(code, result.failure_message or _MESSAGES.get(code, code.value.replace("_", " ")))


async def _placed(session: AsyncSession, order: Order) -> CompleteResponse:
    """The cart's order, unless the payment behind it could not be taken: that order exists only
    canceled (its stock back, the authorization voided), and a storefront must not confirm it."""
    if order.status == OrderStatus.CANCELED:
        checkout = await session.get(Checkout, order.payment_intent_id)
        if checkout is not None and checkout.failure_code == FailureCode.CAPTURE_FAILED:
            raise cart_error(FailureCode.CAPTURE_FAILED, _MESSAGES[FailureCode.CAPTURE_FAILED])
    return CompleteResponse(order=PlacedOrderOut.of(order))


async def _outcome_from_database(session: AsyncSession, payment_intent_id: str) -> CompletionResult:
    checkout = await session.get(Checkout, payment_intent_id)
    if checkout is None:
        return CompletionResult(order_id=None, status=CheckoutStatus.RESERVING)
    return CompletionResult(
        order_id=checkout.order_id,
        status=CheckoutStatus(checkout.status),
        failure_code=FailureCode(checkout.failure_code) if checkout.failure_code else None,
    )

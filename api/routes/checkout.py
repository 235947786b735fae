"""Paying for a cart: the payment session (PaymentIntent + CheckoutWorkflow) and `complete`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, get_temporal
from api.errors import APIError, not_found, temporal_unavailable
from api.schemas.orders import CompleteResponse, PaymentSessionOut, PaymentSessionResponse, PlacedOrderOut
from domain.checkout import TERMINAL_STATUSES, CheckoutStatus, CompletionResult, FailureCode
from models import Cart, Checkout, Order
from services.dispatch import complete_checkout, start_checkout
from services.orders import order_for_cart
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
}
_CHECKOUT_UNREACHABLE = "The checkout service is not reachable; try again"


def cart_error(code: str, message: str) -> APIError:
    """Why the checkout has no order, in the contract's shape: `{"type": "cart", "error": {...}}`."""
    return APIError(_STATUS_FOR_FAILURE.get(code, 409), str(code), message, extra={"type": "cart"})


@router.post("/{cart_id}/payment-sessions", response_model=PaymentSessionResponse)
async def create_payment_session(
    cart_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> PaymentSessionResponse:
    async with session.begin():
        checkout, client_secret = await prepare_payment_intent(session, cart_id)
    try:
        reservation = await start_checkout(await get_temporal(request), settings, checkout)
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
    responses={402: {"description": "No authorized payment yet"}, 409: {"description": "No order possible"}},
)
async def complete_cart(cart_id: str, request: Request, session: SessionDep) -> CompleteResponse:
    """Answers with the cart's order; every call for one cart returns the same order and token."""
    order = await order_for_cart(session, cart_id)
    if order is not None:
        return CompleteResponse(order=PlacedOrderOut.of(order))
    checkout = await latest_checkout(session, cart_id)
    if checkout is None:
        if await session.get(Cart, cart_id) is None:
            raise not_found("cart", cart_id)
        raise cart_error(FailureCode.PAYMENT_REQUIRED, "Create a payment session and pay before completing")
    payment_intent_id = checkout.payment_intent_id
    # Hand the connection back while the workflow works: under load that can take seconds.
    await session.close()
    try:
        temporal = await get_temporal(request)  # only now: a placed order is answered without it
        result = await complete_checkout(temporal, payment_intent_id)
    except (RPCError, WorkflowUpdateFailedError) as exc:
        # The workflow may have finished in the meantime: the database then has its outcome.
        result = await _outcome_from_database(session, payment_intent_id)
        if result.order_id is None and result.status not in TERMINAL_STATUSES:
            raise temporal_unavailable(_CHECKOUT_UNREACHABLE) from exc
    if result.order_id is not None:
        order = await session.get(Order, result.order_id)
        if order is not None:
            return CompleteResponse(order=PlacedOrderOut.of(order))
    code = result.failure_code or FailureCode.PAYMENT_REQUIRED
    raise cart_error(code, result.failure_message or _MESSAGES.get(code, code.value.replace("_", " ")))


async def _outcome_from_database(session: AsyncSession, payment_intent_id: str) -> CompletionResult:
    checkout = await session.get(Checkout, payment_intent_id)
    if checkout is None:
        return CompletionResult(order_id=None, status=CheckoutStatus.RESERVING)
    return CompletionResult(
        order_id=checkout.order_id,
        status=CheckoutStatus(checkout.status),
        failure_code=FailureCode(checkout.failure_code) if checkout.failure_code else None,
    )

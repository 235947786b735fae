"""Admin API: orders as operators see them, and what support and the warehouse do to them.

Every operation goes to the order's workflow (services.dispatch: update-with-start, the snapshot
loaded here) with the caller's key name as its actor. A request repeated with the same
Idempotency-Key gets the same answer; one the database already answered is answered from it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import AdminDep, SessionDep, SettingsDep, SupportDep, TemporalDep, ViewerDep
from api.errors import (
    RETRY_AFTER_HEADER,
    RULES,
    APIError,
    Refusal,
    combined,
    error_response,
    error_responses,
    operation_pending,
    refusal,
    temporal_unavailable,
)
from api.routes.admin.checkouts import RETRY_REFUSALS, retry, retry_response
from api.routes.products import MAX_OFFSET
from api.schemas.admin_orders import (
    AdminOrderOut,
    AdminOrderResponse,
    CancelIn,
    OrderListResponse,
    RefundIn,
    RefundOut,
    RefundResponse,
    ReturnIn,
    ReturnOut,
    ReturnResponse,
    ShipmentIn,
    ShipmentResponse,
)
from api.schemas.attention import RetryIn, RetryResponse
from api.schemas.orders import OrderOut
from core.settings import Settings
from domain.ids import new_id, order_refund_idempotency_key, order_workflow_id
from domain.orders.operations import (
    REFUND_REFUSED,
    STRIPE_REFUND_REFUSALS,
    CancelRequest,
    OperationOutcome,
    RefundRequest,
    ReturnRequest,
    ShipRequest,
)
from domain.orders.records import OrderEventType
from domain.orders.statuses import FulfillmentStatus, OrderStatus, PaymentStatus, RefundStatus
from domain.orders.workflow import (
    CANCEL_UPDATE,
    ORDER_WORKFLOW,
    REFUND_UPDATE,
    REQUEST_RETURN_UPDATE,
    SHIP_UPDATE,
)
from domain.text import SINGLE_LINE_PATTERN
from models import Fulfillment, Order, Refund, Return
from services import dispatch, orders
from services.dispatch import OrderRequest

router = APIRouter()

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=SINGLE_LINE_PATTERN)
]
_NOT_FOUND = {404: refusal("No such order", "order_not_found")}
_NO_SUCH_ITEM = refusal("A listed item is not a line of this order", "order_item_not_found")
_STRIPE_REFUSED = refusal("Stripe refused the refund", *STRIPE_REFUND_REFUSALS, REFUND_REFUSED)
# The order workflow did not answer within ORDER_OPERATION_WAIT_SECONDS: the operation goes on;
# the same request again (same Idempotency-Key) gets its answer.
OPERATION_PENDING: dict[int | str, dict[str, object]] = {
    503: error_response(
        refusal(
            "The order's workflow is still working or Temporal is not reachable: repeat the request"
            " after `Retry-After` seconds",
            "operation_pending",
            "temporal_unavailable",
        ),
        headers=RETRY_AFTER_HEADER,
    )
}


def _operation_responses(own: dict[int, Refusal]) -> dict[int | str, dict[str, object]]:
    return {**error_responses({**_NOT_FOUND, **own}), **OPERATION_PENDING}


async def order_view(session: AsyncSession, order_id: str) -> AdminOrderOut:
    """The order as the database holds it now, with everything that happened to it: one snapshot
    (REPEATABLE READ), so its statuses, transactions and refunds agree even while a workflow writes."""
    await session.close()
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    order = await orders.get_order(session, order_id)
    return AdminOrderOut.with_records(order, await orders.order_records(session, order.id))


async def operate(
    session: AsyncSession,
    settings: Settings,
    temporal: Client,
    order: Order,
    update: str,
    request: OrderRequest,
    *,
    update_id: str,
) -> OperationOutcome:
    """Hand one operation to the order's workflow and wait (bounded) for its outcome."""
    start = orders.workflow_start(settings, await orders.load_snapshot(session, order.id, order=order))
    # Hand the connection back while the workflow works.
    await session.close()
    try:
        return await dispatch.operate_on_order(
            temporal, settings, start, update, request, update_id=update_id
        )
    except dispatch.OperationPending as exc:  # documented (and answered) as a 503 with Retry-After
        raise operation_pending() from exc
    except RPCError as exc:
        raise temporal_unavailable() from exc


async def _made_once(
    session: AsyncSession,
    settings: Settings,
    temporal: Client,
    order: Order,
    made: type[Fulfillment] | type[Return],
    update: str,
    request: ShipRequest | ReturnRequest,
    response: Response,
) -> str | None:
    """The ID of what the request made: made now (201), or by an earlier request with its ID (200)."""
    existing = await session.scalar(
        select(made.id).where(made.order_id == order.id, made.request_id == request.request_id)
    )
    if existing is not None:
        response.status_code = 200
        return existing
    outcome = await operate(session, settings, temporal, order, update, request, update_id=request.request_id)
    return outcome.fulfillment_id if made is Fulfillment else outcome.return_id


@router.get("/orders", response_model=OrderListResponse)
async def list_orders(
    principal: ViewerDep,
    session: SessionDep,
    status: OrderStatus | None = None,
    payment_status: PaymentStatus | None = None,
    fulfillment_status: FulfillmentStatus | None = None,
    email: Annotated[str | None, Query(max_length=320, pattern=SINGLE_LINE_PATTERN)] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=SINGLE_LINE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> OrderListResponse:
    """Orders newest first; `q` matches the order or PaymentIntent ID, the email, an item's title or SKU."""
    page = await orders.list_orders(
        session,
        status=status,
        payment_status=payment_status,
        fulfillment_status=fulfillment_status,
        email=email,
        q=q,
        limit=limit,
        offset=offset,
    )
    return OrderListResponse(
        orders=[OrderOut.of(order) for order in page.orders], count=page.count, limit=limit, offset=offset
    )


@router.get("/orders/{order_id}", response_model=AdminOrderResponse, responses=error_responses(_NOT_FOUND))
async def get_order(order_id: str, principal: ViewerDep, session: SessionDep) -> AdminOrderResponse:
    return AdminOrderResponse(order=await order_view(session, order_id))


@router.post(
    "/orders/{order_id}/shipments",
    response_model=ShipmentResponse,
    status_code=201,
    responses=_operation_responses(
        {
            400: _NO_SUCH_ITEM,
            409: refusal(
                "Nothing (or not that much) can be shipped",
                "order_not_paid",
                "order_canceled",
                "already_shipped",
                "shipment_exceeds_unshipped",
            ),
        }
    ),
)
async def ship_order(
    order_id: str,
    body: ShipmentIn,
    principal: AdminDep,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentResponse:
    """The warehouse handed (part of) the order to a carrier: all remaining units, or those listed."""
    order = await orders.get_order(session, order_id)
    request = ShipRequest(
        order_id=order.id,
        request_id=idempotency_key or new_id("ship"),
        actor=principal.name,
        **body.model_dump(),
    )
    fulfillment_id = await _made_once(
        session, settings, temporal, order, Fulfillment, SHIP_UPDATE, request, response
    )
    view = await order_view(session, order_id)
    shipped = next(f for f in view.fulfillments if f.id == fulfillment_id)
    return ShipmentResponse(fulfillment=shipped, order=view)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=AdminOrderResponse,
    responses=_operation_responses(
        {
            409: combined(
                refusal(
                    "Something shipped (make a return), or a dispute is open",
                    "order_fulfilled",
                    "order_disputed",
                ),
                _STRIPE_REFUSED,
            ),
        }
    ),
)
async def cancel_order(
    order_id: str,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    body: CancelIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> AdminOrderResponse:
    """Void the authorization or refund what was captured, put the stock back; again: the same answer."""
    order = await orders.get_order(session, order_id)
    if order.status != OrderStatus.CANCELED:
        request_id = idempotency_key or new_id("cancel")
        request = CancelRequest(
            order_id=order.id,
            request_id=request_id,
            actor=principal.name,
            reason=body.reason if body else None,
        )
        await operate(session, settings, temporal, order, CANCEL_UPDATE, request, update_id=request_id)
    return AdminOrderResponse(order=await order_view(session, order_id))


@router.post(
    "/orders/{order_id}/refunds",
    response_model=RefundResponse,
    status_code=201,
    responses=_operation_responses(
        {
            400: combined(
                refusal("The Idempotency-Key header is missing", "idempotency_key_required"),
                _NO_SUCH_ITEM,
                RULES,
            ),
            409: combined(
                refusal(
                    "More than can be refunded, the key was used for another request, or a dispute is open",
                    "refund_exceeds_refundable",
                    "idempotency_key_reused",
                    "order_disputed",
                    "order_not_paid",
                    "item_already_refunded",
                    "shipping_already_refunded",
                ),
                _STRIPE_REFUSED,
            ),
        }
    ),
)
async def refund_order(
    order_id: str,
    body: RefundIn,
    principal: SupportDep,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> RefundResponse:
    """Refund by amount or by items; never above `refundable_amount`. `Idempotency-Key` is required:
    the same key and body again answer 200 with the same refund."""
    if idempotency_key is None:
        raise APIError(400, "idempotency_key_required", "A refund needs an Idempotency-Key header")
    order = await orders.get_order(session, order_id)
    fingerprint = body.fingerprint()
    existing = await session.scalar(
        select(Refund).where(
            Refund.idempotency_key == order_refund_idempotency_key(order.id, idempotency_key)
        )
    )
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise APIError(409, "idempotency_key_reused", "This Idempotency-Key was used for another request")
    if existing is not None and existing.status != RefundStatus.REQUESTED and existing.stripe_refund_id:
        response.status_code = 200  # answered before: the same refund
        refund_id = existing.id
    else:
        request = RefundRequest(
            order_id=order.id,
            request_id=idempotency_key,
            fingerprint=fingerprint,
            actor=principal.name,
            **body.model_dump(exclude={"items"}),
            items=body.items,
        )
        outcome = await operate(
            session,
            settings,
            temporal,
            order,
            REFUND_UPDATE,
            request,
            update_id=f"refund:{idempotency_key}:{fingerprint}",
        )
        assert outcome.refund_id is not None
        refund_id = outcome.refund_id
        if existing is not None:
            response.status_code = 200
    view = await order_view(session, order_id)
    return RefundResponse(refund=_refund_in(view, refund_id), order=view)


def _refund_in(view: AdminOrderOut, refund_id: str) -> RefundOut:
    return next(refund for refund in view.refunds if refund.id == refund_id)


@router.post(
    "/orders/{order_id}/returns",
    response_model=ReturnResponse,
    status_code=201,
    responses=_operation_responses(
        {
            400: _NO_SUCH_ITEM,
            409: refusal(
                "More than was shipped and not yet returned", "return_exceeds_shipped", "order_canceled"
            ),
        }
    ),
)
async def request_return(
    order_id: str,
    body: ReturnIn,
    principal: SupportDep,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ReturnResponse:
    """The customer sends units back: never more than shipped and not yet returned."""
    order = await orders.get_order(session, order_id)
    request = ReturnRequest(
        order_id=order.id,
        request_id=idempotency_key or new_id("return"),
        actor=principal.name,
        **body.model_dump(exclude={"items"}),
        items=body.items,
    )
    return_id = await _made_once(
        session, settings, temporal, order, Return, REQUEST_RETURN_UPDATE, request, response
    )
    view = await order_view(session, order_id)
    return ReturnResponse(return_=return_in(view, return_id))


def return_in(view: AdminOrderOut, return_id: str | None) -> ReturnOut:
    return next(ret for ret in view.returns if ret.id == return_id)


@router.post(
    "/orders/{order_id}/retry",
    response_model=RetryResponse,
    responses=error_responses({**RETRY_REFUSALS, 404: combined(_NOT_FOUND[404], RETRY_REFUSALS[404])}),
)
async def retry_order_workflow(
    order_id: str,
    body: RetryIn,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> RetryResponse:
    """Support's one call for the order's workflow: a run that failed, was terminated or timed out
    is reset to its last completed workflow task (its signals kept) and continues on today's code;
    a running one whose step keeps failing retries it now. On the order's timeline, with the key's name."""
    order = await orders.get_order(session, order_id)
    workflow_id = order_workflow_id(order.payment_intent_id)
    await session.close()  # no connection held while Temporal works
    outcome = await retry(temporal, ORDER_WORKFLOW, workflow_id, body, principal.name)
    async with session.begin():
        await orders.record_event(
            session,
            order.id,
            OrderEventType.WORKFLOW_RETRIED,
            actor=principal.name,
            dedupe_key=new_id("retry"),
            data={"reason": body.reason, "action": outcome.action, "run_id": outcome.run_id},
        )
    return retry_response(settings, outcome)

"""Admin API: a return received (restocked as told, refunded unless told not to) or canceled."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.deps import SessionDep, SettingsDep, SupportDep, TemporalDep
from api.errors import error_responses, refusal
from api.routes.admin.orders import OPERATION_PENDING, IdempotencyKey, operate, order_view, return_in
from api.schemas.admin_orders import ReceiveReturnIn, ReturnResponse
from core.settings import Settings
from domain.ids import new_id
from domain.orders.operations import CancelReturnRequest, ReceiveReturnRequest
from domain.orders.statuses import ReturnStatus
from domain.orders.workflow import CANCEL_RETURN_UPDATE, RECEIVE_RETURN_UPDATE
from services import orders, returns

router = APIRouter()

_NOT_FOUND = refusal("No such return", "return_not_found")


@router.post(
    "/returns/{return_id}/receive",
    response_model=ReturnResponse,
    responses={
        **error_responses(
            {
                400: refusal("A listed item is not part of the return", "order_item_not_found"),
                404: _NOT_FOUND,
                409: refusal(
                    "The return was canceled, or more is received than was requested",
                    "return_not_open",
                    "return_exceeds_requested",
                ),
            }
        ),
        **OPERATION_PENDING,
    },
)
async def receive_return(
    return_id: str,
    body: ReceiveReturnIn,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ReturnResponse:
    """The parcel came back: its units counted, restocked where `restock`; received again: the same."""

    def receive(order_id: str, request_id: str) -> ReceiveReturnRequest:
        return ReceiveReturnRequest(
            order_id=order_id,
            request_id=request_id,
            actor=principal.name,
            return_id=return_id,
            items=body.items,
            refund=body.refund,
        )

    return await _unless_already(
        session,
        settings,
        temporal,
        return_id,
        ReturnStatus.RECEIVED,
        RECEIVE_RETURN_UPDATE,
        receive,
        idempotency_key,
    )


@router.post(
    "/returns/{return_id}/cancel",
    response_model=ReturnResponse,
    responses={
        **error_responses(
            {404: _NOT_FOUND, 409: refusal("The return was received already", "return_not_open")}
        ),
        **OPERATION_PENDING,
    },
)
async def cancel_return(
    return_id: str,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ReturnResponse:
    """The customer will not send it after all; canceled again: the same answer."""

    def cancel(order_id: str, request_id: str) -> CancelReturnRequest:
        return CancelReturnRequest(
            order_id=order_id, request_id=request_id, actor=principal.name, return_id=return_id
        )

    return await _unless_already(
        session,
        settings,
        temporal,
        return_id,
        ReturnStatus.CANCELED,
        CANCEL_RETURN_UPDATE,
        cancel,
        idempotency_key,
    )


async def _unless_already(
    session: AsyncSession,
    settings: Settings,
    temporal: Client,
    return_id: str,
    done: ReturnStatus,
    update: str,
    request_for: Callable[[str, str], ReceiveReturnRequest | CancelReturnRequest],
    idempotency_key: str | None,
) -> ReturnResponse:
    """Run the operation on the return's order unless the return is `done` already (the same answer)."""
    found = await returns.get_return(session, return_id)
    order_id = found.order_id
    if found.status != done:
        request = request_for(order_id, idempotency_key or new_id("retop"))
        order = await orders.get_order(session, order_id)
        await operate(session, settings, temporal, order, update, request, update_id=request.request_id)
    return ReturnResponse(return_=return_in(await order_view(session, order_id), return_id))

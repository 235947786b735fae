"""Admin API: support sends one of an order's emails again, on purpose.

The new message goes into the outbox under a key of its own and is delivered like every other
(the delivery Schedule's workflow, triggered at once); the order's timeline records who asked.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, SupportDep, TemporalDep
from api.errors import error_responses, refusal
from api.schemas.outbox import OutboxMessageOut
from domain.orders.workflow import EmailKind
from services import dispatch, outbox

logger = logging.getLogger(__name__)
router = APIRouter()


class ResendableEmail(StrEnum):
    """The customer's emails (the shop's own dispute notice is not one)."""

    CONFIRMATION = EmailKind.CONFIRMATION.value
    SHIPMENT = EmailKind.SHIPMENT.value
    REFUND = EmailKind.REFUND.value
    CANCELLATION = EmailKind.CANCELLATION.value


class ResendResponse(BaseModel):
    message: OutboxMessageOut


@router.post(
    "/orders/{order_id}/emails/{kind}/resend",
    response_model=ResendResponse,
    status_code=202,
    responses=error_responses(
        {
            404: refusal("No such order", "order_not_found"),
            409: refusal(
                "The order never had that email (no shipment, refund or cancellation yet)", "email_not_due"
            ),
        }
    ),
)
async def resend_email(
    order_id: str,
    kind: ResendableEmail,
    principal: SupportDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> ResendResponse:
    """The order's latest email of that kind again, as a new outbox message (202: it is queued)."""
    async with session.begin():
        message = await outbox.resend_email(session, order_id, EmailKind(kind), actor=principal.name)
    try:
        await dispatch.deliver_outbox_now(temporal, settings)
    except RPCError:
        # Still delivered: the Schedule's next run takes every pending message.
        logger.warning("outbox delivery could not be triggered now", extra={"order_id": order_id})
    return ResendResponse(message=OutboxMessageOut.model_validate(message, from_attributes=True))

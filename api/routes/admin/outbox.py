"""Admin API: the outbox of emails and analytics events."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import SessionDep, ViewerDep
from api.schemas.outbox import OutboxList, OutboxMessageOut
from domain.outbox import OutboxChannel, OutboxStatus
from models import OutboxMessage

router = APIRouter()


@router.get("/outbox", response_model=OutboxList)
async def list_outbox(
    principal: ViewerDep,
    session: SessionDep,
    channel: OutboxChannel | None = None,
    status: OutboxStatus | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> OutboxList:
    """Email and analytics messages, newest first; in dev (no Resend/PostHog key) this is where they
    are delivered. `status=failed`: those given up after OUTBOX_MAX_ATTEMPTS, with `last_error`."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return OutboxList(
        messages=[
            OutboxMessageOut.model_validate(m, from_attributes=True) for m in await session.scalars(query)
        ]
    )

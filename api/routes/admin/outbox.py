"""Admin API: the outbox of emails and analytics events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SessionDep, ViewerDep
from models import OutboxMessage

router = APIRouter()


class OutboxMessageOut(BaseModel):
    id: str
    channel: str
    recipient: str
    subject: str
    status: str
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


class OutboxList(BaseModel):
    messages: list[OutboxMessageOut]


@router.get("/outbox", response_model=OutboxList)
async def list_outbox(
    principal: ViewerDep,
    session: SessionDep,
    channel: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> OutboxList:
    """Email and analytics messages; in dev (no Resend/PostHog key) this is where they are delivered."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return OutboxList(
        messages=[
            OutboxMessageOut.model_validate(m, from_attributes=True) for m in await session.scalars(query)
        ]
    )

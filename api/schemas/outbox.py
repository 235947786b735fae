"""The outbox as the admin API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.outbox import OutboxChannel, OutboxStatus


class OutboxMessageOut(BaseModel):
    id: str
    channel: OutboxChannel
    recipient: str
    subject: str
    status: OutboxStatus
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None
    # Delivery: attempts so far, when a pending one is tried next, the provider's last refusal.
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class OutboxList(BaseModel):
    messages: list[OutboxMessageOut]

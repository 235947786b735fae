"""Outgoing messages (email, analytics) keyed for idempotency.

A row is written before the provider is called, so a retried activity never sends twice; with no
provider configured the row itself is the dev outbox an operator can read. A row the provider
did not take stays `pending` until the delivery Schedule's workflow (workflows/outbox.py) sends
it, or gives it up as `failed` after OUTBOX_MAX_ATTEMPTS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from domain.outbox import OutboxChannel, OutboxStatus
from models.base import Base, Timestamped, one_of


class OutboxMessage(Timestamped, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(one_of("channel", OutboxChannel), name="channel_known"),
        CheckConstraint(one_of("status", OutboxStatus), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("status != 'failed' OR last_error IS NOT NULL", name="failed_has_error"),
        # What the delivery workflow scans: the due pending messages.
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Delivery attempts so far (each one counted when it is claimed), when the next one is due
    # (a pending row only), and the provider's last refusal.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)

"""Refunds and disputes: money going back, asked by us or learned from Stripe.

A refund row exists before Stripe is asked (`requested`: the reservation that keeps concurrent
refunds from exceeding what was paid); `idempotency_key` is the key Stripe was sent and
`stripe_refund_id` the refund Stripe made, both unique, so no refund is recorded twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from domain.orders.operations import RefundReason, RefundSource
from domain.orders.statuses import DisputeStatus, RefundStatus
from models.base import Base, Timestamped, one_of

ID = String(64)


class Refund(Timestamped, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("status", RefundStatus), name="status_known"),
        CheckConstraint(one_of("reason", RefundReason), name="reason_known"),
        CheckConstraint(one_of("source", RefundSource), name="source_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of the order's currency
    currency_code: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(1000))
    # A refund by item: {order item ID: units}; null for a refund by amount.
    items: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    include_shipping: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # "{order_id}:refund:{request ID}" (the Stripe Idempotency-Key); `stripe:{re_…}` for one made outside us.
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    # Hash of the canonical request body: the same key with another body is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    return_id: Mapped[str | None] = mapped_column(ForeignKey("returns.id", ondelete="RESTRICT"))
    failure_reason: Mapped[str | None] = mapped_column(String(200))


class Dispute(Timestamped, Base):
    """A chargeback, as Stripe reports it; the ID is Stripe's (`du_…`)."""

    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint(one_of("status", DisputeStatus), name="status_known"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency_code: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(30))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

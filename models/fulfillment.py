"""Parcels that left (fulfillments) and came back (returns), item by item.

Each is written by the order's workflow with the request ID of the operation that made it, unique
per order: an operation retried after a lost answer finds its row instead of making a second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.orders.statuses import ReturnStatus
from models.base import Base, Timestamped, one_of

ID = String(64)


class Fulfillment(Timestamped, Base):
    """One shipment of (part of) an order."""

    __tablename__ = "fulfillments"
    __table_args__ = (UniqueConstraint("order_id", "request_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(200))
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(200))
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[FulfillmentItem]] = relationship(lazy="selectin", order_by="FulfillmentItem.id")


class FulfillmentItem(Base):
    __tablename__ = "fulfillment_items"
    __table_args__ = (
        UniqueConstraint("fulfillment_id", "order_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    fulfillment_id: Mapped[str] = mapped_column(ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[str] = mapped_column(ForeignKey("order_items.id", ondelete="RESTRICT"))
    quantity: Mapped[int]


class Return(Timestamped, Base):
    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("order_id", "request_id"),
        CheckConstraint(one_of("status", ReturnStatus), name="status_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str] = mapped_column(String(255))
    # The refund of the received items (refunds.return_id points back here).
    refund_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[ReturnItem]] = relationship(lazy="selectin", order_by="ReturnItem.id")


class ReturnItem(Base):
    __tablename__ = "return_items"
    __table_args__ = (
        UniqueConstraint("return_id", "order_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "0 <= restocked_quantity AND restocked_quantity <= received_quantity"
            " AND received_quantity <= quantity",
            name="restocked_within_received_within_quantity",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[str] = mapped_column(ForeignKey("order_items.id", ondelete="RESTRICT"))
    quantity: Mapped[int]
    received_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    restocked_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

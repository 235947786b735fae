"""Orders and the money around them.

Invariants the database enforces, not only Python:
- one order per PaymentIntent and per cart (unique columns);
- no order without its PaymentCollection (NOT NULL foreign key; the collection is inserted
  first, in the same transaction);
- every money movement is an OrderTransaction, signed by kind, unique per Stripe object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamped

ID = String(64)


class PaymentCollection(Timestamped, Base):
    __tablename__ = "payment_collections"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint(
            "status IN ('authorized', 'captured', 'partially_refunded', 'refunded', 'canceled')",
            name="status_known",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30))

    payments: Mapped[list[Payment]] = relationship(lazy="selectin", order_by="Payment.created_at")


class Payment(Timestamped, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("status IN ('authorized', 'captured', 'canceled')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    payment_collection_id: Mapped[str] = mapped_column(
        ForeignKey("payment_collections.id", ondelete="RESTRICT"), index=True
    )
    provider: Mapped[str] = mapped_column(String(30), default="stripe")
    payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Order(Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total = subtotal + shipping_total + tax_total", name="total_adds_up"),
        CheckConstraint("total >= 0", name="total_non_negative"),
        CheckConstraint("status IN ('pending', 'completed', 'canceled')", name="status_known"),
        CheckConstraint(
            "payment_status IN ('authorized', 'captured', 'partially_refunded', 'refunded', 'canceled')",
            name="payment_status_known",
        ),
        CheckConstraint(
            "fulfillment_status IN ('not_fulfilled', 'fulfilled', 'shipped', 'canceled')",
            name="fulfillment_status_known",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="RESTRICT"), unique=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    payment_collection_id: Mapped[str] = mapped_column(
        ForeignKey("payment_collections.id", ondelete="RESTRICT"), unique=True
    )
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    sales_channel_id: Mapped[str] = mapped_column(ForeignKey("sales_channels.id", ondelete="RESTRICT"))
    currency_code: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(30), default="pending")
    payment_status: Mapped[str] = mapped_column(String(30), default="authorized")
    fulfillment_status: Mapped[str] = mapped_column(String(30), default="not_fulfilled")
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    tax_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # Shown to the buyer once by `complete`; required to read the order without an account.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)

    items: Mapped[list[OrderItem]] = relationship(lazy="selectin", order_by="OrderItem.id")
    payment_collection: Mapped[PaymentCollection] = relationship(lazy="selectin")
    transactions: Mapped[list[OrderTransaction]] = relationship(
        lazy="selectin", order_by="OrderTransaction.created_at"
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("subtotal = unit_price * quantity", name="subtotal_adds_up"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("product_variants.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(600))
    sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    subtotal: Mapped[int] = mapped_column(BigInteger)


class OrderTransaction(Base):
    __tablename__ = "order_transactions"
    __table_args__ = (
        UniqueConstraint("reference", "reference_id"),
        CheckConstraint(
            "(reference = 'capture' AND amount > 0) OR (reference = 'refund' AND amount < 0)",
            name="sign_matches_reference",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency_code: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(30))
    # The Stripe object this movement is: the PaymentIntent for a capture, the Refund for a refund.
    reference_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Fulfillment(Timestamped, Base):
    """The shipment of an order (one per order for now), written by its FulfillmentWorkflow."""

    __tablename__ = "fulfillments"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), unique=True)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(200))
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

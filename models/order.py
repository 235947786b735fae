"""Orders and the money around them.

Invariants the database enforces, not only Python:
- one order per PaymentIntent and per cart (unique columns);
- no order without its PaymentCollection (NOT NULL foreign key; the collection is inserted
  first, in the same transaction);
- every money movement is an OrderTransaction, signed by kind, unique per Stripe object;
- an item never ships more than was bought, never comes back more than shipped, is never
  refunded by item more than bought (CHECKs on its counters: a racing write is refused);
- every status is one of the state machine's values (domain.orders.statuses).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.orders.records import OrderEventType, TransactionReference
from domain.orders.statuses import FulfillmentStatus, OrderStatus, PaymentStatus
from models.base import Base, Timestamped, one_of

ID = String(64)


class PaymentCollection(Timestamped, Base):
    __tablename__ = "payment_collections"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint(one_of("status", PaymentStatus), name="status_known"),
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
        CheckConstraint(one_of("status", OrderStatus), name="status_known"),
        CheckConstraint(one_of("payment_status", PaymentStatus), name="payment_status_known"),
        CheckConstraint(one_of("fulfillment_status", FulfillmentStatus), name="fulfillment_status_known"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="RESTRICT"), unique=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    payment_collection_id: Mapped[str] = mapped_column(
        ForeignKey("payment_collections.id", ondelete="RESTRICT"), unique=True
    )
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    sales_channel_id: Mapped[str] = mapped_column(ForeignKey("sales_channels.id", ondelete="RESTRICT"))
    # Where the units left from: restocks (cancel, return) go back to this location's levels.
    stock_location_id: Mapped[str | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT")
    )
    currency_code: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(30), default=OrderStatus.PENDING.value)
    payment_status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.AUTHORIZED.value)
    fulfillment_status: Mapped[str] = mapped_column(String(30), default=FulfillmentStatus.NOT_FULFILLED.value)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    tax_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # Shown to the buyer once by `complete`; required to read the order without an account.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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
        CheckConstraint(
            "0 <= returned_quantity AND returned_quantity <= shipped_quantity"
            " AND shipped_quantity <= quantity",
            name="returned_within_shipped_within_quantity",
        ),
        CheckConstraint(
            "0 <= refunded_quantity AND refunded_quantity <= quantity", name="refunded_within_quantity"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("product_variants.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(600))
    sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipped_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    # Requested or received back, not canceled.
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    # Refunded by item (a refund of `items`).
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")


class OrderTransaction(Base):
    __tablename__ = "order_transactions"
    __table_args__ = (
        UniqueConstraint("reference", "reference_id"),
        CheckConstraint(
            f"(reference = '{TransactionReference.CAPTURE}' AND amount > 0)"
            f" OR (reference = '{TransactionReference.REFUND}' AND amount < 0)"
            f" OR (reference = '{TransactionReference.REFUND_REVERSAL}' AND amount > 0)"
            f" OR (reference = '{TransactionReference.DISPUTE}' AND amount <> 0)",
            name="sign_matches_reference",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency_code: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(30))
    # The Stripe object this movement is: the PaymentIntent for a capture, the Refund for a refund
    # or its reversal, the balance transaction for a dispute's funds.
    reference_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderEvent(Base):
    """One entry of the order's timeline; `dedupe_key` makes a retried write land once."""

    __tablename__ = "order_events"
    __table_args__ = (CheckConstraint(one_of("type", OrderEventType), name="type_known"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    # The admin key's name, `system` (checkout, workflows) or `stripe`.
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

"""Carts, their line items, shipping options and the chosen shipping method."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamped

if TYPE_CHECKING:
    from models.region import Region

ID = String(64)
MAX_LINE_QUANTITY = 1000


class ShippingOption(Timestamped, Base):
    __tablename__ = "shipping_options"
    __table_args__ = (
        UniqueConstraint("region_id", "name"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # In the region's currency, minor units.
    amount: Mapped[int] = mapped_column(BigInteger)

    region: Mapped[Region] = relationship(lazy="joined", innerjoin=True)


class Cart(Timestamped, Base):
    __tablename__ = "carts"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    currency_code: Mapped[str] = mapped_column(String(3))
    sales_channel_id: Mapped[str] = mapped_column(ForeignKey("sales_channels.id", ondelete="RESTRICT"))
    email: Mapped[str | None] = mapped_column(String(320))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Bumped on every change: PaymentIntent idempotency keys are derived from (cart id, version).
    version: Mapped[int] = mapped_column(default=1)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[LineItem]] = relationship(
        back_populates="cart",
        order_by="LineItem.created_at, LineItem.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )
    shipping_method: Mapped[CartShippingMethod | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class LineItem(Timestamped, Base):
    __tablename__ = "line_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_range"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("product_variants.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(600))
    sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    # Always the server's price for the cart's currency, refreshed on every cart change.
    unit_price: Mapped[int] = mapped_column(BigInteger)

    cart: Mapped[Cart] = relationship(back_populates="items")


class CartShippingMethod(Timestamped, Base):
    __tablename__ = "cart_shipping_methods"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), unique=True)
    shipping_option_id: Mapped[str] = mapped_column(ForeignKey("shipping_options.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)

"""Inventory per variant per stock location, the reservations checkouts hold against it, and
the ledger of every change of a level's stock.

The check constraints are the last line of defence for "never negative stock where backorders
are off": even a buggy UPDATE cannot commit an oversell.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

ID = String(64)


class InventoryItem(Timestamped, Base):
    __tablename__ = "inventory_items"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    variant_id: Mapped[str] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), unique=True
    )


class InventoryLevel(Timestamped, Base):
    __tablename__ = "inventory_levels"
    __table_args__ = (
        UniqueConstraint("inventory_item_id", "location_id"),
        CheckConstraint("reserved_quantity >= 0", name="reserved_non_negative"),
        CheckConstraint(
            "allow_backorder OR stocked_quantity - reserved_quantity >= 0",
            name="no_oversell_without_backorder",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    inventory_item_id: Mapped[str] = mapped_column(ForeignKey("inventory_items.id", ondelete="CASCADE"))
    location_id: Mapped[str] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT"), index=True
    )
    stocked_quantity: Mapped[int] = mapped_column(default=0)
    reserved_quantity: Mapped[int] = mapped_column(default=0)
    allow_backorder: Mapped[bool] = mapped_column(default=False)


class Reservation(Timestamped, Base):
    """Units a checkout (keyed by its PaymentIntent) holds at one level until order or release."""

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("payment_intent_id", "inventory_level_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255), index=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    inventory_level_id: Mapped[str] = mapped_column(ForeignKey("inventory_levels.id", ondelete="RESTRICT"))
    quantity: Mapped[int]


class StockChangeReason(StrEnum):
    INITIAL = "initial"  # the level's stock when it was created (or when the ledger began)
    SALE = "sale"
    CANCEL = "cancel"
    RETURN = "return"
    ADJUSTMENT = "adjustment"  # an operator's correction


class InventoryAdjustment(Base):
    """One change of a level's `stocked_quantity`, written in the same transaction as the change.

    A level's stock is always the sum of its adjustments' deltas (services.inventory writes both).
    """

    __tablename__ = "inventory_adjustments"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_non_zero"),
        CheckConstraint(
            "reason IN ({})".format(", ".join(f"'{reason}'" for reason in StockChangeReason)),
            name="reason_known",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    inventory_level_id: Mapped[str] = mapped_column(
        ForeignKey("inventory_levels.id", ondelete="RESTRICT"), index=True
    )
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    # Who made the change: the admin key's name, or `system` (checkouts and other workflows).
    actor: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    # A dedupe key for idempotent writes (e.g. "{order_id}:sale:{level_id}"): written once.
    reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    stocked_after: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

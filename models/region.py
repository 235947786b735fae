"""Regions, sales channels and the strict sales-channel -> stock-location mapping."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamped

ID = String(64)


class SalesChannel(Timestamped, Base):
    __tablename__ = "sales_channels"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class StockLocation(Timestamped, Base):
    __tablename__ = "stock_locations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country_code: Mapped[str] = mapped_column(String(2))


class SalesChannelStockLocation(Base):
    """Where a sales channel ships from. One location per channel: no fallback to "any location"."""

    __tablename__ = "sales_channel_stock_locations"

    sales_channel_id: Mapped[str] = mapped_column(
        ForeignKey("sales_channels.id", ondelete="CASCADE"), primary_key=True
    )
    stock_location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id", ondelete="RESTRICT"))


class Region(Timestamped, Base):
    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("currency_code ~ '^[a-z]{3}$'", name="currency_code_iso"),
        CheckConstraint("tax_rate_bps BETWEEN 0 AND 10000", name="tax_rate_bps_range"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    # Tax in basis points of (subtotal + shipping); prices are tax-exclusive.
    tax_rate_bps: Mapped[int] = mapped_column(default=0)
    sales_channel_id: Mapped[str] = mapped_column(ForeignKey("sales_channels.id", ondelete="RESTRICT"))

    countries: Mapped[list[Country]] = relationship(
        back_populates="region", order_by="Country.iso_2", lazy="selectin"
    )


class Country(Base):
    """A country belongs to at most one region (the primary key makes that so)."""

    __tablename__ = "countries"
    __table_args__ = (CheckConstraint("iso_2 ~ '^[a-z]{2}$'", name="iso_2_format"),)

    iso_2: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)

    region: Mapped[Region] = relationship(back_populates="countries")

"""Catalog: products, options, variants, images and per-currency prices in minor units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.catalog import ProductStatus
from models.base import Base, Timestamped

ID = String(64)

variant_option_values = Table(
    "variant_option_values",
    Base.metadata,
    Column("variant_id", ForeignKey("product_variants.id", ondelete="CASCADE"), primary_key=True),
    Column("option_value_id", ForeignKey("product_option_values.id", ondelete="CASCADE"), primary_key=True),
)


class Product(Timestamped, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="handle_slug"),
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{status}'" for status in ProductStatus)), name="status_known"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="published")

    options: Mapped[list[ProductOption]] = relationship(
        back_populates="product", order_by="ProductOption.rank", lazy="selectin"
    )
    # Live variants only: a deleted one stays in its table for the orders and carts that name it.
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product",
        primaryjoin="and_(Product.id == ProductVariant.product_id, ProductVariant.deleted_at.is_(None))",
        order_by="ProductVariant.rank",
        lazy="selectin",
    )
    images: Mapped[list[ProductImage]] = relationship(order_by="ProductImage.rank", lazy="selectin")


class ProductOption(Base):
    __tablename__ = "product_options"
    __table_args__ = (UniqueConstraint("product_id", "title"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="options")
    values: Mapped[list[ProductOptionValue]] = relationship(
        back_populates="option", order_by="ProductOptionValue.rank", lazy="selectin"
    )


class ProductOptionValue(Base):
    __tablename__ = "product_option_values"
    __table_args__ = (UniqueConstraint("option_id", "value"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    option_id: Mapped[str] = mapped_column(ForeignKey("product_options.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(default=0)

    option: Mapped[ProductOption] = relationship(back_populates="values")


class ProductVariant(Timestamped, Base):
    """A sellable variant. Deleting one sets `deleted_at` (orders and carts keep pointing at it)
    and frees its SKU: SKUs are unique among live variants only."""

    __tablename__ = "product_variants"
    __table_args__ = (
        Index(
            "uq_product_variants_live_sku", "sku", unique=True, postgresql_where=text("deleted_at IS NULL")
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    rank: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    product: Mapped[Product] = relationship(back_populates="variants")
    prices: Mapped[list[VariantPrice]] = relationship(lazy="selectin")
    option_values: Mapped[list[ProductOptionValue]] = relationship(
        secondary=variant_option_values, lazy="selectin"
    )


class VariantPrice(Base):
    __tablename__ = "variant_prices"
    __table_args__ = (
        UniqueConstraint("variant_id", "currency_code"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("currency_code ~ '^[a-z]{3}$'", name="currency_code_iso"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("product_variants.id", ondelete="CASCADE"))
    currency_code: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    # The object's key in the media store (core.media), to delete it with the row; null for
    # rows written before migration 0005 (the seed fills in its own).
    key: Mapped[str | None] = mapped_column(String(512))
    rank: Mapped[int] = mapped_column(default=0)

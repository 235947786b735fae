"""Catalog reads: regions, published products, per-currency prices and availability.

Availability is always computed at the one stock location mapped to the sales channel
(`sales_channel_stock_locations`): a variant with no level there is unavailable, whatever
other locations hold. There is no fallback to "any location".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import ProductStatus
from models import (
    InventoryItem,
    InventoryLevel,
    Product,
    ProductVariant,
    Region,
    SalesChannelStockLocation,
    ShippingOption,
    VariantPrice,
)

PUBLISHED = ProductStatus.PUBLISHED

# IDs (`cart_01J...`) and handles (`classic-bath-towel`) only ever use these characters.
# Checking first means odd input (a NUL byte, a megabyte of text) is "not found" without
# reaching the database, which would reject some of it with an error rather than no rows.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,200}")


def is_plausible_key(value: str) -> bool:
    return _KEY_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Availability:
    """Units that can be sold now at the channel's location (never negative)."""

    available: int
    allow_backorder: bool

    def can_sell(self, quantity: int) -> bool:
        return self.allow_backorder or quantity <= self.available


NOT_STOCKED = Availability(available=0, allow_backorder=False)


@dataclass(frozen=True, slots=True)
class ProductPage:
    products: Sequence[Product]
    count: int


async def get_region(session: AsyncSession, region_id: str) -> Region | None:
    if not is_plausible_key(region_id):
        return None
    return await session.get(Region, region_id)


async def list_regions(session: AsyncSession) -> Sequence[Region]:
    return (await session.scalars(select(Region).order_by(Region.name))).all()


def _escape_like(text: str) -> str:
    # `q` is matched literally: "%" or "_" typed by a shopper are not wildcards.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_products(
    session: AsyncSession,
    *,
    q: str | None,
    limit: int,
    offset: int,
    statuses: Collection[str] = (PUBLISHED,),
) -> ProductPage:
    """Products (the store's: published ones), ordered by title, optionally filtered by a
    case-insensitive title search."""
    conditions = [Product.status.in_(statuses)]
    if q:
        conditions.append(Product.title.ilike(f"%{_escape_like(q)}%", escape="\\"))
    count = await session.scalar(select(func.count()).select_from(Product).where(*conditions))
    products = await session.scalars(
        select(Product).where(*conditions).order_by(Product.title, Product.id).limit(limit).offset(offset)
    )
    return ProductPage(products=products.all(), count=count or 0)


async def get_product(session: AsyncSession, id_or_handle: str) -> Product | None:
    """A published product by its ID or its handle."""
    if not is_plausible_key(id_or_handle):
        return None
    return await session.scalar(
        select(Product).where(
            Product.status == PUBLISHED,
            or_(Product.id == id_or_handle, Product.handle == id_or_handle),
        )
    )


async def get_sellable_variant(session: AsyncSession, variant_id: str) -> tuple[ProductVariant, str] | None:
    """A live variant of a published product (drafts and archived ones cannot be bought), with
    its product's title."""
    if not is_plausible_key(variant_id):
        return None
    row = (
        await session.execute(
            select(ProductVariant, Product.title)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(_sellable(), ProductVariant.id == variant_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _sellable() -> ColumnElement[bool]:
    return and_(Product.status == PUBLISHED, ProductVariant.deleted_at.is_(None))


async def unsellable_variants(session: AsyncSession, variant_ids: Collection[str]) -> set[str]:
    """Those of the variants that can no longer be bought: deleted, or their product left the store."""
    sellable = await session.scalars(
        select(ProductVariant.id)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(_sellable(), ProductVariant.id.in_(variant_ids))
    )
    return set(variant_ids) - set(sellable)


def price_in(variant: ProductVariant, currency_code: str) -> int | None:
    """The variant's price in this currency from its loaded prices, or None if it has none."""
    return next((p.amount for p in variant.prices if p.currency_code == currency_code), None)


async def variant_prices(
    session: AsyncSession, variant_ids: Collection[str], currency_code: str
) -> dict[str, int]:
    """Current prices by variant ID; variants with no price in the currency are left out."""
    if not variant_ids:
        return {}
    rows = await session.execute(
        select(VariantPrice.variant_id, VariantPrice.amount).where(
            VariantPrice.variant_id.in_(variant_ids), VariantPrice.currency_code == currency_code
        )
    )
    return {variant_id: amount for variant_id, amount in rows}


async def stock_location_for_channel(session: AsyncSession, sales_channel_id: str) -> str | None:
    return await session.scalar(
        select(SalesChannelStockLocation.stock_location_id).where(
            SalesChannelStockLocation.sales_channel_id == sales_channel_id
        )
    )


async def availability(
    session: AsyncSession, variant_ids: Collection[str], sales_channel_id: str
) -> dict[str, Availability]:
    """Availability of every requested variant at the channel's mapped stock location."""
    result = dict.fromkeys(variant_ids, NOT_STOCKED)
    location_id = await stock_location_for_channel(session, sales_channel_id)
    if location_id is None or not result:
        return result
    rows = await session.execute(
        select(
            InventoryItem.variant_id,
            InventoryLevel.stocked_quantity - InventoryLevel.reserved_quantity,
            InventoryLevel.allow_backorder,
        )
        .join(InventoryLevel, InventoryLevel.inventory_item_id == InventoryItem.id)
        .where(InventoryItem.variant_id.in_(result.keys()), InventoryLevel.location_id == location_id)
    )
    for variant_id, unreserved, allow_backorder in rows:
        # A backorderable level can be below zero; shoppers see "0 in stock, can order".
        result[variant_id] = Availability(available=max(unreserved, 0), allow_backorder=allow_backorder)
    return result


async def shipping_options_for_region(session: AsyncSession, region_id: str) -> Sequence[ShippingOption]:
    return (
        await session.scalars(
            select(ShippingOption)
            .where(ShippingOption.region_id == region_id)
            .order_by(ShippingOption.amount, ShippingOption.name)
        )
    ).all()

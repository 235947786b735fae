"""The catalog's admin side: products, their options, variants, prices and images.

Used by the admin API and the demo seed (one code path). Each function runs in the caller's
transaction and writes its audit-log row there; the first stock of a variant goes through
services.inventory (a ledger row). services.catalog has the store's reads.

- A duplicate handle or SKU is refused by the database's unique index (409 `handle_taken`,
  `sku_taken`): the caller's transaction rolls back, nothing is written.
- Deleting a variant sets its `deleted_at` and frees its SKU for a new variant: orders and
  carts keep pointing at the row (their lines hold a frozen copy of SKU, title and price), and
  the SKU is the shop's label on the shelf, which a reintroduced colour should get back.
- A price change touches `variant_prices` only: orders keep the price they were placed at,
  and a cart's lines keep theirs until the cart changes or asks for a payment session again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import NewProduct, NewVariant, ProductChanges, ProductStatus, VariantChanges, can_move
from domain.ids import new_id
from domain.text import HANDLE_PATTERN
from models import (
    InventoryItem,
    InventoryLevel,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductVariant,
    VariantPrice,
)
from services import audit, inventory
from services.catalog import ProductPage, is_plausible_key, list_products
from services.errors import ServiceError, flush_unique
from services.setup import get_stock_location

_HANDLE_TAKEN = {"uq_products_handle": "handle_taken"}
_SKU_TAKEN = {"uq_product_variants_live_sku": "sku_taken"}


class ProductNotFound(ServiceError):
    code = "product_not_found"


class VariantNotFound(ServiceError):
    code = "variant_not_found"


class ImageNotFound(ServiceError):
    code = "image_not_found"


# --- reads ---------------------------------------------------------------------------------


async def get_product(session: AsyncSession, product_id: str, *, for_update: bool = False) -> Product:
    """A product in any status, freshly read with its options, live variants, prices and images."""
    query = (
        select(Product)
        .where(Product.id == product_id)
        # After a change in this session (or a wait for a lock) show what the database holds.
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update(of=Product)
    product = await session.scalar(query) if is_plausible_key(product_id) else None
    if product is None:
        raise ProductNotFound(f"Product {product_id!r} was not found")
    return product


async def list_all_products(
    session: AsyncSession, *, q: str | None, status: ProductStatus | None, limit: int, offset: int
) -> ProductPage:
    return await list_products(
        session,
        q=q,
        statuses=[status] if status is not None else list(ProductStatus),
        limit=limit,
        offset=offset,
    )


async def levels_by_variant(
    session: AsyncSession, products: Sequence[Product]
) -> dict[str, list[InventoryLevel]]:
    """The inventory levels of the products' live variants, by variant ID."""
    variant_ids = [variant.id for product in products for variant in product.variants]
    levels: dict[str, list[InventoryLevel]] = {variant_id: [] for variant_id in variant_ids}
    for view in await inventory.list_levels(session, variant_ids=variant_ids):
        levels[view.variant_id].append(view.level)
    return levels


async def get_variant(session: AsyncSession, variant_id: str) -> ProductVariant:
    """A live variant, row-locked for a change."""
    variant = (
        await session.scalar(
            select(ProductVariant)
            .where(ProductVariant.id == variant_id, ProductVariant.deleted_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if is_plausible_key(variant_id)
        else None
    )
    if variant is None:
        raise VariantNotFound(f"Variant {variant_id!r} was not found")
    return variant


# --- products ------------------------------------------------------------------------------


def _handle_from(title: str) -> str:
    handle = slugify(title, max_length=200, word_boundary=True)
    if not handle:
        raise ServiceError(
            f"No handle can be made from the title {title!r}: give one ({HANDLE_PATTERN})",
            code="handle_required",
        )
    return handle


async def create_product(session: AsyncSession, new: NewProduct, *, actor: str) -> Product:
    """A product with its options, variants, prices and first stock, in the caller's transaction."""
    product = Product(
        id=new_id("prod"),
        handle=new.handle or _handle_from(new.title),
        title=new.title,
        description=new.description,
        status=new.status.value,
    )
    session.add(product)
    await flush_unique(session, _HANDLE_TAKEN)
    for rank, option_in in enumerate(new.options):
        option = ProductOption(id=new_id("opt"), product_id=product.id, title=option_in.title, rank=rank)
        session.add(option)
        session.add_all(
            ProductOptionValue(id=new_id("optval"), option_id=option.id, value=value, rank=value_rank)
            for value_rank, value in enumerate(option_in.values)
        )
    await session.flush()
    product = await get_product(session, product.id)
    for rank, variant_in in enumerate(new.variants):
        await _create_variant(session, product, variant_in, rank, actor=actor)
    await audit.record(
        session,
        actor=actor,
        entity_type="product",
        entity_id=product.id,
        verb="create",
        data={"handle": product.handle, **new.model_dump(mode="json", exclude={"handle"})},
    )
    return product


async def update_product(
    session: AsyncSession, product_id: str, changes: ProductChanges, *, actor: str, verb: str = "update"
) -> Product:
    """Change the fields given; a status moves only along domain.catalog.PRODUCT_TRANSITIONS."""
    product = await get_product(session, product_id, for_update=True)
    if changes.status is not None and not can_move(ProductStatus(product.status), changes.status):
        raise ServiceError(
            f"A {product.status} product cannot become {changes.status.value}",
            code="invalid_status_transition",
        )
    changed = _apply(product, changes.model_dump(exclude_none=True, mode="json"))
    await flush_unique(session, _HANDLE_TAKEN)
    if changed:
        await audit.record(
            session, actor=actor, entity_type="product", entity_id=product.id, verb=verb, data=changed
        )
    return product


async def archive_product(session: AsyncSession, product_id: str, *, actor: str) -> Product:
    """Withdraw the product from the store; orders keep their lines, which are frozen copies."""
    return await update_product(
        session, product_id, ProductChanges(status=ProductStatus.ARCHIVED), actor=actor, verb="archive"
    )


def _apply(row: Product | ProductVariant, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the values that differ; returns {field: [before, after]} of those."""
    changed: dict[str, list[Any]] = {}
    for field, value in values.items():
        before = getattr(row, field)
        if before != value:
            changed[field] = [before, value]
            setattr(row, field, value)
    return changed


# --- variants ------------------------------------------------------------------------------


async def add_variant(
    session: AsyncSession, product_id: str, new: NewVariant, *, actor: str
) -> ProductVariant:
    """A new variant of the product; an option value the product does not have yet is added to it."""
    product = await get_product(session, product_id, for_update=True)
    titles = {option.title for option in product.options}
    if set(new.options) != titles:
        raise ServiceError(
            f"The variant must set exactly the product's options {sorted(titles)}",
            code="variant_options_mismatch",
        )
    for option in product.options:
        value = new.options[option.title]
        if value not in {existing.value for existing in option.values}:
            session.add(
                ProductOptionValue(
                    id=new_id("optval"), option_id=option.id, value=value, rank=len(option.values)
                )
            )
    await session.flush()
    product = await get_product(session, product.id)
    rank = max((variant.rank for variant in product.variants), default=-1) + 1
    variant = await _create_variant(session, product, new, rank, actor=actor)
    await audit.record(
        session,
        actor=actor,
        entity_type="variant",
        entity_id=variant.id,
        verb="create",
        data={"product_id": product.id, **new.model_dump(mode="json")},
    )
    return variant


async def _create_variant(
    session: AsyncSession, product: Product, new: NewVariant, rank: int, *, actor: str
) -> ProductVariant:
    """The variant, its option values, prices, inventory item and first stock per location.

    The product's options must hold every value the variant names (callers add new ones).
    """
    values = {(option.title, value.value): value for option in product.options for value in option.values}
    wanted = {values[title, value].id for title, value in new.options.items()}
    if any({value.id for value in variant.option_values} == wanted for variant in product.variants):
        raise ServiceError(
            f"Another variant already has the options {new.options}", code="variant_options_taken"
        )
    variant = ProductVariant(
        id=new_id("variant"),
        product_id=product.id,
        sku=new.sku,
        title=new.title,
        rank=rank,
        option_values=[values[title, value] for title, value in new.options.items()],
        prices=[
            VariantPrice(id=new_id("price"), currency_code=price.currency_code, amount=price.amount)
            for price in new.prices
        ],
    )
    session.add(variant)
    await flush_unique(session, _SKU_TAKEN)
    item = InventoryItem(id=new_id("iitem"), variant_id=variant.id)
    session.add(item)
    await session.flush()
    for stock in new.inventory:
        location = await get_stock_location(session, stock.location_id)
        await inventory.create_level(
            session,
            inventory_item_id=item.id,
            location_id=location.id,
            stocked_quantity=stock.stocked_quantity,
            allow_backorder=stock.allow_backorder,
            actor=actor,
        )
    return variant


async def update_variant(
    session: AsyncSession, variant_id: str, changes: VariantChanges, *, actor: str
) -> ProductVariant:
    """Change title and SKU; each price given replaces the variant's price in its currency."""
    variant = await get_variant(session, variant_id)
    changed: dict[str, Any] = _apply(variant, changes.model_dump(exclude_none=True, exclude={"prices"}))
    await flush_unique(session, _SKU_TAKEN)
    current = {price.currency_code: price for price in variant.prices}
    for price in changes.prices or []:
        row = current.get(price.currency_code)
        before = row.amount if row is not None else None
        if before == price.amount:
            continue
        if row is None:
            variant.prices.append(
                VariantPrice(id=new_id("price"), currency_code=price.currency_code, amount=price.amount)
            )
        else:
            row.amount = price.amount
        changed.setdefault("prices", {})[price.currency_code] = [before, price.amount]
    await session.flush()
    if changed:
        await audit.record(
            session, actor=actor, entity_type="variant", entity_id=variant.id, verb="update", data=changed
        )
    await session.refresh(variant)  # updated_at, set by the database
    return variant


async def delete_variant(session: AsyncSession, variant_id: str, *, actor: str) -> ProductVariant:
    """Soft-delete: gone from the product and the store, its SKU free; its rows stay for history."""
    variant = await get_variant(session, variant_id)
    variant.deleted_at = datetime.now(UTC)
    await audit.record(
        session,
        actor=actor,
        entity_type="variant",
        entity_id=variant.id,
        verb="delete",
        data={"sku": variant.sku},
    )
    await session.flush()
    await session.refresh(variant)  # updated_at, set by the database
    return variant


# --- images --------------------------------------------------------------------------------


async def add_image(
    session: AsyncSession, product_id: str, *, image_id: str, key: str, url: str, actor: str
) -> ProductImage:
    """The row of an image already put into the media store under `key`; it comes last."""
    product = await get_product(session, product_id, for_update=True)
    image = ProductImage(
        id=image_id,
        product_id=product.id,
        key=key,
        url=url,
        rank=max((image.rank for image in product.images), default=-1) + 1,
    )
    session.add(image)
    await audit.record(
        session,
        actor=actor,
        entity_type="product",
        entity_id=product.id,
        verb="add_image",
        data={"image_id": image_id, "key": key},
    )
    await session.flush()
    return image


async def remove_image(session: AsyncSession, image_id: str, *, actor: str) -> ProductImage:
    """Delete the image's row; the caller deletes its object (`key`) once this has committed."""
    image = (
        await session.get(ProductImage, image_id, with_for_update=True)
        if is_plausible_key(image_id)
        else None
    )
    if image is None:
        raise ImageNotFound(f"Image {image_id!r} was not found")
    await session.delete(image)
    await audit.record(
        session,
        actor=actor,
        entity_type="product",
        entity_id=image.product_id,
        verb="remove_image",
        data={"image_id": image.id, "key": image.key, "url": image.url},
    )
    await session.flush()
    return image

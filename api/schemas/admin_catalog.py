"""Admin API responses for products, variants, images and inventory: every status, every price,
the stock per location. (The requests are domain.catalog's models.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel

from api.schemas.products import (
    ImageOut,
    ProductOptionOut,
    VariantOptionOut,
    images_out,
    option_ranks,
    options_out,
    variant_options_out,
)
from models import InventoryAdjustment, InventoryLevel, Product, ProductVariant
from services.inventory import LevelView


class PriceOut(BaseModel):
    currency_code: str
    amount: int


class InventoryLevelOut(BaseModel):
    id: str
    sku: str
    variant_id: str
    location_id: str
    stocked_quantity: int
    reserved_quantity: int
    # stocked - reserved; below 0 where backorders are on and units are owed.
    available: int
    allow_backorder: bool

    @classmethod
    def of(cls, level: InventoryLevel, *, variant_id: str, sku: str) -> InventoryLevelOut:
        return cls(
            id=level.id,
            sku=sku,
            variant_id=variant_id,
            location_id=level.location_id,
            stocked_quantity=level.stocked_quantity,
            reserved_quantity=level.reserved_quantity,
            available=level.stocked_quantity - level.reserved_quantity,
            allow_backorder=level.allow_backorder,
        )

    @classmethod
    def of_view(cls, view: LevelView) -> InventoryLevelOut:
        return cls.of(view.level, variant_id=view.variant_id, sku=view.sku)


class AdminVariantOut(BaseModel):
    id: str
    product_id: str
    sku: str
    title: str
    options: list[VariantOptionOut]
    prices: list[PriceOut]
    inventory: list[InventoryLevelOut]
    created_at: datetime
    updated_at: datetime
    # Set once deleted: gone from the product and the store, kept for the orders that name it.
    deleted_at: datetime | None

    @classmethod
    def of(
        cls, variant: ProductVariant, option_rank: Mapping[str, int], levels: Sequence[InventoryLevel]
    ) -> AdminVariantOut:
        return cls(
            id=variant.id,
            product_id=variant.product_id,
            sku=variant.sku,
            title=variant.title,
            options=variant_options_out(variant, option_rank),
            prices=[
                PriceOut(currency_code=price.currency_code, amount=price.amount)
                for price in sorted(variant.prices, key=lambda price: price.currency_code)
            ],
            inventory=[
                InventoryLevelOut.of(level, variant_id=variant.id, sku=variant.sku) for level in levels
            ],
            created_at=variant.created_at,
            updated_at=variant.updated_at,
            deleted_at=variant.deleted_at,
        )


class AdminProductOut(BaseModel):
    id: str
    handle: str
    title: str
    description: str
    status: str
    images: list[ImageOut]
    options: list[ProductOptionOut]
    variants: list[AdminVariantOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product, levels: Mapping[str, Sequence[InventoryLevel]]) -> AdminProductOut:
        option_rank = option_ranks(product)
        return cls(
            id=product.id,
            handle=product.handle,
            title=product.title,
            description=product.description,
            status=product.status,
            images=images_out(product),
            options=options_out(product),
            variants=[
                AdminVariantOut.of(variant, option_rank, levels.get(variant.id, ()))
                for variant in product.variants
            ],
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class AdminProductResponse(BaseModel):
    product: AdminProductOut


class AdminProductListResponse(BaseModel):
    products: list[AdminProductOut]
    count: int
    limit: int
    offset: int


class AdminVariantResponse(BaseModel):
    variant: AdminVariantOut


class ImageResponse(BaseModel):
    image: ImageOut


class InventoryLevelResponse(BaseModel):
    inventory_level: InventoryLevelOut


class InventoryLevelListResponse(BaseModel):
    inventory_levels: list[InventoryLevelOut]
    limit: int
    offset: int


class AdjustmentOut(BaseModel):
    id: str
    delta: int
    reason: str
    note: str | None
    actor: str
    # The level's stock right after this change.
    stocked_after: int
    order_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, adjustment: InventoryAdjustment) -> AdjustmentOut:
        return cls.model_validate(adjustment, from_attributes=True)


class AdjustmentListResponse(BaseModel):
    adjustments: list[AdjustmentOut]


class AdjustmentResponse(BaseModel):
    adjustment: AdjustmentOut
    inventory_level: InventoryLevelOut

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from api.schemas.common import MoneyOut
from models import Product, ProductVariant
from services.catalog import Availability, price_in


class ImageOut(BaseModel):
    id: str
    url: str


class OptionValueOut(BaseModel):
    id: str
    value: str


class ProductOptionOut(BaseModel):
    id: str
    title: str
    values: list[OptionValueOut]


class VariantOptionOut(BaseModel):
    id: str
    option_id: str
    value: str


class InventoryOut(BaseModel):
    available: int
    allow_backorder: bool


class VariantOut(BaseModel):
    id: str
    sku: str
    title: str
    options: list[VariantOptionOut]
    # Both null when no region_id was given; calculated_price also when there is no price
    # in the region's currency (such a variant cannot be added to a cart there).
    calculated_price: MoneyOut | None
    inventory: InventoryOut | None


class ProductOut(BaseModel):
    id: str
    handle: str
    title: str
    description: str
    images: list[ImageOut]
    options: list[ProductOptionOut]
    variants: list[VariantOut]


class ProductListResponse(BaseModel):
    products: list[ProductOut]
    count: int
    limit: int
    offset: int


class ProductResponse(BaseModel):
    product: ProductOut


@dataclass(frozen=True, slots=True)
class RegionView:
    """What a region changes in a product: the currency of prices and the stock shown."""

    currency_code: str
    stock: Mapping[str, Availability]


def _variant_out(
    variant: ProductVariant, view: RegionView | None, option_rank: Mapping[str, int]
) -> VariantOut:
    price: MoneyOut | None = None
    inventory: InventoryOut | None = None
    if view is not None:
        amount = price_in(variant, view.currency_code)
        if amount is not None:
            price = MoneyOut(amount=amount, currency_code=view.currency_code)
        stock = view.stock[variant.id]
        inventory = InventoryOut(available=stock.available, allow_backorder=stock.allow_backorder)
    return VariantOut(
        id=variant.id,
        sku=variant.sku,
        title=variant.title,
        options=variant_options_out(variant, option_rank),
        calculated_price=price,
        inventory=inventory,
    )


def option_ranks(product: Product) -> dict[str, int]:
    """Each option's place in the product (option ID -> rank), to list a variant's values in order."""
    return {option.id: rank for rank, option in enumerate(product.options)}


def variant_options_out(variant: ProductVariant, option_rank: Mapping[str, int]) -> list[VariantOptionOut]:
    return [
        VariantOptionOut(id=value.id, option_id=value.option_id, value=value.value)
        for value in sorted(variant.option_values, key=lambda value: option_rank.get(value.option_id, 0))
    ]


def options_out(product: Product) -> list[ProductOptionOut]:
    return [
        ProductOptionOut(
            id=option.id,
            title=option.title,
            values=[OptionValueOut(id=value.id, value=value.value) for value in option.values],
        )
        for option in product.options
    ]


def images_out(product: Product) -> list[ImageOut]:
    return [ImageOut(id=image.id, url=image.url) for image in product.images]


def product_out(product: Product, view: RegionView | None) -> ProductOut:
    option_rank = option_ranks(product)
    return ProductOut(
        id=product.id,
        handle=product.handle,
        title=product.title,
        description=product.description,
        images=images_out(product),
        options=options_out(product),
        variants=[_variant_out(variant, view, option_rank) for variant in product.variants],
    )

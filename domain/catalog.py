"""What the admin API and the demo seed may say about products: inputs, amounts and statuses.

Pure module (pydantic, Babel through domain.money; no I/O). The request bodies of the admin
catalog routes are these models, and services.catalog takes them, so the API and the seed
share one set of rules and the OpenAPI schema states them:

- text is bounded and printable (domain.text), handles and SKUs have their character sets;
- a currency code is one domain.money knows (lowercased), one price per currency;
- an amount is a strict integer of minor units (no float, no "12", no bool) in 0..MAX_AMOUNT;
- a product is draft, published or archived, and moves only along PRODUCT_TRANSITIONS.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from domain.money import THREE_DECIMAL_CURRENCIES, normalize_currency
from domain.text import Handle, Sku, StrictInput, multi_line, single_line

# Stripe's largest charge is 8 digits of minor units (USD 999,999.99): no price, shipping
# amount or stock line above it could ever be paid.
MAX_AMOUNT = 99_999_999
# Units of one stock change or of a level's stock: far beyond any warehouse, well inside int4.
MAX_STOCK_QUANTITY = 1_000_000
MAX_OPTIONS = 5
MAX_OPTION_VALUES = 100
MAX_VARIANTS = 100


def _known_currency(code: str) -> str:
    return normalize_currency(code)  # CurrencyError is a ValueError: a validation error


CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(_known_currency)]
Amount = Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT, description="Minor units")]
StockedQuantity = Annotated[int, Field(strict=True, ge=0, le=MAX_STOCK_QUANTITY)]
Title = Annotated[str, single_line(300)]
OptionText = Annotated[str, single_line(100)]
Description = Annotated[str, multi_line(5000, min_length=0)]


class ProductStatus(StrEnum):
    DRAFT = "draft"  # being prepared: not in the store
    PUBLISHED = "published"  # in the store
    ARCHIVED = "archived"  # withdrawn: not in the store; orders keep their (frozen) lines


# Where a product may go from each status (staying where it is is always allowed). An archived
# product comes back as a draft, so it is looked at again before it is sold again.
PRODUCT_TRANSITIONS: dict[ProductStatus, frozenset[ProductStatus]] = {
    ProductStatus.DRAFT: frozenset({ProductStatus.PUBLISHED, ProductStatus.ARCHIVED}),
    ProductStatus.PUBLISHED: frozenset({ProductStatus.DRAFT, ProductStatus.ARCHIVED}),
    ProductStatus.ARCHIVED: frozenset({ProductStatus.DRAFT}),
}


def can_move(current: ProductStatus, target: ProductStatus) -> bool:
    return target == current or target in PRODUCT_TRANSITIONS[current]


def is_payable(amount: int, currency_code: str) -> bool:
    """Stripe takes three-decimal amounts (BHD, KWD, ...) only in steps of 10."""
    return currency_code not in THREE_DECIMAL_CURRENCIES or amount % 10 == 0


class PriceIn(StrictInput):
    currency_code: CurrencyCode
    amount: Amount

    @model_validator(mode="after")
    def _payable(self) -> Self:
        if not is_payable(self.amount, self.currency_code):
            raise ValueError(f"{self.currency_code} amounts must end in 0 (Stripe charges them in tens)")
        return self


def _one_price_per_currency(prices: list[PriceIn]) -> list[PriceIn]:
    currencies = [price.currency_code for price in prices]
    if len(set(currencies)) != len(currencies):
        raise ValueError("one price per currency")
    return prices


Prices = Annotated[list[PriceIn], Field(max_length=50), AfterValidator(_one_price_per_currency)]


class StockIn(StrictInput):
    """A variant's first stock at a location: its level and the ledger's `initial` row."""

    location_id: Annotated[str, Field(min_length=1, max_length=64)]
    stocked_quantity: StockedQuantity = 0
    allow_backorder: Annotated[bool, Field(strict=True)] = False


def _non_zero(delta: int) -> int:
    if delta == 0:
        raise ValueError("must not be 0")
    return delta


def _one_level_per_location(stock: list[StockIn]) -> list[StockIn]:
    locations = [level.location_id for level in stock]
    if len(set(locations)) != len(locations):
        raise ValueError("one inventory entry per location")
    return stock


class NewVariant(StrictInput):
    title: Title
    sku: Sku
    # Option title -> value, one entry for each of the product's options.
    options: Annotated[dict[OptionText, OptionText], Field(max_length=MAX_OPTIONS)] = Field(
        default_factory=dict
    )
    prices: Prices = Field(default_factory=list)
    inventory: Annotated[list[StockIn], Field(max_length=50), AfterValidator(_one_level_per_location)] = (
        Field(default_factory=list)
    )


class OptionIn(StrictInput):
    title: OptionText
    values: Annotated[list[OptionText], Field(min_length=1, max_length=MAX_OPTION_VALUES)]

    @model_validator(mode="after")
    def _distinct_values(self) -> Self:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"option {self.title!r} lists a value twice")
        return self


class NewProduct(StrictInput):
    title: Title
    # Derived from the title when left out.
    handle: Handle | None = None
    description: Description = ""
    status: Annotated[ProductStatus, Field(strict=False)] = ProductStatus.DRAFT
    options: Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)] = Field(default_factory=list)
    variants: Annotated[list[NewVariant], Field(min_length=1, max_length=MAX_VARIANTS)]

    @model_validator(mode="after")
    def _variants_match_options(self) -> Self:
        titles = [option.title for option in self.options]
        if len(set(titles)) != len(titles):
            raise ValueError("option titles must be distinct")
        values = {option.title: set(option.values) for option in self.options}
        combinations = set()
        for variant in self.variants:
            if set(variant.options) != set(titles):
                raise ValueError(f"variant {variant.sku!r} must set exactly the options {titles}")
            unknown = {title: value for title, value in variant.options.items() if value not in values[title]}
            if unknown:
                raise ValueError(f"variant {variant.sku!r} uses values no option lists: {unknown}")
            combination = tuple(variant.options[title] for title in titles)
            if combination in combinations:
                raise ValueError(
                    f"two variants have the options {dict(zip(titles, combination, strict=True))}"
                )
            combinations.add(combination)
        return self


class ProductChanges(StrictInput):
    """Fields left out stay as they are."""

    title: Title | None = None
    handle: Handle | None = None
    description: Description | None = None
    status: Annotated[ProductStatus | None, Field(strict=False)] = None


class VariantChanges(StrictInput):
    """Fields left out stay as they are; each price given replaces the one in its currency."""

    title: Title | None = None
    sku: Sku | None = None
    prices: Prices | None = None


class NewLevel(StockIn):
    """Stock of a variant at a location it has no level at yet."""

    variant_id: Annotated[str, Field(min_length=1, max_length=64)]


class StockAdjustment(StrictInput):
    # Not 0: a ledger row is a change.
    delta: Annotated[
        int, Field(strict=True, ge=-MAX_STOCK_QUANTITY, le=MAX_STOCK_QUANTITY), AfterValidator(_non_zero)
    ]
    # The ledger's reason for a change an operator makes; its other reasons are written by the
    # flows that own them (initial: a new level, sale: a checkout, cancel and return: the order).
    reason: Literal["adjustment"]
    note: Annotated[str, multi_line(500)] | None = None


class BackorderChange(StrictInput):
    allow_backorder: Annotated[bool, Field(strict=True)]

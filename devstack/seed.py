"""The demo catalog of Grace's Towel: regions, channels, warehouses, towels, prices, stock, shipping.

Everything is created through the same service functions the admin API calls (services.setup,
services.products; stock through services.inventory, so every level starts with its ledger
row), with `seed` as the actor. Idempotent: each thing is found by its natural key (location,
channel, region name; shipping option (region, name); product handle; SKU, among deleted
variants too) and created only if missing; what exists is left as it is, so stock or prices
changed in a demo are not reset, and a variant an operator deleted is not brought back.

    python -m devstack.seed        # against DATABASE_URL

Demo cases worth knowing about:
- GT-OBS-MOSS (Organic Bath Sheet, Moss): no stock, backorderable.
- GT-HKT-WHALE (Hooded Kids Towel, Whale): out of stock, not backorderable.
- GT-LKT-CHARCOAL (Linen Kitchen Towel, Charcoal): no jpy price, so it cannot be bought in Japan.
- GT-TBT-CORAL (Turkish Beach Towel, Coral): stocked only in the EU warehouse, so it is
  unavailable in the United States and Japan (no fallback to another location).
- towel-gift-set: a draft product, never shown in the store.

Product images are generated here (an SVG swatch per colour or design, with the product's
title; no network) and written through the configured media store (core.media: the local
directory the API serves at /media, or S3/R2), under `products/{handle}/{value}.svg`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)

from core.db import database_url
from core.media import MediaStore, media_store_from
from core.settings import get_settings
from domain.catalog import NewProduct, NewVariant, OptionIn, PriceIn, ProductStatus, StockIn
from domain.ids import new_id
from domain.setup import NewRegion, NewSalesChannel, NewShippingOption, NewStockLocation
from models import (
    Base,
    Product,
    ProductImage,
    ProductVariant,
    Region,
    SalesChannel,
    ShippingOption,
    StockLocation,
)
from services import products, setup

# The ledger's actor of the demo stock.
SEED_ACTOR = "seed"

EU_CHANNEL = "Grace's Towel Europe"
WORLD_CHANNEL = "Grace's Towel US & Japan"
EU_WAREHOUSE = "Rotterdam warehouse"
US_WAREHOUSE = "Newark warehouse"


@dataclass(frozen=True)
class RegionSeed:
    name: str
    currency_code: str
    tax_rate_bps: int
    sales_channel: str
    countries: tuple[str, ...]  # iso_2 codes
    shipping: Mapping[str, int]  # option name -> amount in the region's currency


@dataclass(frozen=True)
class VariantSeed:
    sku: str
    option_values: tuple[str, ...]  # one per product option, in the product's option order
    prices: Mapping[str, int]  # currency -> minor units
    stock: Mapping[str, int]  # location name -> stocked quantity; no entry, no level there
    allow_backorder: bool = False


@dataclass(frozen=True)
class ProductSeed:
    handle: str
    title: str
    description: str
    option_titles: tuple[str, ...]
    variants: tuple[VariantSeed, ...]
    status: ProductStatus = ProductStatus.PUBLISHED


LOCATIONS = {EU_WAREHOUSE: "nl", US_WAREHOUSE: "us"}
CHANNEL_LOCATIONS = {EU_CHANNEL: EU_WAREHOUSE, WORLD_CHANNEL: US_WAREHOUSE}

REGIONS = (
    RegionSeed(
        name="Europe",
        currency_code="eur",
        tax_rate_bps=2000,
        sales_channel=EU_CHANNEL,
        countries=("at", "be", "de", "es", "fi", "fr", "ie", "it", "nl", "pt"),
        shipping={"Standard": 495, "Express": 1295},
    ),
    RegionSeed(
        name="United States",
        currency_code="usd",
        tax_rate_bps=0,
        sales_channel=WORLD_CHANNEL,
        countries=("us",),
        shipping={"Standard": 595, "Express": 1495},
    ),
    RegionSeed(
        name="Japan",
        currency_code="jpy",
        tax_rate_bps=1000,
        sales_channel=WORLD_CHANNEL,
        countries=("jp",),
        shipping={"Standard": 800, "Express": 1500},  # whole yen
    ),
)


def _prices(eur: int, usd: int, jpy: int | None) -> dict[str, int]:
    prices = {"eur": eur, "usd": usd}
    if jpy is not None:
        prices["jpy"] = jpy
    return prices


def _stock(eu: int, us: int) -> dict[str, int]:
    return {EU_WAREHOUSE: eu, US_WAREHOUSE: us}


def _grid(
    code: str, colours: tuple[str, ...], sizes: Mapping[str, dict[str, int]], stock: dict[str, int]
) -> tuple[VariantSeed, ...]:
    """Colour x size variants with one price list per size."""
    return tuple(
        VariantSeed(
            sku=f"GT-{code}-{colour.upper()}-{size.upper()}",
            option_values=(colour, size),
            prices=prices,
            stock=stock,
        )
        for colour, (size, prices) in itertools.product(colours, sizes.items())
    )


def _colours(
    code: str, colours: tuple[str, ...], prices: dict[str, int], stock: dict[str, int]
) -> tuple[VariantSeed, ...]:
    return tuple(
        VariantSeed(sku=f"GT-{code}-{colour.upper()}", option_values=(colour,), prices=prices, stock=stock)
        for colour in colours
    )


PRODUCTS = (
    ProductSeed(
        handle="classic-bath-towel",
        title="Classic Bath Towel",
        description="Our everyday towel: 600 gsm long-staple cotton terry, soft from the first wash.",
        option_titles=("Colour", "Size"),
        variants=_grid(
            "CBT",
            ("Sand", "Sage", "Slate"),
            {"Hand": _prices(1500, 1700, 2400), "Bath": _prices(2900, 3200, 4600)},
            _stock(eu=120, us=80),
        ),
    ),
    ProductSeed(
        handle="waffle-weave-towel",
        title="Waffle Weave Towel",
        description="Light, quick-drying waffle cotton that gets softer with every wash.",
        option_titles=("Colour", "Size"),
        variants=_grid(
            "WWT",
            ("White", "Clay"),
            {"Hand": _prices(1800, 2000, 2800), "Bath": _prices(3400, 3800, 5400)},
            _stock(eu=60, us=45),
        ),
    ),
    ProductSeed(
        handle="turkish-beach-towel",
        title="Turkish Beach Towel",
        description="A flat-woven peshtemal: packs small, dries fast, doubles as a throw.",
        option_titles=("Colour",),
        variants=(
            *_colours("TBT", ("Indigo", "Olive"), _prices(3200, 3600, 5200), _stock(eu=40, us=40)),
            # Only in the EU warehouse: shows there is no fallback to another location.
            VariantSeed(
                sku="GT-TBT-CORAL",
                option_values=("Coral",),
                prices=_prices(3200, 3600, 5200),
                stock={EU_WAREHOUSE: 25},
            ),
        ),
    ),
    ProductSeed(
        handle="linen-kitchen-towel",
        title="Linen Kitchen Towel",
        description="Stonewashed European linen, lint-free on glasses.",
        option_titles=("Colour",),
        variants=(
            *_colours("LKT", ("Natural",), _prices(1200, 1400, 1900), _stock(eu=150, us=90)),
            # No jpy price: not for sale in Japan ("variant_not_priced").
            VariantSeed(
                sku="GT-LKT-CHARCOAL",
                option_values=("Charcoal",),
                prices=_prices(1200, 1400, None),
                stock=_stock(eu=150, us=90),
            ),
        ),
    ),
    ProductSeed(
        handle="organic-bath-sheet",
        title="Organic Bath Sheet",
        description="An oversized organic cotton bath sheet for those who like to be wrapped up.",
        option_titles=("Colour",),
        variants=(
            *_colours("OBS", ("Ivory",), _prices(4900, 5400, 7800), _stock(eu=30, us=20)),
            # Sold out but backorderable: can be bought, ships when restocked.
            VariantSeed(
                sku="GT-OBS-MOSS",
                option_values=("Moss",),
                prices=_prices(4900, 5400, 7800),
                stock=_stock(eu=0, us=0),
                allow_backorder=True,
            ),
        ),
    ),
    ProductSeed(
        handle="hooded-kids-towel",
        title="Hooded Kids Towel",
        description="A hooded towel with ears, for after bath time and beach days.",
        option_titles=("Design",),
        variants=(
            *_colours("HKT", ("Fox",), _prices(2600, 2900, 3200), _stock(eu=35, us=35)),
            # Sold out, no backorders.
            VariantSeed(
                sku="GT-HKT-WHALE",
                option_values=("Whale",),
                prices=_prices(2600, 2900, 3200),
                stock=_stock(eu=0, us=0),
            ),
        ),
    ),
    ProductSeed(
        handle="ribbed-bath-mat",
        title="Ribbed Bath Mat",
        description="A heavy ribbed cotton mat that stays put and dries between showers.",
        option_titles=("Colour",),
        variants=_colours("RBM", ("Sand", "Slate"), _prices(2400, 2600, 3800), _stock(eu=50, us=30)),
    ),
    ProductSeed(
        handle="towel-gift-set",
        title="Towel Gift Set",
        description="Coming soon: a boxed set of bath, hand and guest towels.",
        option_titles=("Colour",),
        variants=_colours("TGS", ("Sand",), _prices(7900, 8900, 12800), _stock(eu=0, us=0)),
        status=ProductStatus.DRAFT,
    ),
)


# --- creating what is missing, through the services --------------------------------------

ModelT = TypeVar("ModelT", bound=Base)


async def _find(session: AsyncSession, model: type[ModelT], **key: Any) -> ModelT | None:
    found: ModelT | None = await session.scalar(select(model).filter_by(**key))
    return found


async def _seed_places(session: AsyncSession) -> dict[str, StockLocation]:
    """Warehouses, channels, the strict channel -> warehouse mapping, regions and their shipping.

    Returns the warehouses by name.
    """
    locations: dict[str, StockLocation] = {}
    for name, country in LOCATIONS.items():
        locations[name] = await _find(session, StockLocation, name=name) or await setup.create_stock_location(
            session, NewStockLocation(name=name, country_code=country), actor=SEED_ACTOR
        )
    channels: dict[str, SalesChannel] = {}
    for channel_name, location_name in CHANNEL_LOCATIONS.items():
        channel = await _find(session, SalesChannel, name=channel_name) or await setup.create_sales_channel(
            session, NewSalesChannel(name=channel_name), actor=SEED_ACTOR
        )
        if await setup.channel_location(session, channel.id) is None:
            await setup.set_channel_location(
                session, channel.id, locations[location_name].id, actor=SEED_ACTOR
            )
        channels[channel_name] = channel
    for seed in REGIONS:
        region = await _find(session, Region, name=seed.name) or await setup.create_region(
            session,
            NewRegion(
                name=seed.name,
                currency_code=seed.currency_code,
                countries=list(seed.countries),
                tax_rate_bps=seed.tax_rate_bps,
                sales_channel_id=channels[seed.sales_channel].id,
            ),
            actor=SEED_ACTOR,
        )
        for option_name, amount in seed.shipping.items():
            if await _find(session, ShippingOption, region_id=region.id, name=option_name) is None:
                await setup.create_shipping_option(
                    session,
                    NewShippingOption(region_id=region.id, name=option_name, amount=amount),
                    actor=SEED_ACTOR,
                )
    return locations


def _new_variant(
    seed: ProductSeed, variant: VariantSeed, locations: Mapping[str, StockLocation]
) -> NewVariant:
    return NewVariant(
        title=" / ".join(variant.option_values),
        sku=variant.sku,
        options=dict(zip(seed.option_titles, variant.option_values, strict=True)),
        prices=[PriceIn(currency_code=code, amount=amount) for code, amount in variant.prices.items()],
        inventory=[
            StockIn(
                location_id=locations[name].id,
                stocked_quantity=stocked,
                allow_backorder=variant.allow_backorder,
            )
            for name, stocked in variant.stock.items()
        ],
    )


def _new_product(seed: ProductSeed, locations: Mapping[str, StockLocation]) -> NewProduct:
    return NewProduct(
        title=seed.title,
        handle=seed.handle,
        description=seed.description,
        status=seed.status,
        options=[
            OptionIn(
                title=title,
                values=list(dict.fromkeys(variant.option_values[rank] for variant in seed.variants)),
            )
            for rank, title in enumerate(seed.option_titles)
        ],
        variants=[_new_variant(seed, variant, locations) for variant in seed.variants],
    )


# --- product images ------------------------------------------------------------------------

SVG = "image/svg+xml"
# What each colour or design of the catalog looks like on its swatch.
SWATCHES = {
    "Sand": "#d8c3a0",
    "Sage": "#9caf88",
    "Slate": "#5a6670",
    "White": "#f6f4ef",
    "Clay": "#b86f52",
    "Indigo": "#3f4c8c",
    "Olive": "#7a7a3a",
    "Coral": "#f08070",
    "Natural": "#e3d9c6",
    "Charcoal": "#3b3b3b",
    "Ivory": "#f4eedc",
    "Moss": "#6b7d43",
    "Fox": "#d9792b",
    "Whale": "#4f7391",
}
# Earlier versions of this seed stored these URLs, which nothing served; they are replaced.
_LEGACY_IMAGE_NAMES = ("front.jpg", "detail.jpg")


@dataclass(frozen=True)
class ImageSeed:
    key: str
    data: bytes


def _slug(value: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in value.lower()).split())


def _ink(hex_colour: str) -> str:
    """Dark text on light swatches, light text on dark ones."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#222222" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def swatch_svg(title: str, label: str, colour: str) -> bytes:
    """A 800x800 placeholder: the colour, the product title and the colour's name. Deterministic."""
    ink = _ink(colour)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800" viewBox="0 0 800 800">\n'
        f"  <title>{escape(title)} ({escape(label)})</title>\n"
        f'  <rect width="800" height="800" fill="{colour}"/>\n'
        f'  <g fill="{ink}" font-family="Georgia, serif" text-anchor="middle">\n'
        f'    <text x="400" y="390" font-size="56">{escape(title)}</text>\n'
        f'    <text x="400" y="460" font-size="32" opacity="0.8">{escape(label)}</text>\n'
        "  </g>\n"
        "</svg>\n"
    ).encode()


def product_images(seed: ProductSeed) -> tuple[ImageSeed, ...]:
    """One swatch per value of the product's first option (its colour or design), in option order."""
    values = dict.fromkeys(variant.option_values[0] for variant in seed.variants)
    return tuple(
        ImageSeed(
            key=f"products/{seed.handle}/{_slug(value)}.svg",
            data=swatch_svg(seed.title, value, SWATCHES.get(value, "#cccccc")),
        )
        for value in values
    )


async def _seed_images(session: AsyncSession, media: MediaStore, product: Product, seed: ProductSeed) -> None:
    """Put each image (same key, same bytes: idempotent) and ensure one row per key.

    A row is the seed's image for a key when its URL ends with that key, so when the store
    changes (local directory -> R2) the row is pointed at the new URL instead of duplicated.
    Rows of other images are left alone; the legacy placeholder rows are removed.
    """
    rows = list(await session.scalars(select(ProductImage).where(ProductImage.product_id == product.id)))
    legacy = {f"/media/products/{seed.handle}/{name}" for name in _LEGACY_IMAGE_NAMES}
    for row in rows:
        if row.url in legacy:
            await session.delete(row)
    rows = [row for row in rows if row.url not in legacy]
    for image in product_images(seed):
        url = await media.put(image.key, image.data, SVG)
        found = next((row for row in rows if row.url == url or row.url.endswith(f"/{image.key}")), None)
        if found is None:
            await products.add_image(
                session, product.id, image_id=new_id("img"), key=image.key, url=url, actor=SEED_ACTOR
            )
        else:
            found.url, found.key = url, image.key
    await session.flush()


async def _seed_products(
    session: AsyncSession, media: MediaStore, locations: Mapping[str, StockLocation]
) -> None:
    # Every SKU ever used, deleted variants' too: the seed adds only what never existed.
    skus = set(await session.scalars(select(ProductVariant.sku)))
    for seed in PRODUCTS:
        product = await _find(session, Product, handle=seed.handle)
        if product is None:
            product = await products.create_product(session, _new_product(seed, locations), actor=SEED_ACTOR)
        else:
            for variant in seed.variants:
                if variant.sku not in skus:
                    await products.add_variant(
                        session, product.id, _new_variant(seed, variant, locations), actor=SEED_ACTOR
                    )
        await _seed_images(session, media, product, seed)


def _transaction(session: AsyncSession) -> AsyncSessionTransaction:
    # Joins a transaction the caller already has (as a savepoint) instead of failing.
    return session.begin_nested() if session.in_transaction() else session.begin()


async def seed_demo_catalog(session: AsyncSession, media: MediaStore | None = None) -> None:
    """Create whatever part of the demo catalog is missing, in one transaction.

    Images go to `media`, by default the store the settings configure (core.media).
    """
    if media is None:
        media = media_store_from(get_settings())
    async with _transaction(session):
        locations = await _seed_places(session)
        await _seed_products(session, media, locations)


async def _seed_configured_database() -> None:
    engine = create_async_engine(database_url())
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            await seed_demo_catalog(session)
            products = await session.scalar(select(func.count()).select_from(Product))
            variants = await session.scalar(select(func.count()).select_from(ProductVariant))
    finally:
        await engine.dispose()
    print(f"demo catalog ready: {len(REGIONS)} regions, {products} products, {variants} variants")


def main() -> None:
    asyncio.run(_seed_configured_database())


if __name__ == "__main__":
    main()

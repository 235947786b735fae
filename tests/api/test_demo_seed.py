"""The demo seed: its contents, and that running it again changes nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from devstack.seed import REGIONS, seed_demo_catalog
from models import (
    Country,
    InventoryItem,
    InventoryLevel,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductVariant,
    Region,
    SalesChannel,
    SalesChannelStockLocation,
    ShippingOption,
    StockLocation,
    VariantPrice,
)
from models.product import variant_option_values

ROOT = Path(__file__).resolve().parents[2]
SEEDED_TABLES = [
    Country,
    InventoryItem,
    InventoryLevel,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductVariant,
    Region,
    SalesChannel,
    SalesChannelStockLocation,
    ShippingOption,
    StockLocation,
    VariantPrice,
]


async def row_counts(session):
    counts = {}
    for model in SEEDED_TABLES:
        counts[model.__tablename__] = await session.scalar(select(func.count()).select_from(model))
    counts["variant_option_values"] = await session.scalar(
        select(func.count()).select_from(variant_option_values)
    )
    await session.rollback()  # end the read transaction so the seed can open its own
    return counts


async def test_seeding_twice_leaves_every_count_unchanged(session, demo):
    before = await row_counts(session)

    await seed_demo_catalog(session)
    await seed_demo_catalog(session)

    assert await row_counts(session) == before


async def test_seed_joins_a_transaction_the_caller_already_has(session, demo):
    before = await row_counts(session)

    async with session.begin():
        await seed_demo_catalog(session)

    assert await row_counts(session) == before


async def test_python_m_devstack_seed_runs_against_database_url(session, database_url, demo):
    before = await row_counts(session)

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devstack.seed",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, stderr.decode()
    assert "demo catalog ready" in stdout.decode()
    assert await row_counts(session) == before


async def test_seed_has_the_demo_shape(session, demo):
    # Only the seed's: other tests set up regions of their own through the admin API.
    regions = {
        r.name: r
        for r in await session.scalars(select(Region).where(Region.name.in_([seed.name for seed in REGIONS])))
    }
    assert {name: (r.currency_code, r.tax_rate_bps) for name, r in regions.items()} == {
        "Europe": ("eur", 2000),
        "United States": ("usd", 0),
        "Japan": ("jpy", 1000),
    }
    assert len(regions["Europe"].countries) >= 5
    # US and Japan share a channel; Europe has its own; each channel maps to one warehouse.
    assert regions["United States"].sales_channel_id == regions["Japan"].sales_channel_id
    assert regions["Europe"].sales_channel_id != regions["Japan"].sales_channel_id
    channels = {region.sales_channel_id for region in regions.values()}
    mapping = dict(
        (
            await session.execute(
                select(SalesChannelStockLocation.sales_channel_id, StockLocation.name)
                .join(StockLocation)
                .where(SalesChannelStockLocation.sales_channel_id.in_(channels))
            )
        ).all()
    )
    assert mapping == {
        regions["Europe"].sales_channel_id: "Rotterdam warehouse",
        regions["Japan"].sales_channel_id: "Newark warehouse",
    }

    published = await session.scalar(
        select(func.count()).select_from(Product).where(Product.status == "published")
    )
    published_variants = await session.scalar(
        select(func.count()).select_from(ProductVariant).join(Product).where(Product.status == "published")
    )
    assert published >= 6
    assert published_variants >= 20

    jpy_prices = (
        await session.scalars(select(VariantPrice.amount).where(VariantPrice.currency_code == "jpy"))
    ).all()
    assert jpy_prices and all(amount % 100 == 0 for amount in jpy_prices)  # whole yen, shop-style round
    urls = (await session.scalars(select(ProductImage.url))).all()
    assert urls and all(url.startswith("/media/") for url in urls)
    await session.rollback()

"""Store API fixtures: the demo catalog, seeded once per test session, and cart helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from models import ProductVariant, Region, ShippingOption, StockLocation


@dataclass(frozen=True)
class DemoCatalog:
    """IDs of the seeded demo catalog, by natural key (IDs are random)."""

    regions: dict[str, str]  # name -> id
    variants: dict[str, str]  # sku -> id
    shipping_options: dict[tuple[str, str], str]  # (region name, option name) -> id
    locations: dict[str, str]  # name -> id


@pytest.fixture(scope="session")
async def demo(database_url: str) -> DemoCatalog:
    from core.db import get_sessionmaker
    from devstack.seed import seed_demo_catalog

    async with get_sessionmaker()() as session:
        await seed_demo_catalog(session)
        regions = {r.name: r.id for r in await session.scalars(select(Region))}
        region_names = {region_id: name for name, region_id in regions.items()}
        return DemoCatalog(
            regions=regions,
            variants={v.sku: v.id for v in await session.scalars(select(ProductVariant))},
            shipping_options={
                (region_names[o.region_id], o.name): o.id
                for o in await session.scalars(select(ShippingOption))
            },
            locations={loc.name: loc.id for loc in await session.scalars(select(StockLocation))},
        )


CartFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def new_cart(client: AsyncClient, demo: DemoCatalog) -> CartFactory:
    """`await new_cart("Europe", ("GT-CBT-SAND-BATH", 2), ...)`: a cart with these lines."""

    async def make(region: str, *lines: tuple[str, int], **body: Any) -> dict[str, Any]:
        response = await client.post("/store/carts", json={"region_id": demo.regions[region], **body})
        assert response.status_code == 200, response.text
        cart: dict[str, Any] = response.json()["cart"]
        for sku, quantity in lines:
            response = await client.post(
                f"/store/carts/{cart['id']}/line-items",
                json={"variant_id": demo.variants[sku], "quantity": quantity},
            )
            assert response.status_code == 200, response.text
            cart = response.json()["cart"]
        return cart

    return make

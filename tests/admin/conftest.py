"""Admin API fixtures: a key per role (real keys in the database), the demo's warehouses, and an
operator helper that makes products through the API.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from core.db import get_sessionmaker
from domain.ids import new_id
from domain.roles import NewApiKey, Role
from models import AuditLogEntry, InventoryAdjustment, Product, ProductImage, ProductVariant, StockLocation
from services.api_keys import create_key
from tests.api.conftest import DemoCatalog, demo

__all__ = ["demo"]  # the seeded demo catalog, shared with the store API tests

EU_WAREHOUSE = "Rotterdam warehouse"
US_WAREHOUSE = "Newark warehouse"
PRICES = [
    {"currency_code": "eur", "amount": 2500},
    {"currency_code": "usd", "amount": 2900},
    {"currency_code": "jpy", "amount": 3600},
]


@pytest.fixture(autouse=True)
async def leave_the_store_as_the_demo_made_it(database_url: str, media_dir: Path) -> AsyncIterator[None]:
    """Archive what a test published and remove what it uploaded, afterwards.

    The store API tests share this session's database and count what the store shows (the demo
    catalog, its images and files): products made here must not show up among them.
    """
    async with get_sessionmaker()() as session:
        started = await session.scalar(select(func.clock_timestamp()))
    yield
    async with get_sessionmaker()() as session, session.begin():
        made_here = select(Product.id).where(Product.created_at >= started).scalar_subquery()
        await session.execute(delete(ProductImage).where(ProductImage.product_id.in_(made_here)))
        await session.execute(update(Product).where(Product.id.in_(made_here)).values(status="archived"))
    for uploads in (media_dir / "products").glob("prod_*"):
        shutil.rmtree(uploads)


@pytest.fixture(scope="session")
async def keys(database_url: str) -> dict[Role, str]:
    """A live key per role, named `test-<role>`: role -> secret."""
    async with get_sessionmaker()() as session, session.begin():
        return {
            role: (await create_key(session, NewApiKey(name=f"test-{role}", role=role), actor="test")).secret
            for role in Role
        }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
async def warehouses(demo: DemoCatalog) -> dict[str, str]:
    """The demo's stock locations: name -> id (EU ships to Europe, US to the US and Japan)."""
    return {name: demo.locations[name] for name in (EU_WAREHOUSE, US_WAREHOUSE)}


def unique(prefix: str = "t") -> str:
    """A fresh lowercase token for handles and SKUs."""
    return new_id(prefix).lower().replace("_", "-")


def product_body(warehouses: dict[str, str], *, stock: int = 10, **overrides: Any) -> dict[str, Any]:
    """A towel in two colours, priced in eur/usd/jpy, stocked in both warehouses."""
    token = unique()
    body: dict[str, Any] = {
        "title": f"Test towel {token}",
        "handle": token,
        "description": "Soft.\nVery soft.",
        "status": "published",
        "options": [{"title": "Colour", "values": ["Sand", "Sage"]}],
        "variants": [
            {
                "title": colour,
                "sku": f"{token}-{colour}".upper(),
                "options": {"Colour": colour},
                "prices": PRICES,
                "inventory": [
                    {"location_id": location_id, "stocked_quantity": stock, "allow_backorder": False}
                    for location_id in warehouses.values()
                ],
            }
            for colour in ("Sand", "Sage")
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Operator:
    """Someone with an admin key, driving the admin API (in process or on a real port)."""

    http: httpx.AsyncClient
    headers: dict[str, str]

    async def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.http.request(method, url, headers={**self.headers, **(headers or {})}, **kwargs)

    async def create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.request("POST", "/admin/products", json=body)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()["product"]
        return product


@pytest.fixture
def admin(client: httpx.AsyncClient, keys: dict[Role, str]) -> Operator:
    return Operator(http=client, headers=bearer(keys[Role.ADMIN]))


async def row_counts() -> dict[str, int]:
    """Rows of the tables an admin change writes: for "nothing was written" checks."""
    async with get_sessionmaker()() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Product, ProductVariant, AuditLogEntry, InventoryAdjustment, StockLocation)
        }

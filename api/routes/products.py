"""Store API: published products, priced and stocked for a region when one is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.errors import not_found
from api.schemas.products import ProductListResponse, ProductResponse, RegionView, product_out
from models import Product, Region
from services import catalog

router = APIRouter(prefix="/store", tags=["store: products"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Far beyond any catalog, and well inside PostgreSQL's bigint OFFSET.
MAX_OFFSET = 1_000_000_000

RegionIdQuery = Annotated[str | None, Query(description="Prices and stock for this region")]
SearchQuery = Annotated[
    str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="Search in titles")
]


async def _region_or_404(session: AsyncSession, region_id: str | None) -> Region | None:
    if region_id is None:
        return None
    region = await catalog.get_region(session, region_id)
    if region is None:
        raise not_found("region", region_id)
    return region


async def _region_view(
    session: AsyncSession, region: Region | None, products: Sequence[Product]
) -> RegionView | None:
    if region is None:
        return None
    variant_ids = [variant.id for product in products for variant in product.variants]
    stock = await catalog.availability(session, variant_ids, region.sales_channel_id)
    return RegionView(currency_code=region.currency_code, stock=stock)


@router.get("/products", response_model=ProductListResponse)
async def list_products(
    session: SessionDep,
    region_id: RegionIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    q: SearchQuery = None,
) -> ProductListResponse:
    # Checked before the listing so an unknown region is a 404 even on an empty page.
    region = await _region_or_404(session, region_id)
    page = await catalog.list_products(session, q=(q or "").strip() or None, limit=limit, offset=offset)
    view = await _region_view(session, region, page.products)
    return ProductListResponse(
        products=[product_out(product, view) for product in page.products],
        count=page.count,
        limit=limit,
        offset=offset,
    )


@router.get("/products/{id_or_handle}", response_model=ProductResponse)
async def get_product(
    session: SessionDep, id_or_handle: str, region_id: RegionIdQuery = None
) -> ProductResponse:
    product = await catalog.get_product(session, id_or_handle)
    if product is None:
        raise not_found("product", id_or_handle)
    view = await _region_view(session, await _region_or_404(session, region_id), [product])
    return ProductResponse(product=product_out(product, view))

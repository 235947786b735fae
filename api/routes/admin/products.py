"""Admin API: products (any status), created with their options, variants, prices and first stock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.routes.products import MAX_LIMIT, MAX_OFFSET, SearchQuery
from api.schemas.admin_catalog import AdminProductListResponse, AdminProductOut, AdminProductResponse
from domain.catalog import NewProduct, ProductChanges, ProductStatus
from models import Product
from services import products

router = APIRouter(tags=["admin: catalog"])

_NOT_FOUND = {404: "No such product (`product_not_found`)"}


async def product_response(session: AsyncSession, product: Product) -> AdminProductResponse:
    """The product as it is now, with the stock of each variant per location."""
    product = await products.get_product(session, product.id)
    levels = await products.levels_by_variant(session, [product])
    return AdminProductResponse(product=AdminProductOut.of(product, levels))


@router.post(
    "/products",
    response_model=AdminProductResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + "; `handle_required` when no handle can be made from the title",
            404: "An inventory entry names an unknown location (`stock_location_not_found`)",
            409: "The handle or a SKU is taken (`handle_taken`, `sku_taken`): nothing is written",
        }
    ),
)
async def create_product(principal: AdminDep, session: SessionDep, body: NewProduct) -> AdminProductResponse:
    """Create a product with its options, variants, prices (minor units) and first stock per location."""
    async with session.begin():
        product = await products.create_product(session, body, actor=principal.name)
        return await product_response(session, product)


@router.get(
    "/products", response_model=AdminProductListResponse, responses=error_responses({400: INVALID_REQUEST})
)
async def list_products(
    principal: ViewerDep,
    session: SessionDep,
    q: SearchQuery = None,
    status: ProductStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AdminProductListResponse:
    """Products of every status (or of one), by title."""
    page = await products.list_all_products(
        session, q=(q or "").strip() or None, status=status, limit=limit, offset=offset
    )
    levels = await products.levels_by_variant(session, page.products)
    return AdminProductListResponse(
        products=[AdminProductOut.of(product, levels) for product in page.products],
        count=page.count,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/products/{product_id}", response_model=AdminProductResponse, responses=error_responses(_NOT_FOUND)
)
async def get_product(principal: ViewerDep, session: SessionDep, product_id: str) -> AdminProductResponse:
    return await product_response(session, await products.get_product(session, product_id))


@router.post(
    "/products/{product_id}",
    response_model=AdminProductResponse,
    responses=error_responses(
        {
            400: INVALID_REQUEST,
            **_NOT_FOUND,
            409: "The handle is taken (`handle_taken`), or the status cannot follow the current one"
            " (`invalid_status_transition`)",
        }
    ),
)
async def update_product(
    principal: AdminDep, session: SessionDep, product_id: str, body: ProductChanges
) -> AdminProductResponse:
    """Change title, description, handle or status (draft ⇄ published, either → archived → draft)."""
    async with session.begin():
        product = await products.update_product(session, product_id, body, actor=principal.name)
        return await product_response(session, product)


@router.delete(
    "/products/{product_id}",
    response_model=AdminProductResponse,
    responses=error_responses(_NOT_FOUND),
)
async def archive_product(principal: AdminDep, session: SessionDep, product_id: str) -> AdminProductResponse:
    """Archive: the product leaves the store (404 there by ID or handle); orders keep their lines."""
    async with session.begin():
        product = await products.archive_product(session, product_id, actor=principal.name)
        return await product_response(session, product)

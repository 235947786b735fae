"""Admin API: a product's variants: add one, change title, SKU or prices, delete (soft)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AdminDep, SessionDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_catalog import AdminVariantOut, AdminVariantResponse
from api.schemas.products import option_ranks
from domain.catalog import NewVariant, VariantChanges
from models import ProductVariant
from services import inventory, products

router = APIRouter(tags=["admin: catalog"])

_NOT_FOUND = {404: "No such (live) variant (`variant_not_found`)"}


async def _variant_response(session: AsyncSession, variant: ProductVariant) -> AdminVariantResponse:
    product = await products.get_product(session, variant.product_id)
    levels = [view.level for view in await inventory.list_levels(session, variant_ids=[variant.id])]
    return AdminVariantResponse(variant=AdminVariantOut.of(variant, option_ranks(product), levels))


@router.post(
    "/products/{product_id}/variants",
    response_model=AdminVariantResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + "; `variant_options_mismatch` when the options are not the product's",
            404: "No such product or location (`product_not_found`, `stock_location_not_found`)",
            409: "The SKU is taken (`sku_taken`) or another variant has these options"
            " (`variant_options_taken`): nothing is written",
        }
    ),
)
async def add_variant(
    principal: AdminDep, session: SessionDep, product_id: str, body: NewVariant
) -> AdminVariantResponse:
    """Add a variant (a new option value is added to its option)."""
    async with session.begin():
        variant = await products.add_variant(session, product_id, body, actor=principal.name)
        return await _variant_response(session, variant)


@router.post(
    "/variants/{variant_id}",
    response_model=AdminVariantResponse,
    responses=error_responses(
        {400: INVALID_REQUEST, **_NOT_FOUND, 409: "The SKU is taken (`sku_taken`): nothing is written"}
    ),
)
async def update_variant(
    principal: AdminDep, session: SessionDep, variant_id: str, body: VariantChanges
) -> AdminVariantResponse:
    """Change title or SKU; each price given replaces the one in its currency (others stay).

    Orders keep the prices they were placed at; an open payment session takes a new price only
    when the storefront asks for it again (`POST /store/carts/{id}/payment-sessions`), and not
    once the payment is authorized.
    """
    async with session.begin():
        variant = await products.update_variant(session, variant_id, body, actor=principal.name)
        return await _variant_response(session, variant)


@router.delete(
    "/variants/{variant_id}", response_model=AdminVariantResponse, responses=error_responses(_NOT_FOUND)
)
async def delete_variant(principal: AdminDep, session: SessionDep, variant_id: str) -> AdminVariantResponse:
    """Soft-delete: gone from the product and the store, its SKU free for a new variant; orders
    and carts that name it keep it (a cart holding it cannot be paid: `variant_unavailable`)."""
    async with session.begin():
        variant = await products.delete_variant(session, variant_id, actor=principal.name)
        return await _variant_response(session, variant)

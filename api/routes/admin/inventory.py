"""Admin API: inventory levels, their ledger, stock adjustments and backorders.

Every change of a level's stock is a row in its ledger, with the key's name as actor; an
adjustment locks the level, so concurrent ones all land and none takes the stock below what
checkouts hold where backorders are off (409 `insufficient_stock`, nothing written).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_catalog import (
    AdjustmentListResponse,
    AdjustmentOut,
    AdjustmentResponse,
    InventoryLevelListResponse,
    InventoryLevelOut,
    InventoryLevelResponse,
)
from domain.catalog import MAX_STOCK_QUANTITY, BackorderChange, NewLevel, StockAdjustment
from services import inventory

router = APIRouter(tags=["admin: inventory"])

_NOT_FOUND = {404: "No such inventory level (`inventory_level_not_found`)"}


@router.get(
    "/inventory-levels",
    response_model=InventoryLevelListResponse,
    responses=error_responses({400: INVALID_REQUEST}),
)
async def list_levels(
    principal: ViewerDep,
    session: SessionDep,
    sku: Annotated[str | None, Query(max_length=100)] = None,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    low_stock: Annotated[
        int | None,
        Query(
            ge=-MAX_STOCK_QUANTITY,
            le=MAX_STOCK_QUANTITY,
            description="Only levels with at most this many units available (stocked - reserved)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> InventoryLevelListResponse:
    """Levels of live variants by SKU and location."""
    views = await inventory.list_levels(
        session, sku=sku, location_id=location_id, low_stock=low_stock, limit=limit, offset=offset
    )
    return InventoryLevelListResponse(
        inventory_levels=[InventoryLevelOut.of_view(view) for view in views], limit=limit, offset=offset
    )


@router.post(
    "/inventory-levels",
    response_model=InventoryLevelResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST,
            404: "No such variant or location (`variant_not_found`, `stock_location_not_found`)",
            409: "The variant has a level at this location already (`inventory_level_exists`)",
        }
    ),
)
async def add_level(principal: AdminDep, session: SessionDep, body: NewLevel) -> InventoryLevelResponse:
    """Stock a variant at another location (its first stock is the ledger's `initial` row)."""
    async with session.begin():
        level = await inventory.add_level(session, body, actor=principal.name)
        view = await inventory.get_level(session, level.id)
    return InventoryLevelResponse(inventory_level=InventoryLevelOut.of_view(view))


@router.get(
    "/inventory-levels/{level_id}",
    response_model=InventoryLevelResponse,
    responses=error_responses(_NOT_FOUND),
)
async def get_level(principal: ViewerDep, session: SessionDep, level_id: str) -> InventoryLevelResponse:
    return InventoryLevelResponse(
        inventory_level=InventoryLevelOut.of_view(await inventory.get_level(session, level_id))
    )


@router.post(
    "/inventory-levels/{level_id}",
    response_model=InventoryLevelResponse,
    responses=error_responses(
        {
            400: INVALID_REQUEST,
            **_NOT_FOUND,
            409: "Backorders cannot be turned off while fewer units are stocked than reserved"
            " (`insufficient_stock`)",
        }
    ),
)
async def set_backorder(
    principal: AdminDep, session: SessionDep, level_id: str, body: BackorderChange
) -> InventoryLevelResponse:
    """Allow or stop backorders at this level (recorded in the audit log with the key's name)."""
    async with session.begin():
        view = await inventory.set_backorder(session, level_id, body.allow_backorder, actor=principal.name)
    return InventoryLevelResponse(inventory_level=InventoryLevelOut.of_view(view))


@router.post(
    "/inventory-levels/{level_id}/adjustments",
    response_model=AdjustmentResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + "; `quantity_limit_exceeded` beyond the largest stock a level holds",
            **_NOT_FOUND,
            409: "Below what checkouts hold, and backorders are off (`insufficient_stock`):"
            " nothing is written",
        }
    ),
)
async def adjust_level(
    principal: AdminDep, session: SessionDep, level_id: str, body: StockAdjustment
) -> AdjustmentResponse:
    """Add `delta` units (negative: remove) to the level's stock, atomically; one ledger row."""
    async with session.begin():
        adjustment = await inventory.adjust_level(
            session, level_id, body.delta, actor=principal.name, note=body.note
        )
        view = await inventory.get_level(session, level_id)
    return AdjustmentResponse(
        adjustment=AdjustmentOut.of(adjustment), inventory_level=InventoryLevelOut.of_view(view)
    )


@router.get(
    "/inventory-levels/{level_id}/adjustments",
    response_model=AdjustmentListResponse,
    responses=error_responses(_NOT_FOUND),
)
async def list_adjustments(
    principal: ViewerDep, session: SessionDep, level_id: str
) -> AdjustmentListResponse:
    """The level's ledger, newest first: every change of its stock, with its reason and actor."""
    return AdjustmentListResponse(
        adjustments=[AdjustmentOut.of(row) for row in await inventory.ledger(session, level_id)]
    )

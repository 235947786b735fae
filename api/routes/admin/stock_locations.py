"""Admin API: stock locations (warehouses)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_setup import StockLocationListResponse, StockLocationOut, StockLocationResponse
from domain.setup import NewStockLocation
from services import setup

router = APIRouter(tags=["admin: setup"])


@router.get("/stock-locations", response_model=StockLocationListResponse)
async def list_stock_locations(principal: ViewerDep, session: SessionDep) -> StockLocationListResponse:
    return StockLocationListResponse(
        stock_locations=[
            StockLocationOut.of(location) for location in await setup.list_stock_locations(session)
        ]
    )


@router.post(
    "/stock-locations",
    response_model=StockLocationResponse,
    status_code=201,
    responses=error_responses({400: INVALID_REQUEST, 409: "The name is taken (`stock_location_name_taken`)"}),
)
async def create_stock_location(
    principal: AdminDep, session: SessionDep, body: NewStockLocation
) -> StockLocationResponse:
    async with session.begin():
        location = await setup.create_stock_location(session, body, actor=principal.name)
    return StockLocationResponse(stock_location=StockLocationOut.of(location))

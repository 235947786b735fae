"""Admin API: regions: a currency, countries, a tax rate and the sales channel they sell through."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_setup import AdminRegionListResponse, AdminRegionOut, AdminRegionResponse
from domain.setup import NewRegion
from services import catalog, setup

router = APIRouter(tags=["admin: setup"])


@router.get("/regions", response_model=AdminRegionListResponse)
async def list_regions(principal: ViewerDep, session: SessionDep) -> AdminRegionListResponse:
    return AdminRegionListResponse(
        regions=[AdminRegionOut.of(region) for region in await catalog.list_regions(session)]
    )


@router.post(
    "/regions",
    response_model=AdminRegionResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + " (unknown currency or country codes among them)",
            404: "No such sales channel (`sales_channel_not_found`)",
            409: "The name is taken (`region_name_taken`), or a country is in another region"
            " (`country_taken`)",
        }
    ),
)
async def create_region(principal: AdminDep, session: SessionDep, body: NewRegion) -> AdminRegionResponse:
    async with session.begin():
        region = await setup.create_region(session, body, actor=principal.name)
    return AdminRegionResponse(region=AdminRegionOut.of(region))

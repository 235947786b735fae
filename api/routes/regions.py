"""Store API: regions (currency, countries) a storefront lets the shopper choose from."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.schemas.regions import RegionOut, RegionsResponse
from services import catalog

router = APIRouter(prefix="/store", tags=["store: regions"])


@router.get("/regions", response_model=RegionsResponse)
async def list_regions(session: SessionDep) -> RegionsResponse:
    regions = await catalog.list_regions(session)
    return RegionsResponse(regions=[RegionOut.from_region(region) for region in regions])

"""Admin API: shipping options of a region, priced in its currency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_setup import (
    AdminShippingOptionListResponse,
    AdminShippingOptionOut,
    AdminShippingOptionResponse,
)
from domain.setup import NewShippingOption
from services import setup

router = APIRouter(tags=["admin: setup"])


@router.get(
    "/shipping-options",
    response_model=AdminShippingOptionListResponse,
    responses=error_responses({400: INVALID_REQUEST}),
)
async def list_shipping_options(
    principal: ViewerDep, session: SessionDep, region_id: Annotated[str | None, Query(max_length=64)] = None
) -> AdminShippingOptionListResponse:
    options = await setup.list_shipping_options(session, region_id=region_id)
    return AdminShippingOptionListResponse(shipping_options=[AdminShippingOptionOut.of(o) for o in options])


@router.post(
    "/shipping-options",
    response_model=AdminShippingOptionResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + "; `invalid_amount` when the region's currency cannot be charged so",
            404: "No such region (`region_not_found`)",
            409: "The region has an option of this name (`shipping_option_name_taken`)",
        }
    ),
)
async def create_shipping_option(
    principal: AdminDep, session: SessionDep, body: NewShippingOption
) -> AdminShippingOptionResponse:
    async with session.begin():
        option = await setup.create_shipping_option(session, body, actor=principal.name)
    return AdminShippingOptionResponse(shipping_option=AdminShippingOptionOut.of(option))

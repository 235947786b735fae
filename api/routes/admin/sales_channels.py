"""Admin API: sales channels and the one stock location each ships from (no fallback to another)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_setup import (
    ChannelLocationResponse,
    SalesChannelListResponse,
    SalesChannelOut,
    SalesChannelResponse,
    StockLocationOut,
)
from domain.setup import ChannelLocation, NewSalesChannel
from services import setup

router = APIRouter(tags=["admin: setup"])

_NOT_FOUND = {404: "No such sales channel (`sales_channel_not_found`)"}


@router.get("/sales-channels", response_model=SalesChannelListResponse)
async def list_sales_channels(principal: ViewerDep, session: SessionDep) -> SalesChannelListResponse:
    return SalesChannelListResponse(
        sales_channels=[
            SalesChannelOut.of(channel, location_id)
            for channel, location_id in await setup.list_sales_channels(session)
        ]
    )


@router.post(
    "/sales-channels",
    response_model=SalesChannelResponse,
    status_code=201,
    responses=error_responses({400: INVALID_REQUEST, 409: "The name is taken (`sales_channel_name_taken`)"}),
)
async def create_sales_channel(
    principal: AdminDep, session: SessionDep, body: NewSalesChannel
) -> SalesChannelResponse:
    """A sales channel; it sells nothing until it has a stock location."""
    async with session.begin():
        channel = await setup.create_sales_channel(session, body, actor=principal.name)
    return SalesChannelResponse(sales_channel=SalesChannelOut.of(channel, None))


@router.get(
    "/sales-channels/{channel_id}/stock-location",
    response_model=ChannelLocationResponse,
    responses=error_responses(_NOT_FOUND),
)
async def get_channel_location(
    principal: ViewerDep, session: SessionDep, channel_id: str
) -> ChannelLocationResponse:
    location = await setup.channel_location(session, channel_id)
    return ChannelLocationResponse(stock_location=None if location is None else StockLocationOut.of(location))


@router.post(
    "/sales-channels/{channel_id}/stock-location",
    response_model=ChannelLocationResponse,
    responses=error_responses(
        {
            400: INVALID_REQUEST,
            404: "No such channel or location (`sales_channel_not_found`, `stock_location_not_found`)",
        }
    ),
)
async def set_channel_location(
    principal: AdminDep, session: SessionDep, channel_id: str, body: ChannelLocation
) -> ChannelLocationResponse:
    """Set the one location the channel ships from, replacing the one it had."""
    async with session.begin():
        location = await setup.set_channel_location(
            session, channel_id, body.stock_location_id, actor=principal.name
        )
    return ChannelLocationResponse(stock_location=StockLocationOut.of(location))

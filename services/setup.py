"""The shop's setup: sales channels, stock locations, the strict channel -> location mapping,
regions with their countries, and shipping options. Used by the admin API and the demo seed.

Every change runs in the caller's transaction and writes its audit-log row there. Names are
unique (per region for shipping options): a taken one is a 409 and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import is_payable
from domain.ids import new_id
from domain.setup import NewRegion, NewSalesChannel, NewShippingOption, NewStockLocation, country_name
from domain.text import StrictInput
from models import (
    Base,
    Country,
    Region,
    SalesChannel,
    SalesChannelStockLocation,
    ShippingOption,
    StockLocation,
)
from services import audit
from services.catalog import get_region, is_plausible_key
from services.errors import ServiceError, flush_unique


class SalesChannelNotFound(ServiceError):
    code = "sales_channel_not_found"


class StockLocationNotFound(ServiceError):
    code = "stock_location_not_found"


async def get_sales_channel(session: AsyncSession, channel_id: str) -> SalesChannel:
    channel = await session.get(SalesChannel, channel_id) if is_plausible_key(channel_id) else None
    if channel is None:
        raise SalesChannelNotFound(f"Sales channel {channel_id!r} was not found")
    return channel


async def get_stock_location(session: AsyncSession, location_id: str) -> StockLocation:
    location = await session.get(StockLocation, location_id) if is_plausible_key(location_id) else None
    if location is None:
        raise StockLocationNotFound(f"Stock location {location_id!r} was not found")
    return location


# --- sales channels and where they ship from ------------------------------------------------


RowT = TypeVar("RowT", SalesChannel, StockLocation, Region, ShippingOption)


async def _insert(
    session: AsyncSession, row: RowT, new: StrictInput, *, taken: Mapping[str, str], actor: str
) -> RowT:
    """Insert the row made from `new` (a unique name taken: that code) and audit its creation."""
    session.add(row)
    await flush_unique(session, taken)
    await audit.record(
        session,
        actor=actor,
        entity_type=_ENTITY_TYPES[type(row)],
        entity_id=row.id,
        verb="create",
        data=new.model_dump(mode="json"),
    )
    return row


_ENTITY_TYPES: dict[type[Base], str] = {
    SalesChannel: "sales_channel",
    StockLocation: "stock_location",
    Region: "region",
    ShippingOption: "shipping_option",
}


async def create_sales_channel(session: AsyncSession, new: NewSalesChannel, *, actor: str) -> SalesChannel:
    channel = SalesChannel(id=new_id("sc"), name=new.name)
    return await _insert(
        session, channel, new, taken={"uq_sales_channels_name": "sales_channel_name_taken"}, actor=actor
    )


async def list_sales_channels(session: AsyncSession) -> Sequence[tuple[SalesChannel, str | None]]:
    """Every channel with the ID of the stock location it ships from (None until mapped)."""
    rows = await session.execute(
        select(SalesChannel, SalesChannelStockLocation.stock_location_id)
        .outerjoin(SalesChannelStockLocation)
        .order_by(SalesChannel.name)
    )
    return [(channel, location_id) for channel, location_id in rows]


async def channel_location(session: AsyncSession, channel_id: str) -> StockLocation | None:
    await get_sales_channel(session, channel_id)
    return await session.scalar(
        select(StockLocation)
        .join(SalesChannelStockLocation)
        .where(SalesChannelStockLocation.sales_channel_id == channel_id)
    )


async def set_channel_location(
    session: AsyncSession, channel_id: str, location_id: str, *, actor: str
) -> StockLocation:
    """Make `location_id` the one location the channel ships from (replacing any other).

    Checkouts already holding stock at the old location release it there when they place
    their order, and take the order's stock at the new one (or fail and void the payment).
    """
    channel = await get_sales_channel(session, channel_id)
    location = await get_stock_location(session, location_id)
    mapping = await session.get(SalesChannelStockLocation, channel.id, with_for_update=True)
    before = mapping.stock_location_id if mapping is not None else None
    if mapping is None:
        session.add(SalesChannelStockLocation(sales_channel_id=channel.id, stock_location_id=location.id))
    else:
        mapping.stock_location_id = location.id
    if before != location.id:
        await audit.record(
            session,
            actor=actor,
            entity_type="sales_channel",
            entity_id=channel.id,
            verb="set_stock_location",
            data={"stock_location_id": [before, location.id]},
        )
    await session.flush()
    return location


# --- stock locations ------------------------------------------------------------------------


async def create_stock_location(session: AsyncSession, new: NewStockLocation, *, actor: str) -> StockLocation:
    location = StockLocation(id=new_id("sloc"), name=new.name, country_code=new.country_code)
    return await _insert(
        session, location, new, taken={"uq_stock_locations_name": "stock_location_name_taken"}, actor=actor
    )


async def list_stock_locations(session: AsyncSession) -> Sequence[StockLocation]:
    return (await session.scalars(select(StockLocation).order_by(StockLocation.name))).all()


# --- regions and shipping -------------------------------------------------------------------


async def create_region(session: AsyncSession, new: NewRegion, *, actor: str) -> Region:
    """A region with its countries; a country belongs to one region only (409 `country_taken`)."""
    channel = await get_sales_channel(session, new.sales_channel_id)
    taken = (await session.scalars(select(Country.iso_2).where(Country.iso_2.in_(new.countries)))).all()
    if taken:
        raise ServiceError(
            f"Countries already in another region: {', '.join(sorted(taken))}", code="country_taken"
        )
    region = Region(
        id=new_id("reg"),
        name=new.name,
        currency_code=new.currency_code,
        tax_rate_bps=new.tax_rate_bps,
        sales_channel_id=channel.id,
    )
    await _insert(session, region, new, taken={"uq_regions_name": "region_name_taken"}, actor=actor)
    session.add_all(
        Country(iso_2=code, name=country_name(code), region_id=region.id) for code in new.countries
    )
    # A concurrent region taking one of these countries loses here, on the primary key.
    await flush_unique(session, {"pk_countries": "country_taken"})
    await session.refresh(region, ["countries"])
    return region


async def create_shipping_option(
    session: AsyncSession, new: NewShippingOption, *, actor: str
) -> ShippingOption:
    region = await get_region(session, new.region_id)
    if region is None:
        raise ServiceError(f"Region {new.region_id!r} was not found", code="region_not_found")
    if not is_payable(new.amount, region.currency_code):
        raise ServiceError(
            f"{region.currency_code} amounts must end in 0 (Stripe charges them in tens)",
            code="invalid_amount",
        )
    option = ShippingOption(id=new_id("so"), region=region, name=new.name, amount=new.amount)
    return await _insert(
        session,
        option,
        new,
        taken={"uq_shipping_options_region_id_name": "shipping_option_name_taken"},
        actor=actor,
    )


async def list_shipping_options(
    session: AsyncSession, *, region_id: str | None = None
) -> Sequence[ShippingOption]:
    query = select(ShippingOption).order_by(
        ShippingOption.region_id, ShippingOption.amount, ShippingOption.name
    )
    if region_id is not None:
        query = query.where(ShippingOption.region_id == region_id)
    return (await session.scalars(query)).all()

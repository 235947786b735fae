"""Admin API responses for the shop's setup. (The requests are domain.setup's models.)"""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.regions import CountryOut
from models import Region, SalesChannel, ShippingOption, StockLocation


class SalesChannelOut(BaseModel):
    id: str
    name: str
    # The one location the channel ships from; null until it is set.
    stock_location_id: str | None

    @classmethod
    def of(cls, channel: SalesChannel, stock_location_id: str | None) -> SalesChannelOut:
        return cls(id=channel.id, name=channel.name, stock_location_id=stock_location_id)


class SalesChannelResponse(BaseModel):
    sales_channel: SalesChannelOut


class SalesChannelListResponse(BaseModel):
    sales_channels: list[SalesChannelOut]


class StockLocationOut(BaseModel):
    id: str
    name: str
    country_code: str

    @classmethod
    def of(cls, location: StockLocation) -> StockLocationOut:
        return cls(id=location.id, name=location.name, country_code=location.country_code)


class StockLocationResponse(BaseModel):
    stock_location: StockLocationOut


class ChannelLocationResponse(BaseModel):
    # Null while the channel has none: its regions can sell nothing.
    stock_location: StockLocationOut | None


class StockLocationListResponse(BaseModel):
    stock_locations: list[StockLocationOut]


class AdminRegionOut(BaseModel):
    id: str
    name: str
    currency_code: str
    countries: list[CountryOut]
    tax_rate_bps: int
    sales_channel_id: str

    @classmethod
    def of(cls, region: Region) -> AdminRegionOut:
        return cls(
            id=region.id,
            name=region.name,
            currency_code=region.currency_code,
            countries=[CountryOut(iso_2=country.iso_2, name=country.name) for country in region.countries],
            tax_rate_bps=region.tax_rate_bps,
            sales_channel_id=region.sales_channel_id,
        )


class AdminRegionResponse(BaseModel):
    region: AdminRegionOut


class AdminRegionListResponse(BaseModel):
    regions: list[AdminRegionOut]


class AdminShippingOptionOut(BaseModel):
    id: str
    region_id: str
    name: str
    # Minor units of the region's currency.
    amount: int
    currency_code: str

    @classmethod
    def of(cls, option: ShippingOption) -> AdminShippingOptionOut:
        return cls(
            id=option.id,
            region_id=option.region_id,
            name=option.name,
            amount=option.amount,
            currency_code=option.region.currency_code,
        )


class AdminShippingOptionResponse(BaseModel):
    shipping_option: AdminShippingOptionOut


class AdminShippingOptionListResponse(BaseModel):
    shipping_options: list[AdminShippingOptionOut]

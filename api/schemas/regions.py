from __future__ import annotations

from pydantic import BaseModel

from models import Region


class CountryOut(BaseModel):
    iso_2: str
    name: str


class RegionOut(BaseModel):
    id: str
    name: str
    currency_code: str
    countries: list[CountryOut]

    @classmethod
    def from_region(cls, region: Region) -> RegionOut:
        return cls(
            id=region.id,
            name=region.name,
            currency_code=region.currency_code,
            countries=[CountryOut(iso_2=country.iso_2, name=country.name) for country in region.countries],
        )


class RegionsResponse(BaseModel):
    regions: list[RegionOut]

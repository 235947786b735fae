"""The shop's setup as the admin API and the demo seed state it: channels, locations, regions, shipping.

Pure module (pydantic, Babel; no I/O). Like domain.catalog, these models are both the admin
routes' request bodies and what services.setup takes.
"""

from __future__ import annotations

import functools
from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, Field, StringConstraints

from domain.catalog import Amount, CurrencyCode
from domain.pricing import BPS_DENOMINATOR
from domain.text import StrictInput, single_line

# Two-letter codes CLDR names that are not countries one can ship to (groupings, test codes).
_NOT_COUNTRIES = frozenset({"eu", "ez", "qo", "un", "xa", "xb", "zz"})

Name = Annotated[str, single_line(200)]
ResourceId = Annotated[str, Field(min_length=1, max_length=64)]


@functools.cache
def _country_names() -> dict[str, str]:
    # Cached on first use, not at import: Babel reads its data file here.
    territories = Locale("en").territories
    return {
        code.lower(): name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code.lower() not in _NOT_COUNTRIES
    }


def country_name(iso_2: str) -> str:
    """The English name of an ISO 3166-1 alpha-2 country code (lowercase), or ValueError."""
    name = _country_names().get(iso_2)
    if name is None:
        raise ValueError(f"unknown country code: {iso_2!r}")
    return name


def _known_country(iso_2: str) -> str:
    country_name(iso_2)
    return iso_2


CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_known_country),
]


def _distinct(codes: list[str]) -> list[str]:
    if len(set(codes)) != len(codes):
        raise ValueError("a country is listed twice")
    return codes


class NewSalesChannel(StrictInput):
    name: Name


class NewStockLocation(StrictInput):
    name: Name
    country_code: CountryCode


class ChannelLocation(StrictInput):
    """The one stock location a sales channel ships from (replaces the one it had)."""

    stock_location_id: ResourceId


class NewRegion(StrictInput):
    name: Name
    currency_code: CurrencyCode
    countries: Annotated[list[CountryCode], Field(min_length=1, max_length=250), AfterValidator(_distinct)]
    # Tax on subtotal + shipping, in basis points (2000 = 20 %); prices are tax-exclusive.
    tax_rate_bps: Annotated[int, Field(strict=True, ge=0, le=BPS_DENOMINATOR)] = 0
    sales_channel_id: ResourceId


class NewShippingOption(StrictInput):
    region_id: ResourceId
    name: Name
    # In the region's currency.
    amount: Amount

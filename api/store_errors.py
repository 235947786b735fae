"""Maps the cart service's domain errors to the API's one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.errors import APIError
from services import carts

_STATUS_BY_ERROR: dict[type[carts.CartError], int] = {
    carts.CartNotFound: 404,
    carts.RegionNotFound: 404,
    carts.VariantNotFound: 404,
    carts.LineItemNotFound: 404,
    carts.ShippingOptionNotFound: 404,
    carts.CartCompleted: 409,
    carts.InsufficientInventory: 409,
    carts.VariantNotPriced: 400,
    carts.QuantityLimitExceeded: 400,
    carts.CountryNotInRegion: 400,
    carts.InvalidShippingOption: 400,
}


def api_error_for(error: carts.CartError) -> APIError:
    # An error class added to the service without a status here is still the caller's
    # problem (4xx), not ours (500).
    status = _STATUS_BY_ERROR.get(type(error), 400)
    return APIError(status, error.code, str(error))


@contextmanager
def cart_errors_as_api_errors() -> Iterator[None]:
    try:
        yield
    except carts.CartError as error:
        raise api_error_for(error) from error

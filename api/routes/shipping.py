"""Store API: the shipping options a cart can choose from (those of its region)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.errors import error_responses, refusal
from api.schemas.shipping import ShippingOptionOut, ShippingOptionsResponse
from services import carts, catalog

router = APIRouter(prefix="/store", tags=["store: shipping"])


@router.get(
    "/shipping-options",
    response_model=ShippingOptionsResponse,
    responses=error_responses({404: refusal("No such cart", "cart_not_found")}),
)
async def list_shipping_options(
    session: SessionDep, cart_id: Annotated[str, Query(min_length=1)]
) -> ShippingOptionsResponse:
    cart = await carts.load_cart(session, cart_id)
    options = await catalog.shipping_options_for_region(session, cart.region_id)
    return ShippingOptionsResponse(
        shipping_options=[ShippingOptionOut.from_option(option, cart.currency_code) for option in options]
    )

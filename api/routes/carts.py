"""Store API: carts, their line items, details and shipping method.

Every write runs in one explicit transaction that locks the cart row (see services.carts);
the response is read back inside it, so it shows exactly the state this request wrote.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.errors import combined, error_responses, refusal
from api.request_limits import CART_CREATION
from api.schemas.carts import (
    AddLineItemRequest,
    AddShippingMethodRequest,
    CartResponse,
    CreateCartRequest,
    UpdateCartRequest,
    UpdateLineItemRequest,
    cart_response,
)
from services import carts

router = APIRouter(prefix="/store/carts", tags=["store: carts"])

_CART_NOT_FOUND = refusal("No such cart", "cart_not_found")
_CART_COMPLETED = refusal("The cart is completed and can no longer change", "cart_completed")
# Every change re-prices the cart from the catalog: a variant may have lost its price since.
_UNPRICED = refusal("A variant in the cart has no price in its currency any more", "variant_not_priced")
_ITEM_NOT_FOUND = refusal("No such line item in this cart", "line_item_not_found")
_TOO_MANY = refusal("More units on one line than a cart line holds", "quantity_limit_exceeded")
_OUT_OF_STOCK = refusal("Not enough units available", "insufficient_inventory")


async def _read_cart(session: AsyncSession, cart_id: str) -> CartResponse:
    cart = await carts.load_cart(session, cart_id)
    return cart_response(cart, await carts.cart_totals(session, cart))


@router.post(
    "",
    response_model=CartResponse,
    dependencies=[Depends(CART_CREATION)],
    responses=error_responses({404: refusal("No such region", "region_not_found")}),
)
async def create_cart(session: SessionDep, body: CreateCartRequest) -> CartResponse:
    async with session.begin():
        cart = await carts.create_cart(session, body.region_id, email=body.email)
        return await _read_cart(session, cart.id)


@router.get("/{cart_id}", response_model=CartResponse, responses=error_responses({404: _CART_NOT_FOUND}))
async def get_cart(session: SessionDep, cart_id: str) -> CartResponse:
    return await _read_cart(session, cart_id)


@router.post(
    "/{cart_id}",
    response_model=CartResponse,
    responses=error_responses(
        {
            400: combined(
                refusal("The country is not in the cart's region", "country_not_in_region"), _UNPRICED
            ),
            404: _CART_NOT_FOUND,
            409: _CART_COMPLETED,
        }
    ),
)
async def update_cart(session: SessionDep, cart_id: str, body: UpdateCartRequest) -> CartResponse:
    address = body.shipping_address.model_dump() if body.shipping_address is not None else None
    async with session.begin():
        await carts.update_cart_details(session, cart_id, email=body.email, shipping_address=address)
        return await _read_cart(session, cart_id)


@router.post(
    "/{cart_id}/line-items",
    response_model=CartResponse,
    responses=error_responses(
        {
            400: combined(
                _TOO_MANY, refusal("The variant has no price in the cart's currency", "variant_not_priced")
            ),
            404: combined(_CART_NOT_FOUND, refusal("No such (sellable) variant", "variant_not_found")),
            409: combined(_CART_COMPLETED, _OUT_OF_STOCK),
        }
    ),
)
async def add_line_item(session: SessionDep, cart_id: str, body: AddLineItemRequest) -> CartResponse:
    async with session.begin():
        await carts.add_line_item(session, cart_id, body.variant_id, body.quantity)
        return await _read_cart(session, cart_id)


@router.post(
    "/{cart_id}/line-items/{item_id}",
    response_model=CartResponse,
    responses=error_responses(
        {
            400: combined(_TOO_MANY, _UNPRICED),
            404: combined(_CART_NOT_FOUND, _ITEM_NOT_FOUND),
            409: combined(_CART_COMPLETED, _OUT_OF_STOCK),
        }
    ),
)
async def update_line_item(
    session: SessionDep, cart_id: str, item_id: str, body: UpdateLineItemRequest
) -> CartResponse:
    async with session.begin():
        await carts.update_line_item(session, cart_id, item_id, body.quantity)
        return await _read_cart(session, cart_id)


@router.delete(
    "/{cart_id}/line-items/{item_id}",
    response_model=CartResponse,
    responses=error_responses(
        {400: _UNPRICED, 404: combined(_CART_NOT_FOUND, _ITEM_NOT_FOUND), 409: _CART_COMPLETED}
    ),
)
async def remove_line_item(session: SessionDep, cart_id: str, item_id: str) -> CartResponse:
    async with session.begin():
        await carts.remove_line_item(session, cart_id, item_id)
        return await _read_cart(session, cart_id)


@router.post(
    "/{cart_id}/shipping-methods",
    response_model=CartResponse,
    responses=error_responses(
        {
            400: combined(
                refusal("The option is not one of the cart's region", "invalid_shipping_option"), _UNPRICED
            ),
            404: combined(_CART_NOT_FOUND, refusal("No such shipping option", "shipping_option_not_found")),
            409: _CART_COMPLETED,
        }
    ),
)
async def set_shipping_method(
    session: SessionDep, cart_id: str, body: AddShippingMethodRequest
) -> CartResponse:
    async with session.begin():
        await carts.set_shipping_method(session, cart_id, body.option_id)
        return await _read_cart(session, cart_id)

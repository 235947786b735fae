"""Store API: carts, their line items, details and shipping method.

Every write runs in one explicit transaction that locks the cart row (see services.carts);
the response is read back inside it, so it shows exactly the state this request wrote.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
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


async def _read_cart(session: AsyncSession, cart_id: str) -> CartResponse:
    cart = await carts.load_cart(session, cart_id)
    return cart_response(cart, await carts.cart_totals(session, cart))


@router.post("", response_model=CartResponse)
async def create_cart(session: SessionDep, body: CreateCartRequest) -> CartResponse:
    async with session.begin():
        cart = await carts.create_cart(session, body.region_id, email=body.email)
        return await _read_cart(session, cart.id)


@router.get("/{cart_id}", response_model=CartResponse)
async def get_cart(session: SessionDep, cart_id: str) -> CartResponse:
    return await _read_cart(session, cart_id)


@router.post("/{cart_id}", response_model=CartResponse)
async def update_cart(session: SessionDep, cart_id: str, body: UpdateCartRequest) -> CartResponse:
    address = body.shipping_address.model_dump() if body.shipping_address is not None else None
    async with session.begin():
        await carts.update_cart_details(session, cart_id, email=body.email, shipping_address=address)
        return await _read_cart(session, cart_id)


@router.post("/{cart_id}/line-items", response_model=CartResponse)
async def add_line_item(session: SessionDep, cart_id: str, body: AddLineItemRequest) -> CartResponse:
    async with session.begin():
        await carts.add_line_item(session, cart_id, body.variant_id, body.quantity)
        return await _read_cart(session, cart_id)


@router.post("/{cart_id}/line-items/{item_id}", response_model=CartResponse)
async def update_line_item(
    session: SessionDep, cart_id: str, item_id: str, body: UpdateLineItemRequest
) -> CartResponse:
    async with session.begin():
        await carts.update_line_item(session, cart_id, item_id, body.quantity)
        return await _read_cart(session, cart_id)


@router.delete("/{cart_id}/line-items/{item_id}", response_model=CartResponse)
async def remove_line_item(session: SessionDep, cart_id: str, item_id: str) -> CartResponse:
    async with session.begin():
        await carts.remove_line_item(session, cart_id, item_id)
        return await _read_cart(session, cart_id)


@router.post("/{cart_id}/shipping-methods", response_model=CartResponse)
async def set_shipping_method(
    session: SessionDep, cart_id: str, body: AddShippingMethodRequest
) -> CartResponse:
    async with session.begin():
        await carts.set_shipping_method(session, cart_id, body.option_id)
        return await _read_cart(session, cart_id)

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header

from api.deps import SessionDep
from api.errors import error_responses, not_found, refusal
from api.schemas.orders import OrderOut, OrderResponse
from models import Order
from services.orders import ORDER_AS_SHOWN

router = APIRouter(prefix="/store/orders", tags=["orders"])


@router.get(
    "/{order_id}",
    response_model=OrderResponse,
    responses=error_responses({404: refusal("No such order, or not its token", "order_not_found")}),
)
async def get_order(
    order_id: str, session: SessionDep, x_order_token: Annotated[str | None, Header()] = None
) -> OrderResponse:
    """The buyer's view of an order. Without the right token it does not exist (404, not 403)."""
    order = await session.get(Order, order_id, options=ORDER_AS_SHOWN)
    if (
        order is None
        or x_order_token is None
        or not hmac.compare_digest(order.access_token.encode(), x_order_token.encode())
    ):
        raise not_found("order", order_id)
    return OrderResponse(order=OrderOut.of(order))

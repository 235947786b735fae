"""Orders: placing one from an authorized checkout, finding a cart's order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order


async def order_for_cart(session: AsyncSession, cart_id: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.cart_id == cart_id))

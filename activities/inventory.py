"""Inventory activities: hold and give back the units a checkout needs."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.checkout import FailureCode, ReservationResult, ReserveInput
from services import inventory
from services.carts import CartNotFound, load_cart


class InventoryActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def reserve_cart_inventory(self, request: ReserveInput) -> ReservationResult:
        """Hold exactly the cart's quantities at its channel's location; on shortage change nothing."""
        try:
            async with self._sessionmaker() as session, session.begin():
                cart = await load_cart(session, request.cart_id, for_update=True)
                await inventory.sync_reservation(
                    session,
                    payment_intent_id=request.payment_intent_id,
                    cart_id=cart.id,
                    location_id=await inventory.location_for_channel(session, cart.sales_channel_id),
                    quantities={item.variant_id: item.quantity for item in cart.items},
                )
        except (CartNotFound, inventory.InsufficientInventory, inventory.ReservationClosed) as refused:
            # The codes are the checkout's FailureCodes: the workflow reports them as they are.
            return ReservationResult(
                reserved=False, failure_code=FailureCode(refused.code), failure_message=refused.message
            )
        return ReservationResult(reserved=True)

    @activity.defn
    async def release_cart_inventory(self, payment_intent_id: str) -> int:
        async with self._sessionmaker() as session, session.begin():
            return await inventory.release_reservation(session, payment_intent_id)

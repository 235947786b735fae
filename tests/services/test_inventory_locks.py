"""Inventory levels are locked in one order everywhere (level id), in one statement per change,
so two transactions that need the same levels queue up instead of deadlocking."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import select, text

from core.db import get_sessionmaker
from domain.ids import new_id
from models import InventoryLevel, Region, Reservation
from services.carts import create_cart
from services.inventory import sync_reservation
from tests.checkout.conftest import MakeVariant, level_of, make_variant, regions
from tests.conftest import eventually

__all__ = ["make_variant", "regions"]  # fixtures shared with the end-to-end checkout tests


async def _waits_for_a_lock(pid: asyncio.Future[int]) -> bool:
    """The connection that `pid` will name waits for a row lock."""
    if not pid.done():
        return False
    async with get_sessionmaker()() as session:
        waiting = await session.scalar(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid.result()},
        )
    return bool(waiting)


async def test_a_checkout_moving_to_a_lower_level_does_not_deadlock_with_a_transaction_locking_in_order(
    make_variant: MakeVariant, regions: dict[str, Region]
) -> None:
    # Two variants at the EU location; `low` has the lower level id.
    (low_variant, low), (high_variant, high) = sorted(
        [
            (variant_id, await level_of(variant_id))
            for variant_id in [await make_variant(stock=5) for _ in "ab"]
        ],
        key=lambda pair: pair[1].id,
    )
    payment_intent_id = new_id("pi")
    async with get_sessionmaker()() as session, session.begin():
        cart_id = (await create_cart(session, regions["eur"].id)).id

    async def reserve(quantities: Mapping[str, int], pid: asyncio.Future[int] | None = None) -> None:
        async with get_sessionmaker()() as session, session.begin():
            if pid is not None:
                pid.set_result(int(await session.scalar(text("SELECT pg_backend_pid()")) or 0))
            await sync_reservation(
                session,
                payment_intent_id=payment_intent_id,
                cart_id=cart_id,
                location_id=low.location_id,
                quantities=quantities,
            )

    await reserve({high_variant: 1})  # the checkout holds a unit at the higher level
    async with get_sessionmaker()() as other, other.begin():
        # Another transaction (an operator's adjustment, another checkout) locks the lower level...
        await other.execute(select(InventoryLevel.id).where(InventoryLevel.id == low.id).with_for_update())
        # ...as the cart changes to the lower level's variant only: its sync waits for that lock...
        pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        moving = asyncio.create_task(reserve({low_variant: 1}, pid))
        await eventually(lambda: _waits_for_a_lock(pid))
        # ...holding no level meanwhile: the other transaction takes the higher level, in order.
        await other.execute(select(InventoryLevel.id).where(InventoryLevel.id == high.id).with_for_update())
    await asyncio.wait_for(moving, timeout=30)

    async with get_sessionmaker()() as session:
        held = {
            r.inventory_level_id: r.quantity
            for r in await session.scalars(
                select(Reservation).where(Reservation.payment_intent_id == payment_intent_id)
            )
        }
    assert held == {low.id: 1}
    assert [(await level_of(v)).reserved_quantity for v in (low_variant, high_variant)] == [1, 0]

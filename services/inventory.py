"""Every inventory change goes through this module, each inside the caller's transaction.

A variant is stocked only at the location its sales channel maps to; there is no fallback to
another location. Rows are locked in a fixed order (level id) so concurrent checkouts cannot
deadlock, and the table's check constraints back every "no oversell" decision made here.

Every write of a level's `stocked_quantity` is `change_stock` (or `create_level`, which uses
it), which writes the ledger row (InventoryAdjustment) in the same transaction: a level's
stock is always the sum of its ledger's deltas.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.catalog import MAX_STOCK_QUANTITY, NewLevel
from domain.checkout import FailureCode
from domain.ids import new_id
from domain.orders.records import SYSTEM_ACTOR
from models import (
    Checkout,
    InventoryAdjustment,
    InventoryItem,
    InventoryLevel,
    ProductVariant,
    Reservation,
    StockChangeReason,
)
from services import audit
from services.catalog import Availability, is_plausible_key, stock_location_for_channel
from services.errors import ServiceError, flush_unique
from services.setup import get_stock_location


class InsufficientInventory(ServiceError):
    code = "insufficient_inventory"

    def __init__(self, variant_id: str, requested: int, available: int) -> None:
        super().__init__(f"Only {available} of variant {variant_id!r} available; {requested} requested")


class ReservationClosed(ServiceError):
    """The checkout released its stock for good: its reservation is not made again."""

    code = FailureCode.CHECKOUT_CLOSED


class LocationNotMapped(ServiceError):
    code = "location_not_mapped"


async def change_stock(
    session: AsyncSession,
    level: InventoryLevel,
    delta: int,
    reason: StockChangeReason,
    *,
    actor: str,
    note: str | None = None,
    order_id: str | None = None,
    reference: str | None = None,
) -> InventoryAdjustment:
    """Add `delta` (not 0) to the level's stock and write the ledger row for it.

    The change is one atomic `UPDATE ... SET stocked_quantity = stocked_quantity + delta
    RETURNING`, so no concurrent change is lost even where the caller did not lock the row, and
    `stocked_after` is exactly what the row holds after it. A caller that first decides whether
    the change is allowed (available stock) locks the row before deciding. With a `reference`,
    a change already written under it is not made again: its ledger row is returned.
    """
    if reference is not None:
        written = await session.scalar(
            select(InventoryAdjustment).where(InventoryAdjustment.reference == reference)
        )
        if written is not None:
            return written
    stocked_after = (
        await session.execute(
            update(InventoryLevel)
            .where(InventoryLevel.id == level.id)
            .values(stocked_quantity=InventoryLevel.stocked_quantity + delta)
            .returning(InventoryLevel.stocked_quantity)
            # The loaded `level` is set from what the database returned, not re-computed here.
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    set_committed_value(level, "stocked_quantity", stocked_after)
    adjustment = InventoryAdjustment(
        id=new_id("invadj"),
        inventory_level_id=level.id,
        delta=delta,
        reason=reason.value,
        note=note,
        actor=actor,
        order_id=order_id,
        reference=reference,
        stocked_after=stocked_after,
    )
    session.add(adjustment)
    await session.flush()
    return adjustment


async def create_level(
    session: AsyncSession,
    *,
    inventory_item_id: str,
    location_id: str,
    stocked_quantity: int,
    allow_backorder: bool,
    actor: str,
) -> InventoryLevel:
    """A new level holding `stocked_quantity`, its `initial` ledger row written (if not 0)."""
    level = InventoryLevel(
        id=new_id("ilev"),
        inventory_item_id=inventory_item_id,
        location_id=location_id,
        stocked_quantity=0,
        reserved_quantity=0,
        allow_backorder=allow_backorder,
    )
    session.add(level)
    await flush_unique(
        session, {"uq_inventory_levels_inventory_item_id_location_id": "inventory_level_exists"}
    )
    if stocked_quantity != 0:
        await change_stock(session, level, stocked_quantity, StockChangeReason.INITIAL, actor=actor)
    return level


async def location_for_channel(session: AsyncSession, sales_channel_id: str) -> str:
    location_id = await stock_location_for_channel(session, sales_channel_id)
    if location_id is None:
        raise LocationNotMapped(f"sales channel {sales_channel_id} has no stock location")
    return location_id


@dataclass(frozen=True, slots=True)
class _Locked:
    by_id: dict[str, InventoryLevel]
    # The levels of the variants asked for at the location asked for, by variant.
    by_variant: dict[str, InventoryLevel]


async def _lock_levels(
    session: AsyncSession,
    variant_ids: Collection[str] = (),
    location_id: str | None = None,
    *,
    also: Collection[str] = (),
) -> _Locked:
    """Lock the levels of these variants at this location, and the levels `also` lists, in one
    statement in id order: the one lock order of this module, so no two changes deadlock."""
    at_location = and_(InventoryItem.variant_id.in_(variant_ids), InventoryLevel.location_id == location_id)
    rows = await session.execute(
        select(InventoryLevel, InventoryItem.variant_id)
        .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
        .where(
            or_(at_location, InventoryLevel.id.in_(also))
            if location_id is not None
            else InventoryLevel.id.in_(also)
        )
        .order_by(InventoryLevel.id)
        .with_for_update(of=InventoryLevel)
        .execution_options(populate_existing=True)
    )
    locked = _Locked(by_id={}, by_variant={})
    for level, variant_id in rows:
        locked.by_id[level.id] = level
        if variant_id in variant_ids and level.location_id == location_id:
            locked.by_variant[variant_id] = level
    return locked


async def _lock_reservations(session: AsyncSession, payment_intent_id: str) -> dict[str, Reservation]:
    """The checkout's reservations, locked, by level (reservations before levels, always)."""
    return {
        r.inventory_level_id: r
        for r in await session.scalars(
            select(Reservation).where(Reservation.payment_intent_id == payment_intent_id).with_for_update()
        )
    }


def _require(level: InventoryLevel | None, variant_id: str, extra: int) -> InventoryLevel:
    """Check that `extra` more units can be taken from the level; backorders only where allowed."""
    if level is None:
        raise InsufficientInventory(variant_id, extra, 0)
    stock = Availability(
        available=max(level.stocked_quantity - level.reserved_quantity, 0),
        allow_backorder=level.allow_backorder,
    )
    if not stock.can_sell(extra):
        raise InsufficientInventory(variant_id, extra, stock.available)
    return level


async def sync_reservation(
    session: AsyncSession,
    *,
    payment_intent_id: str,
    cart_id: str,
    location_id: str,
    quantities: Mapping[str, int],
) -> None:
    """Make this checkout's reservations equal `quantities` (variant -> units). Idempotent.

    Refused once the checkout released its stock: its row's lock orders this after a release
    that came first (a cart change racing the checkout's expiry), never before it.
    """
    released = await session.scalar(
        select(Checkout.reservation_released_at)
        .where(Checkout.payment_intent_id == payment_intent_id)
        .with_for_update()
    )
    if released is not None:
        raise ReservationClosed(
            f"Checkout {payment_intent_id} has given its stock back; start a new payment session"
        )
    existing = await _lock_reservations(session, payment_intent_id)
    locked = await _lock_levels(session, set(quantities), location_id, also=existing.keys())
    levels_by_id, wanted_levels = locked.by_id, locked.by_variant

    wanted_by_level: dict[str, int] = {}
    for variant_id, quantity in sorted(quantities.items()):
        held = existing.get(wanted_levels[variant_id].id) if variant_id in wanted_levels else None
        level = _require(wanted_levels.get(variant_id), variant_id, quantity - (held.quantity if held else 0))
        wanted_by_level[level.id] = quantity
        levels_by_id[level.id] = level

    for level_id in sorted(set(existing) | set(wanted_by_level)):
        held_quantity = existing[level_id].quantity if level_id in existing else 0
        wanted = wanted_by_level.get(level_id, 0)
        levels_by_id[level_id].reserved_quantity += wanted - held_quantity
        if wanted == 0:
            await session.delete(existing[level_id])
        elif level_id in existing:
            existing[level_id].quantity = wanted
        else:
            session.add(
                Reservation(
                    id=new_id("resitem"),
                    payment_intent_id=payment_intent_id,
                    cart_id=cart_id,
                    inventory_level_id=level_id,
                    quantity=wanted,
                )
            )
    await session.flush()


async def release_reservation(session: AsyncSession, payment_intent_id: str) -> int:
    """Give back every unit this checkout holds, for good; returns how many units were released."""
    await _close_reservation(session, payment_intent_id)
    held = await _lock_reservations(session, payment_intent_id)
    if not held:
        return 0
    levels = (await _lock_levels(session, also=held.keys())).by_id
    return await _give_back(session, payment_intent_id, held, levels)


async def _close_reservation(session: AsyncSession, payment_intent_id: str) -> None:
    """Mark the checkout's reservation released for good (a later sync holds nothing); this takes
    the checkout's row lock, the first lock of every reservation change."""
    await session.execute(
        update(Checkout)
        .where(Checkout.payment_intent_id == payment_intent_id, Checkout.reservation_released_at.is_(None))
        .values(reservation_released_at=func.now())
    )


async def _give_back(
    session: AsyncSession,
    payment_intent_id: str,
    held: Mapping[str, Reservation],
    levels: Mapping[str, InventoryLevel],
) -> int:
    """Take the checkout's reservations (locked, with their levels) off the levels and delete them."""
    if not held:
        return 0
    for reservation in held.values():
        levels[reservation.inventory_level_id].reserved_quantity -= reservation.quantity
    await session.execute(delete(Reservation).where(Reservation.payment_intent_id == payment_intent_id))
    await session.flush()
    return sum(r.quantity for r in held.values())


async def fulfil_from_reservation(
    session: AsyncSession,
    *,
    payment_intent_id: str,
    order_id: str,
    location_id: str,
    quantities: Mapping[str, int],
) -> None:
    """Turn a checkout's reservation into sold stock: release what it held, then take what the order needs.

    Whatever the reservation did not cover must still be available (or backorderable) now. Each
    level's sale is one ledger row for the order, referenced by order and level, so it is never
    written twice.
    """
    # Every level this touches, the reserved and the sold, locked at once before either changes
    # (the checkout's row first, as release_reservation and sync_reservation take it).
    await _close_reservation(session, payment_intent_id)
    held = await _lock_reservations(session, payment_intent_id)
    locked = await _lock_levels(session, set(quantities), location_id, also=held.keys())
    await _give_back(session, payment_intent_id, held, locked.by_id)
    levels = locked.by_variant
    for variant_id, quantity in sorted(quantities.items()):
        level = _require(levels.get(variant_id), variant_id, quantity)
        await change_stock(
            session,
            level,
            -quantity,
            StockChangeReason.SALE,
            actor=SYSTEM_ACTOR,
            order_id=order_id,
            reference=f"{order_id}:sale:{level.id}",
        )


async def restock(
    session: AsyncSession,
    *,
    order_id: str,
    location_id: str,
    quantities: Mapping[str, int],
    reason: StockChangeReason,
    actor: str,
    reference: str,
) -> None:
    """Put units (variant -> units) back at the levels of `location_id` they left from.

    Each level's change is one ledger row under `{reference}:{level id}`, so a retried restock
    changes nothing a second time.
    """
    wanted = {variant_id: units for variant_id, units in quantities.items() if units > 0}
    levels = (await _lock_levels(session, set(wanted), location_id)).by_variant
    for variant_id, units in sorted(wanted.items()):
        level = levels.get(variant_id)
        if level is None:
            raise ServiceError(
                f"variant {variant_id} has no stock level at location {location_id}",
                code="stock_level_missing",
            )
        await change_stock(
            session,
            level,
            units,
            reason,
            actor=actor,
            order_id=order_id,
            reference=f"{reference}:{level.id}",
        )


# --- the admin side: levels as operators see them, adjustments, backorders ------------------


class LevelNotFound(ServiceError):
    code = "inventory_level_not_found"


class InsufficientStock(ServiceError):
    """A change would leave less stock than checkouts hold where backorders are off."""

    code = "insufficient_stock"


@dataclass(frozen=True, slots=True)
class LevelView:
    """A level with the variant it stocks."""

    level: InventoryLevel
    variant_id: str
    sku: str


def _levels_query() -> Select[InventoryLevel, str, str]:
    return (
        select(InventoryLevel, ProductVariant.id, ProductVariant.sku)
        .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
        .join(ProductVariant, ProductVariant.id == InventoryItem.variant_id)
    )


async def list_levels(
    session: AsyncSession,
    *,
    sku: str | None = None,
    location_id: str | None = None,
    low_stock: int | None = None,
    variant_ids: Collection[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[LevelView]:
    """Levels of live variants, by SKU then location; `low_stock`: only those with at most
    that many units available (stocked - reserved)."""
    query = _levels_query().where(ProductVariant.deleted_at.is_(None))
    if sku is not None:
        query = query.where(ProductVariant.sku == sku)
    if location_id is not None:
        query = query.where(InventoryLevel.location_id == location_id)
    if low_stock is not None:
        query = query.where(InventoryLevel.stocked_quantity - InventoryLevel.reserved_quantity <= low_stock)
    if variant_ids is not None:
        query = query.where(ProductVariant.id.in_(variant_ids))
    query = query.order_by(ProductVariant.sku, InventoryLevel.location_id).limit(limit).offset(offset)
    return [LevelView(level, variant_id, sku) for level, variant_id, sku in await session.execute(query)]


async def get_level(session: AsyncSession, level_id: str, *, for_update: bool = False) -> LevelView:
    query = _levels_query().where(InventoryLevel.id == level_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update(of=InventoryLevel)
    row = (await session.execute(query)).first() if is_plausible_key(level_id) else None
    if row is None:
        raise LevelNotFound(f"Inventory level {level_id!r} was not found")
    return LevelView(row[0], row[1], row[2])


async def adjust_level(
    session: AsyncSession, level_id: str, delta: int, *, actor: str, note: str | None = None
) -> InventoryAdjustment:
    """An operator's change of a level's stock (a delivery, a count, damage): one ledger row.

    The level is locked first, so the check against what checkouts hold and the change are
    one step: concurrent adjustments queue up and all land, none below the reservations.
    """
    level = (await get_level(session, level_id, for_update=True)).level
    stocked_after = level.stocked_quantity + delta
    if abs(stocked_after) > MAX_STOCK_QUANTITY:
        raise ServiceError(
            f"A level holds at most {MAX_STOCK_QUANTITY} units (this would make {stocked_after})",
            code="quantity_limit_exceeded",
        )
    if not level.allow_backorder and stocked_after < level.reserved_quantity:
        raise InsufficientStock(
            f"Checkouts hold {level.reserved_quantity} units and backorders are off:"
            f" stock cannot go from {level.stocked_quantity} to {stocked_after}"
        )
    return await change_stock(session, level, delta, StockChangeReason.ADJUSTMENT, actor=actor, note=note)


async def set_backorder(session: AsyncSession, level_id: str, allow: bool, *, actor: str) -> LevelView:
    view = await get_level(session, level_id, for_update=True)
    level = view.level
    if level.allow_backorder == allow:
        return view
    if not allow and level.stocked_quantity < level.reserved_quantity:
        raise InsufficientStock(
            f"The level has {level.stocked_quantity} units for {level.reserved_quantity} reserved:"
            " stock it before turning backorders off"
        )
    level.allow_backorder = allow
    await audit.record(
        session,
        actor=actor,
        entity_type="inventory_level",
        entity_id=level.id,
        verb="update",
        data={"allow_backorder": [not allow, allow]},
    )
    await session.flush()
    return view


async def ledger(session: AsyncSession, level_id: str) -> Sequence[InventoryAdjustment]:
    """Every change of the level's stock, newest first."""
    await get_level(session, level_id)
    return (
        await session.scalars(
            select(InventoryAdjustment)
            .where(InventoryAdjustment.inventory_level_id == level_id)
            .order_by(InventoryAdjustment.created_at.desc(), InventoryAdjustment.stocked_after.desc())
        )
    ).all()


async def add_level(session: AsyncSession, new: NewLevel, *, actor: str) -> InventoryLevel:
    """Stock a live variant at a location it has no level at yet (409 `inventory_level_exists`)."""
    item_id = (
        await session.scalar(
            select(InventoryItem.id)
            .join(ProductVariant, ProductVariant.id == InventoryItem.variant_id)
            .where(InventoryItem.variant_id == new.variant_id, ProductVariant.deleted_at.is_(None))
        )
        if is_plausible_key(new.variant_id)
        else None
    )
    if item_id is None:
        raise ServiceError(f"Variant {new.variant_id!r} was not found", code="variant_not_found")
    location = await get_stock_location(session, new.location_id)
    level = await create_level(
        session,
        inventory_item_id=item_id,
        location_id=location.id,
        stocked_quantity=new.stocked_quantity,
        allow_backorder=new.allow_backorder,
        actor=actor,
    )
    await audit.record(
        session,
        actor=actor,
        entity_type="inventory_level",
        entity_id=level.id,
        verb="create",
        data=new.model_dump(),
    )
    return level

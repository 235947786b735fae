"""The inventory ledger: every change of a level's stock is a row, and stock = sum(ledger)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.db import get_sessionmaker
from core.migrate import upgrade_to, upgrade_to_head
from models import InventoryAdjustment, InventoryLevel, StockChangeReason
from services.inventory import change_stock
from tests.checkout.conftest import MakeVariant, level_of, make_variant, regions
from tests.conftest import TEST_ACTOR, fresh_database

__all__ = ["make_variant", "regions"]  # fixtures shared with the end-to-end checkout tests


async def ledger_of(level_id: str) -> list[InventoryAdjustment]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(
                select(InventoryAdjustment)
                .where(InventoryAdjustment.inventory_level_id == level_id)
                .order_by(InventoryAdjustment.stocked_after)
            )
        )


@pytest.mark.usefixtures("regions")
async def test_every_level_of_the_seeded_database_is_the_sum_of_its_ledger(make_variant: MakeVariant) -> None:
    await make_variant(stock=6)
    async with get_sessionmaker()() as session:
        ledger_sums = (
            select(InventoryAdjustment.inventory_level_id, func.sum(InventoryAdjustment.delta).label("total"))
            .group_by(InventoryAdjustment.inventory_level_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(InventoryLevel.id, InventoryLevel.stocked_quantity, ledger_sums.c.total).outerjoin(
                    ledger_sums, ledger_sums.c.inventory_level_id == InventoryLevel.id
                )
            )
        ).all()

    assert len(rows) > 20  # the demo catalog's levels are among them
    assert [row for row in rows if row.stocked_quantity != (row.total or 0)] == []


async def test_a_new_level_starts_with_its_initial_row(make_variant: MakeVariant) -> None:
    level = await level_of(await make_variant(stock=9))

    [initial] = await ledger_of(level.id)

    assert (initial.reason, initial.delta, initial.stocked_after) == ("initial", 9, 9)
    assert (initial.actor, initial.order_id, initial.reference) == (TEST_ACTOR, None, None)


async def test_a_change_under_a_reference_is_made_once(make_variant: MakeVariant) -> None:
    variant_id = await make_variant(stock=5)
    level = await level_of(variant_id)

    for _ in range(2):
        async with get_sessionmaker()() as session, session.begin():
            locked = await session.get(InventoryLevel, level.id, with_for_update=True)
            assert locked is not None
            await change_stock(
                session,
                locked,
                -2,
                StockChangeReason.ADJUSTMENT,
                actor=TEST_ACTOR,
                note="two found damaged",
                reference=f"damaged:{level.id}",
            )

    assert (await level_of(variant_id)).stocked_quantity == 3
    assert [(row.reason, row.delta, row.stocked_after, row.note) for row in await ledger_of(level.id)] == [
        ("adjustment", -2, 3, "two found damaged"),
        ("initial", 5, 5, None),
    ]


async def test_concurrent_changes_are_all_applied(make_variant: MakeVariant) -> None:
    variant_id = await make_variant(stock=1)
    level = await level_of(variant_id)

    async def add_one() -> None:
        async with get_sessionmaker()() as session, session.begin():
            unlocked = await session.get(InventoryLevel, level.id)  # read without a lock, on purpose
            assert unlocked is not None
            await change_stock(session, unlocked, 1, StockChangeReason.RETURN, actor=TEST_ACTOR)

    await asyncio.gather(*(add_one() for _ in range(8)))

    assert (await level_of(variant_id)).stocked_quantity == 9
    assert [row.stocked_after for row in await ledger_of(level.id)] == list(range(1, 10))


# --- migration 0003 writes the ledger's first rows for stock that existed before it ------------


@pytest.fixture
def database_at_0002(database_url: str) -> Iterator[str]:
    """Another database on the test server, migrated only up to 0002 (before the ledger)."""
    with fresh_database(database_url, f"{make_url(database_url).database}_at_0002") as url:
        upgrade_to(url, "0002")
        yield url


def test_migration_0003_writes_an_initial_row_for_every_level_with_stock(database_at_0002: str) -> None:
    dsn = make_url(database_at_0002).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO products (id, handle, title, description, status)
                VALUES ('prod_m', 'migrated', 'Migrated', '', 'published');
            INSERT INTO product_variants (id, product_id, sku, title, rank)
                VALUES ('variant_m1', 'prod_m', 'M-1', 'One', 0), ('variant_m2', 'prod_m', 'M-2', 'Two', 1),
                       ('variant_m3', 'prod_m', 'M-3', 'Three', 2);
            INSERT INTO inventory_items (id, variant_id)
                VALUES ('iitem_m1', 'variant_m1'), ('iitem_m2', 'variant_m2'), ('iitem_m3', 'variant_m3');
            INSERT INTO stock_locations (id, name, country_code) VALUES ('sloc_m', 'Old warehouse', 'de');
            INSERT INTO inventory_levels
                (id, inventory_item_id, location_id, stocked_quantity, reserved_quantity, allow_backorder)
                VALUES ('ilev_stocked', 'iitem_m1', 'sloc_m', 7, 2, false),
                       ('ilev_backordered', 'iitem_m2', 'sloc_m', -3, 0, true),
                       ('ilev_empty', 'iitem_m3', 'sloc_m', 0, 0, false);
            """
        )

    upgrade_to_head(database_at_0002)

    with psycopg.connect(dsn) as conn:
        ledger = conn.execute(
            "SELECT inventory_level_id, delta, reason, actor, stocked_after, order_id, reference"
            " FROM inventory_adjustments ORDER BY inventory_level_id"
        ).fetchall()
        mismatched = conn.execute(
            "SELECT l.id FROM inventory_levels l LEFT JOIN inventory_adjustments a"
            " ON a.inventory_level_id = l.id GROUP BY l.id, l.stocked_quantity"
            " HAVING l.stocked_quantity <> coalesce(sum(a.delta), 0)"
        ).fetchall()
    assert ledger == [
        ("ilev_backordered", -3, "initial", "migration", -3, None, None),
        ("ilev_stocked", 7, "initial", "migration", 7, None, None),
    ]
    assert mismatched == []

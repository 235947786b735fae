"""The database knows the state machine: each status CHECK lists exactly the enum's values.
And migration 0004 brings existing orders along."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db import get_sessionmaker
from core.migrate import upgrade_to, upgrade_to_head
from domain.orders.operations import RefundReason, RefundSource
from domain.orders.records import OrderEventType
from domain.orders.statuses import (
    DisputeStatus,
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    ReturnStatus,
)
from domain.outbox import OutboxStatus
from tests.conftest import fresh_database

CHECKS = [
    ("orders", "ck_orders_status_known", OrderStatus),
    ("orders", "ck_orders_payment_status_known", PaymentStatus),
    ("orders", "ck_orders_fulfillment_status_known", FulfillmentStatus),
    ("payment_collections", "ck_payment_collections_status_known", PaymentStatus),
    ("returns", "ck_returns_status_known", ReturnStatus),
    ("refunds", "ck_refunds_status_known", RefundStatus),
    ("refunds", "ck_refunds_reason_known", RefundReason),
    ("refunds", "ck_refunds_source_known", RefundSource),
    ("disputes", "ck_disputes_status_known", DisputeStatus),
    ("order_events", "ck_order_events_type_known", OrderEventType),
    ("outbox_messages", "ck_outbox_messages_status_known", OutboxStatus),
]


@pytest.mark.parametrize(("table", "constraint", "enum"), CHECKS, ids=[c[1] for c in CHECKS])
async def test_status_check_lists_exactly_the_enums_values(
    database_url: str, table: str, constraint: str, enum: type[StrEnum]
) -> None:
    async with get_sessionmaker()() as session:
        definition = await session.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
            ),
            {"name": constraint, "table": table},
        )
    assert definition is not None, f"{constraint} is missing"
    assert set(re.findall(r"'([a-z_]+)'", definition)) == {member.value for member in enum}


@pytest.fixture
def database_at_0003(database_url: str) -> Iterator[str]:
    with fresh_database(database_url, f"{make_url(database_url).database}_at_0003") as url:
        upgrade_to(url, "0003")
        yield url


def test_migration_0004_brings_existing_orders_shipments_and_timeline_along(database_at_0003: str) -> None:
    dsn = make_url(database_at_0003).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO sales_channels (id, name) VALUES ('sc_m', 'M');
            INSERT INTO regions (id, name, currency_code, tax_rate_bps, sales_channel_id)
                VALUES ('reg_m', 'M', 'eur', 0, 'sc_m');
            INSERT INTO stock_locations (id, name, country_code) VALUES ('sloc_m', 'M', 'de');
            INSERT INTO sales_channel_stock_locations (sales_channel_id, stock_location_id)
                VALUES ('sc_m', 'sloc_m');
            INSERT INTO products (id, handle, title, description, status)
                VALUES ('prod_m', 'm', 'M', '', 'published');
            INSERT INTO product_variants (id, product_id, sku, title, rank)
                VALUES ('variant_m', 'prod_m', 'M-1', 'One', 0);
            INSERT INTO carts (id, region_id, currency_code, sales_channel_id, version)
                VALUES ('cart_a', 'reg_m', 'eur', 'sc_m', 1), ('cart_b', 'reg_m', 'eur', 'sc_m', 1);
            INSERT INTO payment_collections (id, currency_code, amount, status)
                VALUES ('paycol_a', 'eur', 5000, 'captured'), ('paycol_b', 'eur', 2500, 'captured');
            INSERT INTO orders (id, cart_id, payment_intent_id, payment_collection_id, region_id,
                sales_channel_id, currency_code, status, payment_status, fulfillment_status, subtotal,
                shipping_total, tax_total, total, access_token)
                VALUES ('order_a', 'cart_a', 'pi_a', 'paycol_a', 'reg_m', 'sc_m', 'eur', 'pending',
                        'captured', 'shipped', 5000, 0, 0, 5000, 'tok_a'),
                       ('order_b', 'cart_b', 'pi_b', 'paycol_b', 'reg_m', 'sc_m', 'eur', 'pending',
                        'captured', 'not_fulfilled', 2500, 0, 0, 2500, 'tok_b');
            INSERT INTO order_items (id, order_id, variant_id, title, sku, quantity, unit_price, subtotal)
                VALUES ('ordli_a', 'order_a', 'variant_m', 'M', 'M-1', 2, 2500, 5000),
                       ('ordli_b', 'order_b', 'variant_m', 'M', 'M-1', 1, 2500, 2500);
            INSERT INTO order_transactions
                (id, order_id, amount, currency_code, reference, reference_id, created_at)
                VALUES ('ordtxn_a', 'order_a', 5000, 'eur', 'capture', 'pi_a', now()),
                       ('ordtxn_b', 'order_b', 2500, 'eur', 'capture', 'pi_b', now());
            INSERT INTO fulfillments (id, order_id, carrier, tracking_number, shipped_at)
                VALUES ('ful_a', 'order_a', 'DHL', 'JD1', now());
            """
        )

    upgrade_to_head(database_at_0003)

    with psycopg.connect(dsn) as conn:
        orders = conn.execute(
            "SELECT id, stock_location_id, status, fulfillment_status FROM orders ORDER BY id"
        ).fetchall()
        items = conn.execute(
            "SELECT id, shipped_quantity, returned_quantity, refunded_quantity FROM order_items ORDER BY id"
        ).fetchall()
        fulfillment = conn.execute("SELECT request_id, actor FROM fulfillments").fetchall()
        shipped = conn.execute(
            "SELECT fulfillment_id, order_item_id, quantity FROM fulfillment_items"
        ).fetchall()
        events = conn.execute(
            "SELECT order_id, type, actor FROM order_events ORDER BY order_id, type"
        ).fetchall()
    assert orders == [
        ("order_a", "sloc_m", "completed", "shipped"),
        ("order_b", "sloc_m", "pending", "not_fulfilled"),
    ]
    assert items == [("ordli_a", 2, 0, 0), ("ordli_b", 0, 0, 0)]
    assert (fulfillment, shipped) == ([("legacy", "system")], [("ful_a", "ordli_a", 2)])
    assert events == [
        ("order_a", "captured", "system"),
        ("order_a", "placed", "system"),
        ("order_a", "shipped", "system"),
        ("order_b", "captured", "system"),
        ("order_b", "placed", "system"),
    ]

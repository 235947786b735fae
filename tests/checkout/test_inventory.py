"""Atomic inventory: the last unit is sold once, backorders only where allowed, no other location."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from core.stripe_gateway import retrieve_payment_intent
from domain.checkout import CheckoutStatus, FailureCode
from models import InventoryAdjustment, InventoryLevel, Region
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    buy,
    level_of,
    orders_of_cart,
    pay,
    workflow_outcome,
)


@pytest.mark.e2e
async def test_two_checkouts_race_for_the_last_unit(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=1)
    # Both carts may hold the unit: stock is taken at the payment session, not at add-to-cart.
    carts = [await shopper.cart("eur", [(variant_id, 1)]) for _ in range(2)]

    sessions = await asyncio.gather(*(shopper.payment_session(cart["id"]) for cart in carts))

    assert sorted(s.status_code for s in sessions) == [200, 409], [s.text for s in sessions]
    winner, loser = (carts[0], carts[1]) if sessions[0].status_code == 200 else (carts[1], carts[0])
    refused = sessions[1] if sessions[0].status_code == 200 else sessions[0]
    assert refused.json()["type"] == "cart"
    assert refused.json()["error"]["code"] == "insufficient_inventory"
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (1, 1)

    # The loser's PaymentIntent is canceled in Stripe: nobody can pay for a unit we do not have.
    found = await shopper.http.get(
        "/admin/checkouts", params={"cart_id": loser["id"]}, headers=admin_headers()
    )
    assert found.status_code == 200, found.text
    [loser_checkout] = found.json()["checkouts"]
    loser_final = await workflow_outcome(temporal_env, loser_checkout["payment_intent_id"])
    assert (loser_final.status, loser_final.failure_code) == (
        CheckoutStatus.FAILED,
        FailureCode.INSUFFICIENT_INVENTORY,
    )
    assert (await retrieve_payment_intent(loser_checkout["payment_intent_id"])).status == "canceled"

    winner_payment = next(s for s in sessions if s.status_code == 200).json()["payment_session"]
    await pay(winner_payment["payment_intent_id"])
    won = await shopper.complete(winner["id"])
    assert won.status_code == 200, won.text
    assert len(await orders_of_cart(winner["id"])) == 1

    lost = await shopper.complete(loser["id"])
    assert lost.status_code == 409, lost.text
    assert lost.json()["type"] == "cart"
    assert lost.json()["error"]["code"] == "insufficient_inventory"
    assert await orders_of_cart(loser["id"]) == []

    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (0, 0)


@pytest.mark.e2e
async def test_backorderable_level_sells_below_zero(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    variant_id = await make_variant(stock=0, allow_backorder=True)

    purchase = await buy(shopper, variant_id, quantity=3)

    assert purchase.order["items"][0]["quantity"] == 3
    assert purchase.order["payment_status"] == "captured"
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (-3, 0)


@pytest.mark.e2e
async def test_level_without_backorder_never_goes_negative(
    shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=2)
    cart = (await shopper.http.post("/store/carts", json={"region_id": shopper.regions["eur"].id})).json()[
        "cart"
    ]

    # The store API refuses more than there is...
    too_many = await shopper.http.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 3}
    )
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["error"]["code"] == "insufficient_inventory"

    # ...and so does the database, even for an UPDATE that bypasses the inventory module.
    level = await level_of(variant_id)
    for oversell in ({"stocked_quantity": -1}, {"reserved_quantity": 3}):
        async with get_sessionmaker()() as session:
            with pytest.raises(IntegrityError) as refused:
                async with session.begin():
                    await session.execute(
                        update(InventoryLevel).where(InventoryLevel.id == level.id).values(**oversell)
                    )
        constraint = refused.value.orig.diag.constraint_name  # type: ignore[union-attr]
        assert constraint == "ck_inventory_levels_no_oversell_without_backorder"

    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (2, 0)


@pytest.mark.e2e
async def test_no_fallback_to_another_location(
    shopper: Shopper, make_variant: MakeVariant, regions: dict[str, Region]
) -> None:
    # Stocked only at the warehouse the US region ships from.
    variant_id = await make_variant(currency="usd", stock=5)

    eu_cart = (await shopper.http.post("/store/carts", json={"region_id": regions["eur"].id})).json()["cart"]
    refused = await shopper.http.post(
        f"/store/carts/{eu_cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "insufficient_inventory"

    us_cart = (await shopper.http.post("/store/carts", json={"region_id": regions["usd"].id})).json()["cart"]
    accepted = await shopper.http.post(
        f"/store/carts/{us_cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert accepted.status_code == 200, accepted.text
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (5, 0)


@pytest.mark.e2e
async def test_a_sale_is_written_to_the_ledger_with_its_order(
    shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=5)

    purchase = await buy(shopper, variant_id, quantity=2)

    level = await level_of(variant_id)
    async with get_sessionmaker()() as session:
        ledger = list(
            await session.scalars(
                select(InventoryAdjustment)
                .where(InventoryAdjustment.inventory_level_id == level.id)
                .order_by(InventoryAdjustment.created_at)
            )
        )
    assert level.stocked_quantity == 3 == sum(row.delta for row in ledger)
    initial, sale = ledger
    assert (initial.reason, initial.delta) == ("initial", 5)
    assert (sale.reason, sale.delta, sale.stocked_after) == ("sale", -2, 3)
    assert (sale.order_id, sale.actor) == (purchase.order["id"], "system")
    assert sale.reference == f"{purchase.order['id']}:sale:{level.id}"

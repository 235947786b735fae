"""A checkout's terminal path (expiry, cancel, compensation, the order's sale) releases its stock for
good: a reservation sync that arrives afterwards (a cart change's payment session racing the
release) holds nothing, so no stock stays held by a closed checkout."""

from __future__ import annotations

from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from core.db import get_sessionmaker
from domain.checkout import CheckoutStatus, FailureCode, ReserveInput
from domain.ids import new_id
from models import Checkout, Reservation
from tests.activities.conftest import Activities
from tests.checkout.conftest import MakeVariant, Shopper, level_of


async def test_a_reservation_sync_after_the_release_holds_nothing(
    activities: Activities, shopper: Shopper, make_variant: MakeVariant
) -> None:
    env = ActivityEnvironment()
    variant_id = await make_variant(stock=5)
    cart = await shopper.cart("eur", [(variant_id, 2)])
    request = ReserveInput(payment_intent_id=new_id("pi"), cart_id=cart["id"])
    async with get_sessionmaker()() as session, session.begin():
        session.add(
            Checkout(
                payment_intent_id=request.payment_intent_id,
                cart_id=cart["id"],
                status=CheckoutStatus.AWAITING_PAYMENT.value,
                amount=cart["total"],
                currency_code="eur",
            )
        )
    assert (await env.run(activities["reserve_cart_inventory"], request)).reserved

    # The payment does not arrive in time: the checkout gives its stock back...
    assert await env.run(activities["release_cart_inventory"], request.payment_intent_id) == 2
    # ...while the shopper adds a unit, and that change's reservation sync runs only now.
    added = await shopper.http.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert added.status_code == 200, added.text
    late = await env.run(activities["reserve_cart_inventory"], request)

    assert (late.reserved, late.failure_code) == (False, FailureCode.CHECKOUT_CLOSED)
    level = await level_of(variant_id)
    assert (level.stocked_quantity, level.reserved_quantity) == (5, 0)
    async with get_sessionmaker()() as session:
        held = await session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(Reservation.payment_intent_id == request.payment_intent_id)
        )
    assert held == 0

"""payment-sessions calls Stripe with no database transaction open: no cart row lock and no pooled
connection is held while Stripe (or the network) takes its time, and concurrent calls for one cart
still converge on one PaymentIntent (Stripe's idempotency key and a compare-and-set write)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.db import get_sessionmaker
from core.stripe_gateway import get_stripe_client
from devstack.fakestripe import delay_requests
from tests.checkout.conftest import MakeVariant, Shopper
from tests.conftest import eventually

STRIPE_ANSWER_HELD_SECONDS = 3.0


async def _created_for(cart_id: str) -> list[Any]:
    """The PaymentIntents the fake Stripe has made for this cart (its answer may still be held).
    Every page: localstripe lists them oldest first."""
    found: list[Any] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = await get_stripe_client().v1.payment_intents.list_async(params)
        found += [
            intent
            for intent in page.data
            if (intent.to_dict().get("metadata") or {}).get("cart_id") == cart_id
        ]
        if not page.has_more or not page.data:
            return found
        params["starting_after"] = page.data[-1].id


async def _what_the_database_holds(cart_id: str) -> tuple[int, bool]:
    """(connections of ours idle in a transaction, whether the cart's row is locked)."""
    async with get_sessionmaker()() as session, session.begin():
        idle_in_transaction = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
        try:
            await session.execute(
                text("SELECT id FROM carts WHERE id = :id FOR UPDATE NOWAIT"), {"id": cart_id}
            )
            locked = False
        except DBAPIError:  # lock_not_available
            locked = True
    return int(idle_in_transaction or 0), locked


@pytest.mark.e2e
async def test_no_transaction_is_open_while_stripe_creates_the_payment_intent(
    shopper: Shopper, make_variant: MakeVariant, localstripe_url: str
) -> None:
    cart = await shopper.cart("eur", [(await make_variant(stock=5), 1)])
    await delay_requests(localstripe_url, "/v1/payment_intents", STRIPE_ANSWER_HELD_SECONDS)

    answer = asyncio.create_task(shopper.payment_session(cart["id"]))
    [created] = await eventually(lambda: _created_for(cart["id"]))
    # Stripe has made the PaymentIntent and its answer is on its way: the database is free.
    assert not answer.done()
    assert await _what_the_database_holds(cart["id"]) == (0, False)

    session = await answer
    assert session.status_code == 200, session.text
    assert session.json()["payment_session"]["payment_intent_id"] == created.id


@pytest.mark.e2e
async def test_concurrent_payment_sessions_for_one_cart_converge_on_one_payment_intent(
    shopper: Shopper, make_variant: MakeVariant
) -> None:
    cart = await shopper.cart("eur", [(await make_variant(stock=5), 2)])

    sessions = await asyncio.gather(*(shopper.payment_session(cart["id"]) for _ in range(5)))

    assert [s.status_code for s in sessions] == [200] * 5, [s.text for s in sessions]
    ids = {s.json()["payment_session"]["payment_intent_id"] for s in sessions}
    assert len(ids) == 1
    assert [intent.id for intent in await _created_for(cart["id"])] == list(ids)
    async with get_sessionmaker()() as session:
        rows = (
            (
                await session.execute(
                    text("SELECT payment_intent_id FROM checkouts WHERE cart_id = :id"), {"id": cart["id"]}
                )
            )
            .scalars()
            .all()
        )
    assert list(rows) == list(ids)

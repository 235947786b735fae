"""payment-sessions and complete answer within CHECKOUT_ANSWER_TIMEOUT_SECONDS when no worker runs
the checkout: 503 `checkout_pending` with Retry-After; once a worker is back, the same calls
give the real answers (the stock held, then the order)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from models import Region
from tests.checkout.conftest import (
    MakeVariant,
    OwnQueue,
    Shopper,
    level_of,
    orders_of_cart,
    pay,
)
from tests.conftest import eventually

ANSWER_WITHIN = 2.0
# The bound plus the request's own work (database, localstripe) on a loaded 2-core machine.
SLACK = 5.0


def assert_pending(answer: httpx.Response, took: float) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "checkout_pending"
    assert int(answer.headers["Retry-After"]) > 0
    assert took < ANSWER_WITHIN + SLACK, f"answered after {took:.1f} s"


@pytest.mark.e2e
async def test_without_a_worker_the_storefront_gets_a_bounded_503_then_the_real_answer(
    own_queue: Callable[..., OwnQueue], regions: dict[str, Region], make_variant: MakeVariant
) -> None:
    queue = own_queue(checkout_answer_timeout_seconds=ANSWER_WITHIN)
    variant_id = await make_variant(stock=3)
    async with queue.store() as http:
        shopper = Shopper(http=http, regions=regions)
        cart = await shopper.cart("eur", [(variant_id, 1)])

        started = time.monotonic()
        pending = await shopper.payment_session(cart["id"])
        assert_pending(pending, time.monotonic() - started)
        assert (await level_of(variant_id)).reserved_quantity == 0

        async with queue.worker():
            # The reservation asked for while no worker ran is made now; the repeat answers.
            session = await eventually(lambda: _succeeded(shopper.payment_session(cart["id"])))
        payment_intent_id = session.json()["payment_session"]["payment_intent_id"]
        assert (await level_of(variant_id)).reserved_quantity == 1

        await pay(payment_intent_id)
        started = time.monotonic()
        pending = await shopper.complete(cart["id"])
        assert_pending(pending, time.monotonic() - started)
        assert await orders_of_cart(cart["id"]) == []

        async with queue.worker():
            completed = await eventually(lambda: _succeeded(shopper.complete(cart["id"])))

    assert completed.json()["type"] == "order"
    assert [order.id for order in await orders_of_cart(cart["id"])] == [completed.json()["order"]["id"]]


async def _succeeded(call) -> httpx.Response | None:
    answer: httpx.Response = await call
    if answer.status_code == 503:
        assert answer.json()["error"]["code"] == "checkout_pending", answer.text
        return None
    assert answer.status_code == 200, answer.text
    return answer

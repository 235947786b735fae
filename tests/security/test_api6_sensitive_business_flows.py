"""API6 Unrestricted access to sensitive business flows: card testing.

A card tester wants many PaymentIntents to try stolen cards on. Each payment-sessions call can
create one (and a checkout workflow holding stock), so it is limited per address
(RATE_LIMIT_PAYMENT_SESSIONS_PER_MINUTE, 10 a minute by default): a burst past it is 429 and
makes nothing at Stripe. Retrying cards on one PaymentIntent happens between the browser and
Stripe, never through this API: there Stripe's own defences (Radar, its rate limits) apply.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import get_sessionmaker
from models import Checkout
from tests.checkout.conftest import Shopper
from tests.security.conftest import client_at, limited_app


async def test_a_burst_of_payment_sessions_from_one_address_is_throttled(
    temporal_env, running_worker, regions, make_variant
) -> None:
    app = limited_app(temporal_env.client, payment_sessions=3)
    variant = await make_variant(stock=50)
    async with client_at(app, "192.0.2.66") as http:
        shopper = Shopper(http=http, regions=regions)
        carts = [await shopper.cart("eur", [(variant, 1)]) for _ in range(5)]

        answers = [await shopper.payment_session(cart["id"]) for cart in carts]

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers[3:]} == {"rate_limited"}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers[3:])
    async with get_sessionmaker()() as session:
        made = await session.scalar(
            select(func.count()).select_from(Checkout).where(Checkout.cart_id.in_([c["id"] for c in carts]))
        )
    assert made == 3  # a PaymentIntent (and a checkout) for the calls let through only

"""When Temporal cannot take a Stripe event, the webhook answers 5xx so that Stripe delivers it again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from httpx import ASGITransport, AsyncClient

from core.settings import get_settings
from domain.ids import new_id
from tests.checkout.conftest import MakeVariant, Shopper, buy, payment_intent_event, signed
from tests.conftest import free_port


@pytest.fixture
def temporal_unreachable(monkeypatch: pytest.MonkeyPatch, localstripe_url: str) -> Iterator[str]:
    """Settings whose TEMPORAL_ADDRESS is a port nothing listens on; restored afterwards.

    (`localstripe_url` sets the webhook secret the test's event is signed with: the event is
    genuine, only its hand-over fails.)
    """
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    get_settings.cache_clear()
    try:
        yield address
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.mark.e2e
async def test_webhook_answers_503_when_temporal_is_unreachable(temporal_unreachable: str) -> None:
    from api.main import create_app

    app = create_app()
    assert app.state.temporal is None  # the API connects on first use
    assert get_settings().temporal_address == temporal_unreachable
    body, headers = signed(payment_intent_event("payment_intent.amount_capturable_updated", new_id("pi")))

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        answer = await http.post("/hooks/stripe", content=body, headers=headers)

    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "temporal_unavailable"
    assert app.state.temporal is None  # nothing half-connected is kept for the next request


@pytest.mark.e2e
async def test_a_forged_event_is_refused_before_temporal_is_even_asked(temporal_unreachable: str) -> None:
    from api.main import create_app

    body, headers = signed(
        payment_intent_event("payment_intent.amount_capturable_updated", new_id("pi")), secret="whsec_forged"
    )
    async with AsyncClient(transport=ASGITransport(app=create_app()), base_url="http://testserver") as http:
        answer = await http.post("/hooks/stripe", content=body, headers=headers)

    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_signature")


@pytest.mark.e2e
async def test_a_placed_order_is_still_answered_while_temporal_is_unreachable(
    shopper: Shopper, make_variant: MakeVariant, temporal_unreachable: str
) -> None:
    from api.main import create_app

    purchase = await buy(shopper, await make_variant(stock=2))
    async with AsyncClient(transport=ASGITransport(app=create_app()), base_url="http://testserver") as http:
        answer = await http.post(f"/store/carts/{purchase.cart['id']}/complete")

    assert answer.status_code == 200, answer.text
    assert answer.json()["order"]["id"] == purchase.order["id"]


@pytest.mark.e2e
async def test_an_event_for_a_finished_checkout_is_acknowledged_while_temporal_is_unreachable(
    shopper: Shopper, make_variant: MakeVariant, temporal_unreachable: str
) -> None:
    """The `succeeded` our own capture makes Stripe send changes nothing: the checkout's row says it
    has ended, so the event is acknowledged without a round trip to Temporal (and not redelivered)."""
    from api.main import create_app

    purchase = await buy(shopper, await make_variant(stock=2))
    body, headers = signed(payment_intent_event("payment_intent.succeeded", purchase.payment_intent_id))
    app = create_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        answer = await http.post("/hooks/stripe", content=body, headers=headers)

    assert answer.status_code == 200, answer.text
    assert answer.json()["routed"] == "closed"
    assert app.state.temporal is None  # never connected

"""Logs are JSON lines, and every line about a cart, PaymentIntent or order names it: the API's
request lines and the worker's activity and workflow lines. No personal data in any of them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.logs import bind_log_context, configure_logging, log_scope
from core.settings import Settings, get_settings
from models import Region
from tests.checkout.conftest import MakeVariant, Shopper, confirmation_tried, pay, workflow_outcome
from tests.conftest import Outgoing


@pytest.fixture
def analytics_down(outgoing: Outgoing) -> Iterator[None]:
    """PostHog fails: the worker logs the failed activity and the workflow the dropped event."""
    outgoing.fail_analytics = True
    try:
        yield
    finally:
        outgoing.fail_analytics = False


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.e2e
async def test_every_line_about_a_checkout_names_it_and_no_personal_data(
    temporal_env: WorkflowEnvironment,
    running_worker: Worker,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    analytics_down: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert get_settings().log_format == "json"  # the default outside dev
    app = create_app()  # configures the process's logging, as under uvicorn
    app.state.temporal = temporal_env.client
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http:
        shopper = Shopper(http=http, regions=regions)
        cart, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(), 1)])
        await pay(payment_intent_id)
        completed = await shopper.complete(cart["id"])
        await workflow_outcome(temporal_env, payment_intent_id)
    order_id = completed.json()["order"]["id"]
    await confirmation_tried(order_id)  # the order's workflow has logged its try of the event

    output = capsys.readouterr().out
    lines = json_lines(output)  # every line parses: JSON lines, nothing else
    requests = {line["route"]: line for line in lines if line["logger"] == "api.request"}
    assert requests["/store/carts/{cart_id}/line-items"]["cart_id"] == cart["id"]
    session_line = requests["/store/carts/{cart_id}/payment-sessions"]
    assert (session_line["cart_id"], session_line["payment_intent_id"]) == (cart["id"], payment_intent_id)
    complete_line = requests["/store/carts/{cart_id}/complete"]
    assert (complete_line["payment_intent_id"], complete_line["order_id"], complete_line["status"]) == (
        payment_intent_id,
        order_id,
        200,
    )
    # The worker's line about the event PostHog did not take (kept for the delivery Schedule).
    kept = [line for line in lines if line["message"].startswith(f"outbox message {order_id}:order_placed ")]
    assert [(line["payment_intent_id"], line["order_id"]) for line in kept] == [(payment_intent_id, order_id)]
    assert all(line["level"] and line["time"] and line["service"] == "api" for line in lines)
    for personal in ("buyer@example.com", "Harbour Street", "Hopper"):
        assert personal not in output


def test_text_format_keeps_the_ids_at_the_end_of_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="text"), service="api")
    try:
        with log_scope():
            bind_log_context(cart_id="cart_1", payment_intent_id="pi_1")
            logging.getLogger("test").warning("reserved")
        logging.getLogger("test").warning("outside any request")
    finally:
        configure_logging(get_settings(), service="api")

    first, second = capsys.readouterr().out.splitlines()
    assert first.endswith("WARNING test: reserved [payment_intent_id=pi_1 cart_id=cart_1]")
    assert second.endswith("WARNING test: outside any request")


def test_a_request_never_inherits_the_ids_of_another() -> None:
    with log_scope() as first:
        bind_log_context(order_id="order_1")
    with log_scope() as second:
        pass
    assert (dict(first), dict(second)) == ({"order_id": "order_1"}, {})

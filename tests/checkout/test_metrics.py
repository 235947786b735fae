"""GET /metrics counts what happens at the checkout: a purchase through the real stack moves the
counters by exactly its own answers."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.checkout.conftest import MakeVariant, Shopper, pay, payment_intent_event

COMPLETE_ROUTE = "/store/carts/{cart_id}/complete"


async def scrape(api_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample the API exposes, by name and labels."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{api_url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def moved(
    before: dict[tuple[str, frozenset[tuple[str, str]]], float],
    after: dict[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    labels: dict[str, str],
) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.e2e
async def test_a_checkout_moves_the_counters_by_one(
    api_url: str, shopper: Shopper, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=3)
    before = await scrape(api_url)

    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    unpaid = await shopper.complete(cart["id"])
    await pay(payment_intent_id)
    completed = await shopper.complete(cart["id"])
    after = await scrape(api_url)

    assert (unpaid.status_code, completed.status_code) == (402, 200)
    complete = {"method": "POST", "route": COMPLETE_ROUTE}  # the template, never the cart's own path
    expected = [
        ("gracestowel_payment_sessions_total", {"outcome": "created"}, 1),
        ("gracestowel_checkout_completions_total", {"result": "payment_required"}, 1),
        ("gracestowel_checkout_completions_total", {"result": "order"}, 1),
        ("gracestowel_http_requests_total", {**complete, "status": "402"}, 1),
        ("gracestowel_http_requests_total", {**complete, "status": "200"}, 1),
        ("gracestowel_http_request_duration_seconds_count", complete, 2),
    ]
    assert [moved(before, after, name, labels) for name, labels, _ in expected] == [d for *_, d in expected]
    assert not any(cart["id"] in dict(labels).get("route", "") for _, labels in after)


@pytest.mark.e2e
async def test_refusals_are_counted_by_their_code(api_url: str, shopper: Shopper) -> None:
    empty = await shopper.http.post("/store/carts", json={"region_id": shopper.regions["eur"].id})
    before = await scrape(api_url)

    refused = await shopper.payment_session(empty.json()["cart"]["id"])
    after = await scrape(api_url)

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "cart_empty")
    sessions = "gracestowel_payment_sessions_total"
    assert moved(before, after, sessions, {"outcome": "cart_empty"}) == 1
    assert moved(before, after, sessions, {"outcome": "created"}) == 0


@pytest.mark.e2e
async def test_webhook_events_are_counted_by_type_and_routing(
    api_url: str, shopper: Shopper, make_variant: MakeVariant
) -> None:
    _, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(), 1)])
    before = await scrape(api_url)

    routed = await shopper.webhook(payment_intent_event("payment_intent.processing", payment_intent_id))
    forged = await shopper.http.post("/hooks/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
    after = await scrape(api_url)

    assert (routed.status_code, forged.status_code) == (200, 400)
    events = "gracestowel_stripe_webhook_events_total"
    assert moved(before, after, events, {"type": "payment_intent.processing", "routed": "checkout"}) == 1
    assert moved(before, after, events, {"type": "unverified", "routed": "rejected"}) == 1


@pytest.mark.e2e
async def test_metrics_is_not_in_the_store_or_admin_groups(api_url: str) -> None:
    async with httpx.AsyncClient() as http:
        operation = (await http.get(f"{api_url}/openapi.json")).json()["paths"]["/metrics"]["get"]

    assert operation["tags"] == ["operations"]

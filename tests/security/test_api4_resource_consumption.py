"""API4 Unrestricted resource consumption: bounded bodies, bounded pages, bounded cart creation.

Body size: MAX_REQUEST_BODY_BYTES, 413 before the body is read whole (tests/api/test_openapi.py
sends one declared and one chunked), image uploads their own larger limit. Pages: every `limit`
and `offset` has a maximum, a larger one is 400. Per-address rate limits on cart creation and
payment-sessions (the two calls that make rows, a PaymentIntent and a workflow for anyone who
asks): 429 `rate_limited` with Retry-After, other addresses unaffected. The buckets live in each
API process: with N replicas behind a load balancer an address gets up to N times the allowance
(README "Security").
"""

from __future__ import annotations

import pytest

from api import request_limits
from api.request_limits import TokenBuckets
from core.settings import Settings
from tests.checkout.conftest import admin_headers
from tests.security.conftest import client_at, limited_app


def test_the_shop_defaults_are_a_real_shops() -> None:
    # (The suite sets its own "0" in the environment: these are the defaults a shop gets.)
    assert Settings.model_fields["rate_limit_carts_per_minute"].default == 20
    assert Settings.model_fields["rate_limit_payment_sessions_per_minute"].default == 10
    assert Settings.model_fields["max_request_body_bytes"].default == 1024 * 1024


async def test_cart_creation_is_limited_per_address(demo) -> None:
    app = limited_app(cart_creation=3)
    body = {"region_id": demo.regions["Europe"]}
    async with client_at(app, "203.0.113.7") as burst, client_at(app, "198.51.100.9") as neighbour:
        answers = [await burst.post("/store/carts", json=body) for _ in range(5)]
        other = await neighbour.post("/store/carts", json=body)

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 20  # a token every 60/3 s
    assert other.status_code == 200


def test_a_bucket_refills_at_its_rate_and_says_how_long_to_wait() -> None:
    now = [0.0]
    buckets = TokenBuckets(6, clock=lambda: now[0])  # one token every 10 s

    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == pytest.approx(10.0)
    now[0] = 5.0
    assert buckets.take("a") == pytest.approx(5.0)
    now[0] = 10.0
    assert buckets.take("a") == 0.0


def test_the_buckets_remember_a_bounded_number_of_addresses(monkeypatch) -> None:
    monkeypatch.setattr(request_limits, "MAX_TRACKED_CLIENTS", 100)
    buckets = TokenBuckets(1)

    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")

    assert len(buckets.buckets) == 100


def test_no_limit_is_no_limit() -> None:
    buckets = TokenBuckets(0)
    assert all(buckets.take("a") == 0.0 for _ in range(1000))
    assert buckets.buckets == {}


def _list_routes(document) -> list[tuple[str, int]]:
    return [
        (path, parameter["schema"]["maximum"])
        for path, operations in document["paths"].items()
        if "get" in operations and "{" not in path
        for parameter in operations["get"].get("parameters", [])
        if parameter["name"] == "limit"
    ]


async def test_a_page_larger_than_its_maximum_is_refused(client, document) -> None:
    routes = _list_routes(document)
    assert routes, "no paged list found: the check below would prove nothing"
    for path, maximum in routes:
        response = await client.get(path, params={"limit": int(maximum) + 1}, headers=admin_headers())
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request"), path


async def test_an_image_upload_may_be_larger_than_a_json_body(client) -> None:
    """The upload's own limit (MEDIA_MAX_UPLOAD_BYTES + its envelope) is the one that applies."""
    product = (await client.get("/admin/products", params={"limit": 1}, headers=admin_headers())).json()
    product_id = product["products"][0]["id"]
    two_mib = b"\x00" * (2 * 1024 * 1024)

    response = await client.post(
        f"/admin/products/{product_id}/images",
        files={"file": ("big.png", two_mib, "image/png")},
        headers=admin_headers(),
    )

    # Read whole and looked at: not an image. A JSON route refuses the same size unread (413).
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_image_type")

"""The API's Prometheus metrics, served at GET /metrics (api/routes/metrics.py).

Module-level, in prometheus_client's default registry: one set per process, whatever number of
apps it creates (tests create many). Labels are bounded sets: route templates, never raw paths;
error codes; Stripe event types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Counter, Histogram

from api.errors import APIError
from services.errors import ServiceError

HTTP_REQUESTS = Counter(
    "gracestowel_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "gracestowel_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    # Up to the storefront's bounded wait (CHECKOUT_ANSWER_TIMEOUT_SECONDS, 15 s by default).
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
PAYMENT_SESSIONS = Counter(
    "gracestowel_payment_sessions",
    "Answers of POST /store/carts/{id}/payment-sessions: `created`, or the error code"
    " (insufficient_inventory, cart_empty, checkout_pending, temporal_unavailable, ...).",
    ["outcome"],
)
CHECKOUT_COMPLETIONS = Counter(
    "gracestowel_checkout_completions",
    "Answers of POST /store/carts/{id}/complete: `order`, or why there is none"
    " (payment_required, payment_failed, checkout_expired, insufficient_inventory, checkout_pending, ...).",
    ["result"],
)
STRIPE_WEBHOOK_EVENTS = Counter(
    "gracestowel_stripe_webhook_events",
    "Stripe webhook deliveries, by event type and where they went: checkout, closed (its checkout had"
    " finished), ignored, unavailable (503, Stripe delivers again); type `unverified` when rejected.",
    ["type", "routed"],
)


@asynccontextmanager
async def counted(counter: Counter, success: str) -> AsyncIterator[None]:
    """Count a route's answer: `success`, or the code of the error it answers with.

    A decorator of the route (`@counted(PAYMENT_SESSIONS, "created")`) or an `async with` block.
    """
    try:
        yield
    except (APIError, ServiceError) as refused:
        counter.labels(refused.code).inc()
        raise
    except Exception:
        counter.labels("internal_error").inc()
        raise
    counter.labels(success).inc()

"""OWASP API Security Top 10 (2023): one module per item (README "Security")."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from api.request_limits import TokenBuckets

# Fixtures of the other suites these tests need: the demo catalog and carts (store API), the real
# stack's shopper and variants (checkout). Admin calls use the bootstrap key (ADMIN_API_TOKEN).
from tests.api.conftest import demo, new_cart  # noqa: F401
from tests.checkout.conftest import make_variant, regions, shopper  # noqa: F401

STORE_RESPONSE_TAGS = ("store", "checkout", "orders")


def limited_app(temporal_client: object | None = None, **per_minute: int) -> FastAPI:
    """The app with some per-address limits on (the suite turns them off, tests/conftest.py)."""
    app = create_app()
    app.state.temporal = temporal_client
    for name, allowance in per_minute.items():
        app.state.rate_limits[name] = TokenBuckets(allowance)
    return app


def client_at(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client calling from `address` (what the rate limits key on)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://shop", timeout=60
    )


@pytest.fixture
def document() -> Iterator[dict]:
    yield create_app().openapi()

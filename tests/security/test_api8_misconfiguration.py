"""API8 Security misconfiguration: what the API tells browsers, who may call it cross-origin,
and what production leaves out.

- CORS: only STORE_CORS_ORIGINS (dev default http://localhost:5173; comma-separated), no
  credentials; the demo shop is same-origin.
- Headers on every response (api/security.py): nosniff, no framing, no referrer; JSON answers
  no-store with a CSP that loads nothing; HSTS in production.
- Production: no /docs, /redoc or /openapi.json unless API_DOCS says so; never a traceback in
  an answer (a 500 is `internal_error`, the details go to the log). /health and /metrics stay
  public: they name no host, key, ID or personal data (README "Operating it"); keep /metrics
  off the public load balancer if its counters are not for everyone.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.main import create_app
from core.settings import Settings, get_settings

SHOP = "http://localhost:5173"


async def _preflight(client, origin: str) -> httpx.Response:
    return await client.options(
        "/store/carts",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


async def test_only_the_listed_storefront_origins_may_call_from_a_browser(client) -> None:
    allowed = await _preflight(client, SHOP)
    other = await _preflight(client, "https://evil.example")
    simple = await client.get("/store/regions", headers={"Origin": SHOP})

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    assert "Access-Control-Allow-Origin" not in other.headers
    assert simple.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in simple.headers["Access-Control-Expose-Headers"]


def test_the_origins_are_a_comma_separated_setting(monkeypatch) -> None:
    monkeypatch.setenv("STORE_CORS_ORIGINS", "https://shop.example, https://www.shop.example")
    assert Settings().store_cors_origins == ["https://shop.example", "https://www.shop.example"]
    assert Settings.model_fields["store_cors_origins"].default == [SHOP]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/store/regions"),
        ("GET", "/store/carts/cart_nope"),
        ("GET", "/nowhere"),
        ("PUT", "/store/regions"),
    ],
)
async def test_every_json_answer_has_the_security_headers(client, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "Strict-Transport-Security" not in response.headers  # dev and tests run on plain HTTP


async def test_pages_keep_the_headers_that_fit_them(client) -> None:
    shop = await client.get("/shop/")

    assert shop.status_code == 200
    assert shop.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in shop.headers  # the shop loads its scripts and Stripe.js


@pytest.fixture
def production(monkeypatch) -> Iterator[None]:
    for name, value in {
        "ENVIRONMENT": "production",
        "STRIPE_SECRET_KEY": "sk_test_not_the_dev_one",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_not_the_dev_one",
        "STRIPE_WEBHOOK_SECRET": "whsec_not_the_dev_one",
        "ADMIN_API_TOKEN": "not-the-dev-token",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_production_serves_no_docs_and_insists_on_https(production) -> None:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        docs = [await http.get(path) for path in ("/docs", "/redoc", "/openapi.json")]
        regions = await http.get("/store/regions")

    assert [r.status_code for r in docs] == [404, 404, 404]
    assert regions.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_docs_are_a_setting_off_in_production_only() -> None:
    assert Settings(environment="dev").api_docs is True
    assert Settings(environment="test").api_docs is True
    assert Settings(environment="production", api_docs=True, **_production_secrets()).api_docs is True
    assert Settings(environment="production", **_production_secrets()).api_docs is False


def _production_secrets() -> dict[str, str]:
    return {
        "database_url": "postgresql://db/shop",
        "stripe_secret_key": "sk_live_x",
        "stripe_publishable_key": "pk_live_x",
        "stripe_webhook_secret": "whsec_x",
        "admin_api_token": "x" * 40,
    }


async def test_an_unexpected_error_tells_the_client_nothing_of_it(monkeypatch, database_url) -> None:
    """A bug stands in for any bug: the catalog read raises."""
    from services import catalog

    async def broken(*args, **kwargs):
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(catalog, "list_regions", broken)
    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/store/regions")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Something went wrong on our side"}
    }

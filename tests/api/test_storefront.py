"""The storefront's server side: its static files at /shop/ and GET /store/config."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import DEV_STRIPE_PUBLISHABLE_KEY, Settings, get_settings
from domain.money import exponent

PRODUCTION_SECRETS = {
    "environment": "production",
    "database_url": "postgresql://db/gracestowel",
    "stripe_secret_key": "sk_live_real",
    "stripe_webhook_secret": "whsec_real",
    "admin_api_token": "a-long-random-token",
}


async def test_config_gives_stripe_js_and_the_decimals_of_every_currency_sold(client, demo):
    response = await client.get("/store/config")

    assert response.status_code == 200
    settings = get_settings()
    config = response.json()
    assert config["stripe"] == {
        "publishable_key": settings.stripe_publishable_key,
        "js_url": settings.stripe_js_url,
    }
    # Every currency a region sells in, once, with the money module's exponent (other tests may
    # add regions to the shared database, so the demo's are checked as a part of the list).
    currencies = {entry["currency_code"]: entry["exponent"] for entry in config["currencies"]}
    assert len(currencies) == len(config["currencies"])
    assert {"eur": 2, "jpy": 0, "usd": 2}.items() <= currencies.items()
    assert currencies == {code: exponent(code) for code in currencies}


async def test_config_is_in_the_openapi_with_its_response_model(client):
    schema = (await client.get("/openapi.json")).json()
    ok = schema["paths"]["/store/config"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StorefrontConfigResponse"
    }


async def test_the_shop_is_served_at_shop_with_javascript_modules(client):
    index = await client.get("/shop/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/app.js">' in index.text

    # Browsers run a module only when it is served as JavaScript.
    module = await client.get("/shop/js/app.js")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")

    bare = await client.get("/shop", follow_redirects=False)
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith("/shop/")


def test_stripe_js_is_localstripes_beside_a_fake_stripe_and_stripes_own_otherwise():
    fake = Settings(environment="dev", stripe_api_base="http://127.0.0.1:8420/")
    assert fake.stripe_js_url == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert Settings(environment="test", stripe_api_base=None).stripe_js_url == "https://js.stripe.com/v3/"
    production = Settings(
        **PRODUCTION_SECRETS, stripe_publishable_key="pk_live_real", stripe_api_base="http://proxy:1"
    )
    assert production.stripe_js_url == "https://js.stripe.com/v3/"


def test_production_refuses_the_dev_publishable_key():
    with pytest.raises(ValidationError, match="dev defaults for: STRIPE_PUBLISHABLE_KEY"):
        Settings(**PRODUCTION_SECRETS, stripe_publishable_key=DEV_STRIPE_PUBLISHABLE_KEY)
    assert Settings(**PRODUCTION_SECRETS, stripe_publishable_key="pk_live_real").environment == "production"


@pytest.mark.parametrize("key", ["sk_test_secret", "pk_other_x", ""])
def test_a_publishable_key_must_look_like_one(key):
    with pytest.raises(ValidationError, match="stripe_publishable_key"):
        Settings(stripe_publishable_key=key)

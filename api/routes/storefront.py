"""The demo storefront: its static files at /shop/ and the configuration its pages read.

The pages (storefront/, plain HTML, CSS and JavaScript modules) use only the public store API
and Stripe.js; `GET /store/config` tells them which Stripe.js to load, with which publishable
key, and how many decimals each currency of the store has (domain.money, Stripe's table), so
the browser formats amounts exactly as the server counts them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from starlette.staticfiles import StaticFiles

from api.deps import SessionDep, SettingsDep
from domain.money import exponent
from services import catalog

logger = logging.getLogger(__name__)

STOREFRONT_DIR = Path(__file__).resolve().parents[2] / "storefront"
SHOP_PATH = "/shop"

router = APIRouter(prefix="/store", tags=["store: storefront"])


class StripeConfigOut(BaseModel):
    publishable_key: str = Field(description="Stripe publishable key (pk_...) for Stripe.js")
    js_url: str = Field(description="Where to load Stripe.js from (localstripe's fake of it in dev)")


class CurrencyOut(BaseModel):
    currency_code: str
    exponent: int = Field(description="Decimal places of the minor unit: amount / 10**exponent is major")


class StorefrontConfigResponse(BaseModel):
    stripe: StripeConfigOut
    currencies: list[CurrencyOut] = Field(description="Every currency the store's regions sell in")


@router.get("/config", response_model=StorefrontConfigResponse)
async def storefront_config(session: SessionDep, settings: SettingsDep) -> StorefrontConfigResponse:
    """What a browser storefront needs besides the catalog: Stripe.js and the currencies' decimals."""
    codes = sorted({region.currency_code for region in await catalog.list_regions(session)})
    return StorefrontConfigResponse(
        stripe=StripeConfigOut(
            publishable_key=settings.stripe_publishable_key, js_url=settings.stripe_js_url
        ),
        currencies=[CurrencyOut(currency_code=code, exponent=exponent(code)) for code in codes],
    )


def mount_shop(app: FastAPI) -> None:
    """Serve storefront/ at /shop/ (index.html for the directory), when the checkout has it."""
    if not STOREFRONT_DIR.is_dir():
        logger.warning("no storefront at %s: /shop/ is not served", STOREFRONT_DIR)
        return
    app.mount(SHOP_PATH, StaticFiles(directory=STOREFRONT_DIR, html=True), name="shop")

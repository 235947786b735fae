"""The FastAPI application: store API, admin API and the Stripe webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import admin, carts, checkout, health, orders, products, regions, shipping, webhooks
from core.db import get_engine
from core.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    get_settings()  # fail fast on bad or unsafe configuration
    yield
    await get_engine().dispose()


def create_app() -> FastAPI:
    app = FastAPI(
        title="Grace's Towel",
        version="0.1.0",
        summary="Store API, admin API and Stripe webhook. Money is integer minor units + currency_code.",
        lifespan=lifespan,
    )
    # The Temporal client connects on first use (api.deps.get_temporal); tests may inject one.
    app.state.temporal = None
    install_error_handlers(app)
    for module in (health, regions, products, carts, shipping, checkout, orders, webhooks, admin):
        app.include_router(module.router)
    return app


app = create_app()

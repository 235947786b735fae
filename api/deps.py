"""FastAPI dependencies: database session, Temporal client, admin auth."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import APIError, temporal_unavailable
from core.db import get_sessionmaker
from core.settings import Settings, get_settings
from core.temporal import connect_temporal


async def get_session() -> AsyncIterator[AsyncSession]:
    async with get_sessionmaker()() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    """One client per process, connected on first use so the API can start before Temporal."""
    client: Client | None = getattr(request.app.state, "temporal", None)
    if client is None:
        try:
            client = await connect_temporal()
        except Exception as exc:
            raise temporal_unavailable() from exc
        request.app.state.temporal = client
    return client


def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    expected = f"Bearer {settings.admin_api_token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise APIError(401, "unauthorized", "A valid admin bearer token is required")


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AdminDep = Depends(require_admin)

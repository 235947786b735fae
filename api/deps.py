"""FastAPI dependencies: database session, Temporal client, settings, media store, and who calls
the admin API.

Every admin route declares the role it needs with one of ViewerDep, SupportDep or AdminDep as
its first parameter: `principal: ViewerDep` answers 401 `unauthorized` without a known key
(missing, unknown or revoked), 403 `forbidden` when the key's role is too low, and otherwise
gives the route the caller. Keys are looked up on every request (services.api_keys), so a
revocation holds from the next request on; `ADMIN_API_TOKEN` is the bootstrap admin key.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import APIError, temporal_unavailable
from core.db import get_sessionmaker
from core.media import MediaStore
from core.settings import Settings, get_settings
from core.temporal import connect_temporal
from domain.roles import Role
from services import api_keys


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


def get_media(request: Request) -> MediaStore:
    """The app's media store (api.main makes it once: local directory or S3/R2)."""
    media: MediaStore = request.app.state.media
    return media


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MediaDep = Annotated[MediaStore, Depends(get_media)]


@dataclass(frozen=True)
class Principal:
    """The caller of an admin route: its key's name (the actor of what it changes) and role."""

    name: str
    role: Role


# ADMIN_API_TOKEN: the admin key of a fresh installation (and of `make dev`).
BOOTSTRAP_PRINCIPAL = Principal(name="bootstrap", role=Role.ADMIN)
_BEARER = "Bearer "


async def _principal_of(settings: Settings, authorization: str | None) -> Principal | None:
    if authorization is None or not authorization.startswith(_BEARER):
        return None
    secret = authorization.removeprefix(_BEARER)
    if hmac.compare_digest(secret.encode(), settings.admin_api_token.get_secret_value().encode()):
        return BOOTSTRAP_PRINCIPAL
    # Its own short transaction: the route's session is the route's to begin.
    async with get_sessionmaker()() as session, session.begin():
        key = await api_keys.authenticate(session, secret)
    return None if key is None else Principal(name=key.name, role=Role(key.role))


class RoleGuard:
    """The dependency behind ViewerDep, SupportDep and AdminDep: the caller, if its role suffices."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(
        self, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
    ) -> Principal:
        principal = await _principal_of(settings, authorization)
        if principal is None:
            raise APIError(401, "unauthorized", "A valid admin bearer token is required")
        if not principal.role.allows(self.role):
            raise APIError(403, "forbidden", f"This needs an admin key with the {self.role} role")
        return principal


ViewerDep = Annotated[Principal, Depends(RoleGuard(Role.VIEWER))]
SupportDep = Annotated[Principal, Depends(RoleGuard(Role.SUPPORT))]
AdminDep = Annotated[Principal, Depends(RoleGuard(Role.ADMIN))]

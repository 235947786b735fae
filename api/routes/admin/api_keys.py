"""Admin API: named keys with a role. Managing them is the admin role's; a secret is shown once."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, SessionDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_access import ApiKeyListResponse, ApiKeyOut, ApiKeyResponse, CreatedApiKeyResponse
from domain.roles import NewApiKey
from services import api_keys

router = APIRouter(tags=["admin: access"])


@router.post(
    "/api-keys",
    response_model=CreatedApiKeyResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + " (names the system uses are reserved)",
            409: "The name is taken (`api_key_name_taken`)",
        }
    ),
)
async def create_key(principal: AdminDep, session: SessionDep, body: NewApiKey) -> CreatedApiKeyResponse:
    """A key for `name` with `role`; its secret is in this answer only, never again."""
    async with session.begin():
        issued = await api_keys.create_key(session, body, actor=principal.name)
    return CreatedApiKeyResponse(api_key=ApiKeyOut.of(issued.key), secret=issued.secret)


@router.get("/api-keys", response_model=ApiKeyListResponse)
async def list_keys(principal: AdminDep, session: SessionDep) -> ApiKeyListResponse:
    """Every key, revoked ones too (never a secret)."""
    return ApiKeyListResponse(api_keys=[ApiKeyOut.of(key) for key in await api_keys.list_keys(session)])


@router.post(
    "/api-keys/{key_id}/revoke",
    response_model=ApiKeyResponse,
    responses=error_responses({404: "No such key (`api_key_not_found`)"}),
)
async def revoke_key(principal: AdminDep, session: SessionDep, key_id: str) -> ApiKeyResponse:
    """Revoke the key: refused (401) from its next request on. Revoking it again changes nothing."""
    async with session.begin():
        key = await api_keys.revoke_key(
            session, await api_keys.find_key(session, key_id=key_id), actor=principal.name
        )
    return ApiKeyResponse(api_key=ApiKeyOut.of(key))

"""Admin API: the audit log of catalog, setup and key changes (stock changes: the levels' ledgers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, ViewerDep
from api.errors import INVALID_REQUEST, error_responses
from api.schemas.admin_access import AuditEntryOut, AuditLogResponse
from services import audit

router = APIRouter(tags=["admin: access"])


@router.get("/audit-log", response_model=AuditLogResponse, responses=error_responses({400: INVALID_REQUEST}))
async def list_entries(
    principal: ViewerDep,
    session: SessionDep,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> AuditLogResponse:
    """Who changed what, newest first; filter by the entity, its type or the actor (a key's name)."""
    entries = await audit.entries(
        session, entity_id=entity_id, entity_type=entity_type, actor=actor, limit=limit, offset=offset
    )
    return AuditLogResponse(
        entries=[AuditEntryOut.of(entry) for entry in entries], limit=limit, offset=offset
    )

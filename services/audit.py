"""The audit log: every catalog, setup and key change an actor makes, in the change's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from models import AuditLogEntry


async def record(
    session: AsyncSession, *, actor: str, entity_type: str, entity_id: str, verb: str, data: dict[str, Any]
) -> AuditLogEntry:
    """Write who did what (`{entity_type}.{verb}`) to which entity; `data` must be JSON."""
    entry = AuditLogEntry(
        id=new_id("audit"),
        actor=actor,
        action=f"{entity_type}.{verb}",
        entity_type=entity_type,
        entity_id=entity_id,
        data=data,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession,
    *,
    entity_id: str | None = None,
    entity_type: str | None = None,
    actor: str | None = None,
    limit: int,
    offset: int = 0,
) -> Sequence[AuditLogEntry]:
    """Newest first."""
    query = select(AuditLogEntry).order_by(AuditLogEntry.created_at.desc(), AuditLogEntry.id.desc())
    for column, value in (
        (AuditLogEntry.entity_id, entity_id),
        (AuditLogEntry.entity_type, entity_type),
        (AuditLogEntry.actor, actor),
    ):
        if value is not None:
            query = query.where(column == value)
    return (await session.scalars(query.limit(limit).offset(offset))).all()

"""Admin API responses for keys and the audit log: who may do what, and who did what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from models import ApiKey, AuditLogEntry


class ApiKeyOut(BaseModel):
    """A key as it is listed: never its secret, only the secret's first characters."""

    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls.model_validate(key, from_attributes=True)


class ApiKeyResponse(BaseModel):
    api_key: ApiKeyOut


class CreatedApiKeyResponse(BaseModel):
    api_key: ApiKeyOut
    # Shown here only, once: store it now (Authorization: Bearer <secret>).
    secret: str


class ApiKeyListResponse(BaseModel):
    api_keys: list[ApiKeyOut]


class AuditEntryOut(BaseModel):
    id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditLogEntry) -> AuditEntryOut:
        return cls.model_validate(entry, from_attributes=True)


class AuditLogResponse(BaseModel):
    entries: list[AuditEntryOut]
    limit: int
    offset: int

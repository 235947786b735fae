"""The audit log: who changed what in the catalog, the shop's setup and its keys, and when.

Stock changes are in the inventory ledger (inventory_adjustments) and order changes on the
order's timeline; everything else an admin key changes is a row here, written in the same
transaction as the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuditLogEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The admin key's name (or `seed`, `cli`).
    actor: Mapped[str] = mapped_column(String(200))
    # `<entity_type>.<verb>`, e.g. `product.create`, `variant.update`.
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    # What changed: the new values, or {field: [before, after]} for an update.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )

"""Named admin API keys with a role. Only a hash of the secret is stored: it cannot be shown again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from domain.roles import Role
from models.base import Base


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ({})".format(", ".join(f"'{role}'" for role in Role)), name="role_known"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The actor of everything the key changes; unique for good (a revoked key keeps its name),
    # so a name in the ledger or the audit log always means one key.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    # SHA-256 (hex) of the secret: enough for a 256-bit random secret, which cannot be guessed.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, not secret, to tell keys apart in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""Roles of admin API keys. Each role may do everything the roles below it may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    # Lowest first: the order is the hierarchy (admin ⊇ support ⊇ viewer).
    VIEWER = "viewer"
    SUPPORT = "support"
    ADMIN = "admin"

    def allows(self, required: Role) -> bool:
        """Whether a key with this role may do what `required` may."""
        ranks = list(Role)
        return ranks.index(self) >= ranks.index(required)

"""Roles of admin API keys. Each role may do everything the roles below it may."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from domain.text import StrictInput, single_line


class Role(StrEnum):
    # Lowest first: the order is the hierarchy (admin ⊇ support ⊇ viewer).
    VIEWER = "viewer"
    SUPPORT = "support"
    ADMIN = "admin"

    def allows(self, required: Role) -> bool:
        """Whether a key with this role may do what `required` may."""
        ranks = list(Role)
        return ranks.index(self) >= ranks.index(required)


# Names the system itself writes as the actor of a change: no key may take one.
RESERVED_ACTOR_NAMES = frozenset({"bootstrap", "cli", "migration", "seed", "system"})


class NewApiKey(StrictInput):
    name: Annotated[str, single_line(100)]
    role: Annotated[Role, Field(strict=False)]

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_ACTOR_NAMES:
            raise ValueError(f"{name!r} is reserved for changes the system makes")
        return name

"""The one error type of services/: a refusal the caller can act on, named by a stable code.

The API maps codes to HTTP statuses in one table (api/errors.py); an activity turns one into a
non-retryable ApplicationError whose type is the code (activities/errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


class ServiceError(Exception):
    """A refusal: the request cannot succeed as it is, so retrying it unchanged cannot help."""

    code: str = "invalid_request"
    # Fields an API error body carries next to `error` (e.g. the checkout contract's `type`).
    extra: ClassVar[Mapping[str, str]] = {}

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = str(code)
        self.details = details


async def flush_unique(session: AsyncSession, conflicts: Mapping[str, str]) -> None:
    """Flush; a unique violation of a constraint in `conflicts` (its name -> code) is that refusal.

    The database decides, so two concurrent requests for one SKU or handle cannot both win.
    The caller's transaction is then rolled back with everything else it wrote.
    """
    try:
        await session.flush()
    except IntegrityError as exc:
        diagnostic = getattr(exc.orig, "diag", None)
        code = conflicts.get(getattr(diagnostic, "constraint_name", None) or "")
        if code is None:
            raise
        # PostgreSQL's detail names the value: 'Key (sku)=(GT-1) already exists.'
        raise ServiceError(
            getattr(diagnostic, "message_detail", None) or "Already exists", code=code
        ) from exc

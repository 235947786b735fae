"""Building blocks shared by the store API's request and response models."""

from __future__ import annotations

from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from domain.text import WHOLE_NUMBER, single_line
from models.cart import MAX_LINE_QUANTITY


class RequestModel(BaseModel):
    """Base of every request body: no unknown fields, no type coercion ("2" is not 2)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Format is checked by the lookup (an impossible ID is simply not found, 404).
ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# Printable, trimmed, not blank (NUL and friends are never meant in a name or address, and
# PostgreSQL refuses NUL).
ShortText = Annotated[str, single_line(200)]
PostalCode = Annotated[str, single_line(20)]


def _special_use_domains() -> str:
    # email-validator refuses addresses at these (RFC 6761) names; the schema says so.
    labels = "|".join("".join(f"[{c}{c.upper()}]" for c in name) for name in SPECIAL_USE_DOMAIN_NAMES)
    return rf"^(?!.*@(?:.*\.)?(?:{labels})\.?$).*$"


Email = Annotated[EmailStr, Field(json_schema_extra={"pattern": _special_use_domains()})]

Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_LINE_QUANTITY), WHOLE_NUMBER]


class MoneyOut(BaseModel):
    """An amount in minor units of the currency (cents, or whole yen for jpy)."""

    amount: int
    currency_code: str

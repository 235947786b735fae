"""Building blocks shared by the store API's request and response models."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from models.cart import MAX_LINE_QUANTITY


class RequestModel(BaseModel):
    """Base of every request body: no unknown fields, no type coercion ("2" is not 2)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _no_control_characters(value: str) -> str:
    # NUL and friends are never meant in a name or address, and PostgreSQL refuses NUL.
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not contain control characters")
    return value


# Format is checked by the lookup (an impossible ID is simply not found, 404).
ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=200)]

ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
]

PostalCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(_no_control_characters),
]

Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_LINE_QUANTITY)]


class MoneyOut(BaseModel):
    """An amount in minor units of the currency (cents, or whole yen for jpy)."""

    amount: int
    currency_code: str

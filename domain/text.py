"""Text the admin and store APIs accept: bounded, printable, and stated in the OpenAPI schema.

A fuzz run shipped orders with the carrier "\\x1e": free text must refuse control characters
(C0, DEL and C1). The rules are regex patterns on the field, so the schema tells clients
exactly what is accepted and a schema-valid value is never refused by the code.

    class Shipment(BaseModel):
        carrier: Annotated[str, single_line(100)]           # 1..100 printable characters, trimmed
        note: Annotated[str, multi_line(1000)] | None = None  # tabs and newlines allowed

Pure module (pydantic only) so workflow inputs can use these types too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, StringConstraints
from pydantic_core import PydanticCustomError, core_schema

# No C0 controls, DEL or C1 controls anywhere.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
# Multi-line text may also hold tab, line feed and carriage return.
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# What str.strip() removes that is not a control character: a value needs one character that is
# neither, so it is not empty once trimmed. (Spelled out: `\s` differs between regex engines.)
_SPACES = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SINGLE_LINE_NONBLANK_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f" + _SPACES + r"][^\x00-\x1f\x7f-\x9f]*$"
)
MULTI_LINE_NONBLANK_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f"
    + _SPACES
    + r"][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)
# URL slugs: lowercase words joined by single hyphens (`classic-bath-towel`).
HANDLE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# Stock keeping units: letters, digits and . _ - (`GT-OBS-MOSS`), starting with a letter or digit.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Trimmed:
    """Text checked as sent (length, pattern: what the schema states), then trimmed.

    Checking after trimming would accept what the schema refuses (a leading control character
    that counts as whitespace, a value too long only by its spaces)."""

    def __init__(self, *, pattern: str, max_length: int, min_length: int = 0) -> None:
        self.constraints = {"pattern": pattern, "max_length": max_length, "min_length": min_length}

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            str.strip,
            core_schema.str_schema(**self.constraints),  # type: ignore[arg-type]
        )


def single_line(max_length: int, *, min_length: int = 1) -> Trimmed:
    """One line of printable text of at most `max_length` characters, trimmed; not blank unless
    `min_length` is 0."""
    pattern = SINGLE_LINE_NONBLANK_PATTERN if min_length else SINGLE_LINE_PATTERN
    return Trimmed(pattern=pattern, max_length=max_length, min_length=min(min_length, 1))


def multi_line(max_length: int, *, min_length: int = 1) -> Trimmed:
    """Printable text that may span lines (tab, LF, CR), trimmed."""
    pattern = MULTI_LINE_NONBLANK_PATTERN if min_length else MULTI_LINE_PATTERN
    return Trimmed(pattern=pattern, max_length=max_length, min_length=min(min_length, 1))


def _whole_number(value: Any) -> Any:
    # JSON Schema's `integer` includes 12.0 (a number with no fraction), so it is accepted as 12.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The refusals of a value the schema allows but a rule across fields forbids (JSON Schema cannot
# say "one price per currency"): their own code, `invalid_combination`, never `invalid_request`,
# so a request the schema allows is never refused for its shape (the fields' descriptions and
# the routes' documented 400s say these rules in words).
INVALID_COMBINATION = "invalid_combination"


def invalid_combination(message: str) -> PydanticCustomError:
    return PydanticCustomError(INVALID_COMBINATION, message)


# Last in an int's Annotated (after its Field, so the schema keeps minimum and maximum): a JSON
# integer, 12.0 included; never 12.5, "12" or true (the models are strict).
WHOLE_NUMBER = BeforeValidator(_whole_number)


Handle = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=HANDLE_PATTERN)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SKU_PATTERN)]


class StrictInput(BaseModel):
    """Base of every admin input: no unknown fields, no type coercion ("12" is not 12, nor 12.0)."""

    model_config = ConfigDict(extra="forbid", strict=True)

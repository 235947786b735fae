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

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# No C0 controls, DEL or C1 controls anywhere.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
# Multi-line text may also hold tab, line feed and carriage return.
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# URL slugs: lowercase words joined by single hyphens (`classic-bath-towel`).
HANDLE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# Stock keeping units: letters, digits and . _ - (`GT-OBS-MOSS`), starting with a letter or digit.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def single_line(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """One line of printable text, trimmed, of `min_length`..`max_length` characters."""
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=SINGLE_LINE_PATTERN
    )


def multi_line(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """Printable text that may span lines (tab, LF, CR), trimmed."""
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=MULTI_LINE_PATTERN
    )


Handle = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=HANDLE_PATTERN)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SKU_PATTERN)]


class StrictInput(BaseModel):
    """Base of every admin input: no unknown fields, no type coercion ("12" is not 12, nor 12.0)."""

    model_config = ConfigDict(extra="forbid", strict=True)

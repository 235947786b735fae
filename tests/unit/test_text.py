"""Admin and store text fields: printable, bounded, and the schema says so."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from domain.text import SINGLE_LINE_NONBLANK_PATTERN, Handle, Sku, multi_line, single_line


class Form(BaseModel):
    carrier: Annotated[str, single_line(10)]
    note: Annotated[str, multi_line(50)] | None = None
    handle: Handle = "bath-towel"
    sku: Sku = "GT-OBS-MOSS"


@pytest.mark.parametrize("carrier", ["\x1e", "DH\x00L", "DH\x7fL", "DH\x85L", "DH\nL", "DH\tL", "", "   "])
def test_single_line_text_refuses_control_characters_and_blanks(carrier: str) -> None:
    with pytest.raises(ValidationError):
        Form(carrier=carrier)


def test_single_line_text_is_trimmed_and_bounded() -> None:
    assert Form(carrier="  DHL  ").carrier == "DHL"
    assert Form(carrier="é" * 10).carrier == "é" * 10
    with pytest.raises(ValidationError):
        Form(carrier="x" * 11)


def test_multi_line_text_keeps_newlines_and_tabs_but_no_other_controls() -> None:
    assert Form(carrier="DHL", note="line one\n\tline two\r\n").note == "line one\n\tline two"
    with pytest.raises(ValidationError):
        Form(carrier="DHL", note="bell\x07")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("handle", "Bath-Towel"),
        ("handle", "bath--towel"),
        ("handle", "-bath"),
        ("sku", "-GT"),
        ("sku", "GT OBS"),
    ],
)
def test_handles_and_skus_have_a_documented_character_set(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Form(carrier="DHL", **{field: value})


def test_the_schema_states_the_rules() -> None:
    carrier = Form.model_json_schema()["properties"]["carrier"]
    assert (carrier["minLength"], carrier["maxLength"]) == (1, 10)
    assert carrier["pattern"] == SINGLE_LINE_NONBLANK_PATTERN


@pytest.mark.parametrize(
    "carrier",
    ["DHL", " DHL ", "\u00a0DHL", "D H L", "é" * 10, "   ", "\x85DHL", "\x1eDHL", "DHL" + " " * 8, ""],
)
def test_the_schema_and_the_model_agree_on_every_value(carrier: str) -> None:
    """What the pattern and lengths allow is accepted as sent and trimmed; nothing else is."""
    schema = Form.model_json_schema()["properties"]["carrier"]
    allowed = (
        bool(re.match(schema["pattern"], carrier))
        and schema["minLength"] <= len(carrier) <= schema["maxLength"]
    )
    try:
        assert Form(carrier=carrier).carrier == carrier.strip()
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == allowed

"""Schemathesis extensions for `make fuzz` (loaded through fuzz/schemathesis.toml).

- `schema_valid_input_accepted`: a request the schema allows is never refused for its shape
  (400 `invalid_request` or `invalid_json`). Refusals of valid input by the shop's state or
  rules keep their own codes (`cart_empty`, `variant_options_mismatch`, 402, 409, ...), which
  is why positive_data_acceptance is told to expect 400, 402 and 415 in the config.
  Rules JSON Schema cannot state (one price per currency, ...) have codes of their own too
  (`invalid_combination`, `name_reserved`).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

SHAPE_REFUSALS = frozenset({"invalid_request", "invalid_json"})


@schemathesis.check
def schema_valid_input_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    if case.meta is None or case.meta.generation.mode.is_negative or response.status_code != 400:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    if code in SHAPE_REFUSALS:
        raise AssertionError(f"A request the schema allows was refused for its shape: {response.text[:1000]}")
    return True

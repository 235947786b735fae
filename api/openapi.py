"""The OpenAPI document as the API really answers.

FastAPI documents a 422 it never sends (api/errors.py answers bad input with 400) and knows
nothing of what the app's machinery answers on every route of a kind. Once the document is
generated, for every operation:

- 422 goes; the machinery's refusals come in, derived from the route itself (`machine_refusals`):
  400 for path, query or body input, 413 and 415 for a body, 401/403 behind a RoleGuard, 429
  behind a RateLimit, 503 for a route that depends on the Temporal client;
- every string parameter of the path or query says it holds no NUL (`refuse_nul`);
- every error response lists its codes (`x-error-codes`, from api.errors.error_response) and its
  schema is ErrorResponse with `error.code` restricted to them, so a client, and the fuzzer
  (`make fuzz`), can check each answer against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import TypeAdapter

from api.deps import RoleGuard, get_temporal
from api.errors import (
    ERROR_CODES,
    RETRY_AFTER_HEADER,
    APIError,
    ErrorResponse,
    Refusal,
    error_response,
    refusal,
)
from api.request_limits import RateLimit

_REF_TEMPLATE = "#/components/schemas/{model}"
# No path or query value may hold NUL (PostgreSQL cannot store or compare it): refused by
# `refuse_nul`, stated on every string parameter that has no pattern of its own.
NO_NUL_PATTERN = r"^[^\x00]*$"
# FastAPI's models for the 422 it documents and we never answer.
_UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every path operation the app serves and documents (included routers expanded)."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            yield route


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def body_media_type(route: RouteContext) -> str | None:
    body = route.body_field
    return None if body is None else str(getattr(body.field_info, "media_type", "application/json"))


def machine_refusals(route: RouteContext) -> dict[int, Refusal]:
    """What the app answers on this route before, or around, the route's own code runs."""
    dependant: Dependant = route.dependant
    calls = list(_calls(dependant))
    media_type = body_media_type(route)
    refusals: dict[int, Refusal] = {}
    if media_type is not None or dependant.path_params or dependant.query_params:
        codes = (
            ("invalid_request", "invalid_json") if media_type == "application/json" else ("invalid_request",)
        )
        refusals[400] = refusal("The request is not valid; `details` name the fields", *codes)
    if any(isinstance(call, RoleGuard) for call in calls):
        refusals[401] = refusal("No valid admin key", "unauthorized")
        refusals[403] = refusal("The key's role does not allow this", "forbidden")
    if media_type is not None:
        refusals[413] = refusal("The body is larger than the limit", "payload_too_large")
        refusals[415] = refusal(f"The body is not sent as {media_type}", "unsupported_media_type")
    if any(isinstance(call, RateLimit) for call in calls):
        refusals[429] = refusal("Too many requests from this address", "rate_limited")
    if get_temporal in calls:
        refusals[503] = refusal("Temporal is not reachable", "temporal_unavailable")
    return refusals


_HEADERS_BY_STATUS = {429: RETRY_AFTER_HEADER, 503: RETRY_AFTER_HEADER}


def _merge(responses: dict[str, Any], status: int, added: Refusal) -> None:
    existing = responses.get(str(status))
    if existing is None:
        entry = error_response(added)
        entry.pop("model")
        responses[str(status)] = entry
    else:
        codes = list(existing.get(ERROR_CODES, []))
        new = [code for code in added.codes if code not in codes]
        existing[ERROR_CODES] = codes + new
        if new:
            existing["description"] += "; " + added.description + ": " + ", ".join(f"`{c}`" for c in new)
    if status in _HEADERS_BY_STATUS:
        responses[str(status)].setdefault("headers", {}).update(_HEADERS_BY_STATUS[status])


def _error_schema(codes: list[str]) -> dict[str, Any]:
    return {
        "allOf": [{"$ref": _REF_TEMPLATE.format(model="ErrorResponse")}],
        "properties": {
            "error": {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}}
        },
    }


def _ensure_error_model(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" in schemas:
        return
    schema = TypeAdapter(ErrorResponse).json_schema(ref_template=_REF_TEMPLATE)
    schemas.update(schema.pop("$defs", {}))
    schemas["ErrorResponse"] = schema


def tell_the_truth(document: dict[str, Any], app: FastAPI) -> None:
    """Rewrite `document` (FastAPI's, for `app`) in place as described in the module docstring."""
    _ensure_error_model(document)
    for route in api_routes(app):
        refusals = machine_refusals(route)
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path][method.lower()]
            _state_no_nul(operation)
            responses = operation["responses"]
            responses.pop("422", None)
            for status, added in sorted(refusals.items()):
                _merge(responses, status, added)
            for response in responses.values():
                if ERROR_CODES in response:
                    response["content"] = {
                        "application/json": {"schema": _error_schema(response[ERROR_CODES])}
                    }
    schemas = document["components"]["schemas"]
    for name in _UNUSED_SCHEMAS:
        schemas.pop(name, None)


async def refuse_nul(request: Request) -> None:
    """An app-wide dependency: a path or query value with NUL is invalid input, before any lookup."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(value) for value in values):
        raise APIError(400, "invalid_request", "A path or query value holds a NUL character")


def _state_no_nul(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] not in {"path", "query"}:
            continue
        schema = parameter["schema"]
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "string" and "pattern" not in option:
                option["pattern"] = NO_NUL_PATTERN


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json) return the truthful document, built once."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            tell_the_truth(generate(), app)  # FastAPI keeps the dict it returns as its cache
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""One error shape for every 4xx/5xx: `{"error": {"code", "message", "details"?}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

import psycopg
import stripe
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from domain.roles import NAME_RESERVED
from domain.text import INVALID_COMBINATION
from services.errors import ServiceError

logger = logging.getLogger(__name__)


class APIError(Exception):
    """A failure the caller can act on; `code` is machine-readable and stable."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers


def not_found(kind: str, identifier: str) -> APIError:
    return APIError(
        404, f"{kind}_not_found", f"{kind.replace('_', ' ').capitalize()} {identifier!r} was not found"
    )


# How long a caller of a 503 below should wait before asking again.
RETRY_AFTER_SECONDS = 2


def temporal_unavailable(message: str = "The workflow service is not reachable") -> APIError:
    """Temporal could not be reached: a 503 the caller may retry (Retry-After)."""
    return APIError(503, "temporal_unavailable", message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def checkout_pending() -> APIError:
    """The checkout workflow did not answer in time (no worker, Temporal slow): ask again later.

    Nothing is lost: the request stays with the workflow, and a repeat gets the real answer.
    """
    return APIError(
        503,
        "checkout_pending",
        "The checkout is still being processed; ask again in a moment",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def operation_pending() -> APIError:
    """The order's workflow did not answer in time: the operation goes on; the same request again
    (same Idempotency-Key) gets its outcome."""
    return APIError(
        503,
        "operation_pending",
        "The operation was accepted and is still running; repeat the same request for its result",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def stripe_unavailable() -> APIError:
    """Stripe did not answer, or answered that it failed: a 503 the caller may retry."""
    return APIError(503, "stripe_unavailable", "The payment provider is not reachable; try again")


# Stripe's own failures and the network's (its SDK has already retried them); its refusals of a
# request (card declined, invalid request) are not among them.
_STRIPE_UNAVAILABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every error response (for the OpenAPI document; `error_body` builds it)."""

    error: ErrorDetail


class Refusal(NamedTuple):
    """What one error status of a route means, and the machine-readable codes it answers with."""

    description: str
    codes: tuple[str, ...]


def refusal(description: str, *codes: str) -> Refusal:
    return Refusal(description, codes)


def combined(*refusals: Refusal) -> Refusal:
    """Several refusals of one status as one (their descriptions joined, their codes in order)."""
    return Refusal("; ".join(r.description for r in refusals), tuple(c for r in refusals for c in r.codes))


# The OpenAPI extension of an error response listing its codes; api.openapi turns it into the
# response schema's enum of `error.code`, so a client, and the fuzzer, can check every answer.
ERROR_CODES = "x-error-codes"


def error_response(described: Refusal, **extra: Any) -> dict[str, Any]:
    """One OpenAPI error response: the error model, what it means, and its codes."""
    codes = ", ".join(f"`{code}`" for code in described.codes)
    return {
        "model": ErrorResponse,
        "description": f"{described.description}: {codes}",
        ERROR_CODES: list(described.codes),
        **extra,
    }


def error_responses(described: Mapping[int, Refusal]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a route's own refusals, by status. What every route of a kind can
    answer (invalid input, body limits, auth, rate limits, Temporal) api.openapi adds itself."""
    return {status: error_response(refusal) for status, refusal in described.items()}


# A body rule the schema cannot state (domain.text.INVALID_COMBINATION), on the routes that have one.
RULES = refusal(
    "A rule across fields is broken (one price per currency, ...); the message says which",
    INVALID_COMBINATION,
)

RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {"description": "Seconds to wait before asking again", "schema": {"type": "integer"}}
}
# The OpenAPI entry of a route that waits for the checkout workflow.
RETRY_LATER_RESPONSE = error_response(
    refusal(
        "The checkout did not answer in time, or Temporal is not reachable: ask again after"
        " `Retry-After` seconds",
        "checkout_pending",
        "temporal_unavailable",
    ),
    headers=RETRY_AFTER_HEADER,
)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


# The HTTP status of a ServiceError, by its code. Any code not listed is a 400: a service's
# refusal is the caller's problem, never a 500.
STATUS_BY_CODE: dict[str, int] = {
    "cart_not_found": 404,
    "region_not_found": 404,
    "variant_not_found": 404,
    "line_item_not_found": 404,
    "shipping_option_not_found": 404,
    "cart_completed": 409,
    "insufficient_inventory": 409,
    "payment_already_authorized": 409,
    "cart_changed": 409,
    # After the order (domain.orders.operations, services/, Stripe's refusals of a refund)
    "order_not_found": 404,
    # Support's retries (services.dispatch)
    "workflow_not_found": 404,
    "workflow_completed": 409,
    "workflow_not_stuck": 409,
    "workflow_not_resettable": 409,
    "return_not_found": 404,
    "refund_not_found": 404,
    "order_not_paid": 409,
    "order_canceled": 409,
    "order_fulfilled": 409,
    "order_disputed": 409,
    "already_shipped": 409,
    "shipment_exceeds_unshipped": 409,
    "refund_exceeds_refundable": 409,
    "item_already_refunded": 409,
    "shipping_already_refunded": 409,
    "return_exceeds_shipped": 409,
    "return_exceeds_requested": 409,
    "return_not_open": 409,
    "idempotency_key_reused": 409,
    "charge_disputed": 409,
    "charge_already_refunded": 409,
    "amount_too_large": 409,
    "refund_refused": 409,
    "variant_unavailable": 409,
    # the admin catalog, stock and setup
    "product_not_found": 404,
    "image_not_found": 404,
    "inventory_level_not_found": 404,
    "stock_location_not_found": 404,
    "sales_channel_not_found": 404,
    "api_key_not_found": 404,
    "handle_taken": 409,
    "sku_taken": 409,
    "variant_options_taken": 409,
    "invalid_status_transition": 409,
    "insufficient_stock": 409,
    "inventory_level_exists": 409,
    "region_name_taken": 409,
    "country_taken": 409,
    "shipping_option_name_taken": 409,
    "stock_location_name_taken": 409,
    "sales_channel_name_taken": 409,
    "api_key_name_taken": 409,
    # the outbox
    "email_not_due": 409,
}

# Refusals of validation rules the OpenAPI schema cannot state (domain.text, domain.roles).
RULE_CODES = frozenset({INVALID_COMBINATION, NAME_RESERVED})

_HTTP_CODES = {
    # FastAPI's own refusal of a body it cannot even parse (not UTF-8, a broken multipart).
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """Every method some route serves at `path` (a static mount: GET and HEAD)."""
    allowed: set[str] = set()
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is None or not regex.match(path):
            continue
        allowed |= {"GET", "HEAD"} if isinstance(route.original_route, Mount) else set(route.methods or ())
    return allowed


def _body_media_type(request: Request) -> str | None:
    """The media type the matched route takes its body as (None: it takes no body)."""
    route = request.scope.get("route")
    body = route.body_field if isinstance(route, APIRoute) else None
    return None if body is None else str(getattr(body.field_info, "media_type", "application/json"))


def _accepts(expected: str, content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if expected == "application/json":
        return media_type == expected or (
            media_type.startswith("application/") and media_type.endswith("+json")
        )
    return media_type == expected


def _wrong_media_type(request: Request, details: list[dict[str, Any]]) -> bool:
    """The body was sent as something the route does not read (no Content-Type counts, unless
    there is no body at all: that is a plain missing field)."""
    expected = _body_media_type(request)
    content_type = request.headers.get("content-type")
    if expected is None or _accepts(expected, content_type):
        return False
    # Without a Content-Type and with only missing fields there was no body at all: a plain 400.
    nothing_sent = all(d["type"] == "missing" for d in details)
    return content_type is not None or not nothing_sent


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "type": err.get("type"), "message": err.get("msg")}
        for err in exc.errors()
    ]


def _error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    extra: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {**extra, **error_body(code, message, details)}, status_code=status_code, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return _error_response(exc.status_code, exc.code, exc.message, extra=exc.extra, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        status_code = STATUS_BY_CODE.get(exc.code, 400)
        return _error_response(status_code, exc.code, exc.message, details=exc.details, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        if _wrong_media_type(request, details):
            return JSONResponse(
                error_body(
                    "unsupported_media_type",
                    f"Send this request's body as {_body_media_type(request)}",
                ),
                status_code=415,
            )
        if any(d["type"] == "json_invalid" for d in details):
            return JSONResponse(
                error_body("invalid_json", "The request body is not valid JSON"), status_code=400
            )
        # A rule across fields the schema allows (domain.text.INVALID_COMBINATION, a reserved
        # name) has its own code; any error of the request's shape makes it invalid_request.
        rules = {d["type"] for d in details}
        code = rules.pop() if len(rules) == 1 and rules <= RULE_CODES else "invalid_request"
        return JSONResponse(error_body(code, "The request is not valid", details), status_code=400)

    async def _stripe_unavailable(_: Request, exc: Exception) -> JSONResponse:
        logger.warning("Stripe is unavailable: %s", exc)
        error = stripe_unavailable()
        return _error_response(error.status_code, error.code, error.message, extra=error.extra)

    for unavailable in _STRIPE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _stripe_unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path only.
            headers["Allow"] = ", ".join(sorted(allowed_methods(request.app, request.url.path)))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 ("data exception", e.g. a NUL byte PostgreSQL cannot store) means the
        # value came from the request: the caller's mistake, and the transaction was rolled back.
        if isinstance(exc.orig, psycopg.DataError):
            return JSONResponse(
                error_body("invalid_request", "A value in the request cannot be stored or looked up"),
                status_code=400,
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return JSONResponse(error_body("internal_error", "Something went wrong on our side"), status_code=500)

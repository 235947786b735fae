"""One error shape for every 4xx/5xx: `{"error": {"code", "message", "details"?}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
import stripe
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

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


# The OpenAPI entry of a route that may answer temporal_unavailable or checkout_pending.
RETRY_LATER_RESPONSE: dict[str, Any] = {
    "model": ErrorResponse,
    "description": "`checkout_pending` (the checkout did not answer in time) or `temporal_unavailable`:"
    " ask again after `Retry-After` seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def error_responses(described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a route: each status with the error model and what it means."""
    return {status: {"model": ErrorResponse, "description": text} for status, text in described.items()}


# Every route with a body or query values documents its 400 like this.
INVALID_REQUEST = "The request is not valid (`invalid_request`, `invalid_json`; `details` say where)"


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
    # After the order (domain.orders.operations, services/, Stripe's refusals of a refund)
    "order_not_found": 404,
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
}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


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
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return JSONResponse(
                error_body("invalid_json", "The request body is not valid JSON"), status_code=400
            )
        return JSONResponse(
            error_body("invalid_request", "The request is not valid", details), status_code=400
        )

    async def _stripe_unavailable(_: Request, exc: Exception) -> JSONResponse:
        logger.warning("Stripe is unavailable: %s", exc)
        error = stripe_unavailable()
        return _error_response(error.status_code, error.code, error.message, extra=error.extra)

    for unavailable in _STRIPE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _stripe_unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

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

"""Admin API for operators and support, one module per resource; `router` serves them all."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.errors import ErrorResponse
from api.routes.admin import (
    api_keys,
    audit_log,
    checkouts,
    images,
    inventory,
    orders,
    outbox,
    products,
    regions,
    returns,
    sales_channels,
    shipping_options,
    stock_locations,
    variants,
)

# Each route declares its role with a ViewerDep/SupportDep/AdminDep parameter (api.deps);
# these are that check's answers, in every admin route's OpenAPI responses.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No valid admin key (`unauthorized`)"},
    403: {"model": ErrorResponse, "description": "The key's role does not allow this (`forbidden`)"},
}

router = APIRouter(prefix="/admin", tags=["admin"], responses=AUTH_RESPONSES)
for resource in (
    checkouts,
    orders,
    returns,
    outbox,
    products,
    variants,
    images,
    inventory,
    regions,
    shipping_options,
    stock_locations,
    sales_channels,
    api_keys,
    audit_log,
):
    router.include_router(resource.router)

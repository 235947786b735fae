"""Admin API for operators and support, one module per resource; `router` serves them all."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes.admin import (
    api_keys,
    audit_log,
    checkouts,
    images,
    inventory,
    order_emails,
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

# Each route declares its role with a ViewerDep/SupportDep/AdminDep parameter (api.deps); its
# 401 and 403 are in the OpenAPI document through api.openapi.
router = APIRouter(prefix="/admin", tags=["admin"])
for resource in (
    checkouts,
    orders,
    order_emails,
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

"""Admin API for operators and support, one module per resource; `router` serves them all."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep
from api.routes.admin import checkouts, orders, outbox

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])
for resource in (checkouts, orders, outbox):
    router.include_router(resource.router)

"""Every admin route declares its role, and a key of each role gets exactly what the table says.

ROUTE_ROLES is the contract's table of who may call what. A route that is served but not in the
table fails `test_the_table_lists_every_admin_route`: a new admin route (this branch's or any
other's) must be given its role here, and is then tried with no key (401), with a key of each
role (403 below its role, through the guard at or above it) and with a revoked key (401).
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy import select

from api.deps import BOOTSTRAP_PRINCIPAL, RoleGuard
from api.main import create_app
from core.db import get_sessionmaker
from core.settings import get_settings
from domain.roles import NewApiKey, Role
from models import ApiKey
from services.api_keys import create_key, revoke_key
from tests.admin.conftest import bearer

V, S, A = Role.VIEWER, Role.SUPPORT, Role.ADMIN
# (method, path) -> the lowest role that may call it. Reads: viewer. Support: cancel, refund,
# returns, retries, resend (issue 7's routes). Everything else changes the shop: admin.
ROUTE_ROLES: dict[tuple[str, str], Role] = {
    ("GET", "/admin/checkouts"): V,
    ("GET", "/admin/checkouts/{payment_intent_id}"): V,
    ("POST", "/admin/checkouts/{payment_intent_id}/retry"): S,
    ("POST", "/admin/orders/{order_id}/retry"): S,
    ("GET", "/admin/orders"): V,
    ("GET", "/admin/orders/{order_id}"): V,
    ("POST", "/admin/orders/{order_id}/shipments"): A,
    ("POST", "/admin/orders/{order_id}/cancel"): S,
    ("POST", "/admin/orders/{order_id}/refunds"): S,
    ("POST", "/admin/orders/{order_id}/returns"): S,
    ("POST", "/admin/returns/{return_id}/receive"): S,
    ("POST", "/admin/returns/{return_id}/cancel"): S,
    ("POST", "/admin/orders/{order_id}/emails/{kind}/resend"): S,
    ("GET", "/admin/outbox"): V,
    ("GET", "/admin/products"): V,
    ("POST", "/admin/products"): A,
    ("GET", "/admin/products/{product_id}"): V,
    ("POST", "/admin/products/{product_id}"): A,
    ("DELETE", "/admin/products/{product_id}"): A,
    ("POST", "/admin/products/{product_id}/variants"): A,
    ("POST", "/admin/variants/{variant_id}"): A,
    ("DELETE", "/admin/variants/{variant_id}"): A,
    ("POST", "/admin/products/{product_id}/images"): A,
    ("DELETE", "/admin/images/{image_id}"): A,
    ("GET", "/admin/inventory-levels"): V,
    ("POST", "/admin/inventory-levels"): A,
    ("GET", "/admin/inventory-levels/{level_id}"): V,
    ("POST", "/admin/inventory-levels/{level_id}"): A,
    ("GET", "/admin/inventory-levels/{level_id}/adjustments"): V,
    ("POST", "/admin/inventory-levels/{level_id}/adjustments"): A,
    ("GET", "/admin/regions"): V,
    ("POST", "/admin/regions"): A,
    ("GET", "/admin/shipping-options"): V,
    ("POST", "/admin/shipping-options"): A,
    ("GET", "/admin/stock-locations"): V,
    ("POST", "/admin/stock-locations"): A,
    ("GET", "/admin/sales-channels"): V,
    ("POST", "/admin/sales-channels"): A,
    ("GET", "/admin/sales-channels/{channel_id}/stock-location"): V,
    ("POST", "/admin/sales-channels/{channel_id}/stock-location"): A,
    # Keys are the admin's to manage, listing included: the list says who may do what.
    ("GET", "/admin/api-keys"): A,
    ("POST", "/admin/api-keys"): A,
    ("POST", "/admin/api-keys/{key_id}/revoke"): A,
    ("GET", "/admin/audit-log"): V,
}


def admin_routes() -> list[RouteContext]:
    """Every path operation under /admin, as the app serves it (included routers expanded)."""
    routes = [
        route
        for route in iter_route_contexts(create_app().routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith("/admin")
    ]
    assert routes, "no /admin routes found: the walk below would prove nothing"
    return routes


def operations() -> list[tuple[str, str]]:
    return sorted((method, route.path or "") for route in admin_routes() for method in route.methods or ())


def declared_roles(route: RouteContext) -> list[Role]:
    """Roles of the RoleGuards among the endpoint's own parameters (not router-wide dependencies)."""
    return [
        dependency.call.role
        for dependency in route.dependant.dependencies
        if isinstance(dependency.call, RoleGuard) and dependency.name is not None
    ]


def test_every_admin_route_declares_exactly_one_role() -> None:
    undeclared = {
        f"{','.join(sorted(route.methods or ()))} {route.path}": declared_roles(route)
        for route in admin_routes()
        if len(declared_roles(route)) != 1
    }
    assert undeclared == {}


def test_the_table_lists_every_admin_route() -> None:
    served = set(operations())
    assert sorted(served - ROUTE_ROLES.keys()) == [], "give these routes their role in ROUTE_ROLES"
    assert sorted(ROUTE_ROLES.keys() - served) == [], "ROUTE_ROLES lists routes the app does not serve"


def test_each_route_declares_the_role_the_table_gives_it() -> None:
    declared = {
        (method, route.path or ""): declared_roles(route)[0]
        for route in admin_routes()
        for method in route.methods or ()
        if declared_roles(route)
    }
    assert {op: role for op, role in declared.items() if ROUTE_ROLES.get(op) != role} == {}


def test_every_admin_route_documents_401_and_403() -> None:
    paths = create_app().openapi()["paths"]
    undocumented = [
        f"{method} {path}"
        for method, path in operations()
        if not {"401", "403"} <= set(paths[path][method.lower()]["responses"])
    ]
    assert undocumented == []


def _url(path: str) -> str:
    # Any ID: the guard answers before the route looks anything up.
    return re.sub(r"\{[^}]+\}", "nothing_here", path)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_ROLES))
async def test_a_key_of_each_role_gets_what_the_table_says(client, keys, method: str, path: str) -> None:
    required = ROUTE_ROLES[method, path]

    anonymous = await client.request(method, _url(path))
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthorized")

    for role in Role:
        response = await client.request(method, _url(path), headers=bearer(keys[role]))
        if role.allows(required):
            # Past the guard: the route itself answers (here: no such thing, or no body).
            assert response.status_code not in {401, 403, 500}, (role, response.text)
        else:
            assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden"), role


async def test_a_revoked_key_is_refused_on_every_route(client) -> None:
    async with get_sessionmaker()() as session, session.begin():
        issued = await create_key(session, NewApiKey(name="soon-revoked", role=Role.ADMIN), actor="test")
        await revoke_key(session, issued.key, actor="test")

    for method, path in sorted(ROUTE_ROLES):
        response = await client.request(method, _url(path), headers=bearer(issued.secret))
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized"), path


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, {Role.ADMIN, Role.SUPPORT, Role.VIEWER}),
        (Role.SUPPORT, {Role.SUPPORT, Role.VIEWER}),
        (Role.VIEWER, {Role.VIEWER}),
    ],
)
def test_each_role_includes_the_roles_below_it(role: Role, allowed: set[Role]) -> None:
    assert {required for required in Role if role.allows(required)} == allowed


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer not-the-token", "not-the-token", "Bearer gtk_" + "A" * 43, "bearer dev-admin-token"],
)
async def test_no_known_key_is_a_401(client, authorization) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.get("/admin/outbox", headers=headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


async def test_the_admin_api_token_is_the_bootstrap_admin(database_url) -> None:
    token = get_settings().admin_api_token.get_secret_value()

    for role in Role:
        assert await RoleGuard(role)(get_settings(), f"Bearer {token}") == BOOTSTRAP_PRINCIPAL
    assert BOOTSTRAP_PRINCIPAL.role == Role.ADMIN
    assert BOOTSTRAP_PRINCIPAL.name == "bootstrap"
    async with get_sessionmaker()() as session:
        # It is not a key in the database, and no key may take its name.
        assert await session.scalar(select(ApiKey).where(ApiKey.name == "bootstrap")) is None

"""Every admin route declares the role it needs; the check answers 401/403 in the one error shape."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from api.deps import BOOTSTRAP_PRINCIPAL, RoleGuard
from api.main import create_app
from core.settings import get_settings
from domain.roles import Role


def admin_routes() -> list[RouteContext]:
    """Every path operation under /admin, as the app serves it (included routers expanded)."""
    routes = [
        route
        for route in iter_route_contexts(create_app().routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith("/admin")
    ]
    assert routes, "no /admin routes found: the walk below would prove nothing"
    return routes


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


def test_every_admin_route_documents_401_and_403() -> None:
    operations = create_app().openapi()["paths"]
    undocumented = [
        f"{method} {route.path}"
        for route in admin_routes()
        for method in route.methods or ()
        if not {"401", "403"} <= set(operations[route.path][method.lower()]["responses"])
    ]
    assert undocumented == []


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


@pytest.mark.parametrize("authorization", [None, "", "Bearer not-the-token", "not-the-token"])
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

"""API5 Broken function level authorization: every admin route declares its role and a key of
each role gets exactly what the contract's table says (tests/admin/test_roles.py: ROUTE_ROLES,
tried with no key, each role and a revoked key). Here: the public surface is a list too, so a
route that is not under /admin, and so not behind a role, cannot appear unnoticed.
"""

from __future__ import annotations

from api.main import create_app
from api.openapi import api_routes

# Every route anyone may call without a key: the store (carts and orders by their unguessable
# IDs and token, API1), Stripe's webhook (verified by signature, API10), health and metrics.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/store/regions"),
    ("GET", "/store/products"),
    ("GET", "/store/products/{id_or_handle}"),
    ("POST", "/store/carts"),
    ("GET", "/store/carts/{cart_id}"),
    ("POST", "/store/carts/{cart_id}"),
    ("POST", "/store/carts/{cart_id}/line-items"),
    ("POST", "/store/carts/{cart_id}/line-items/{item_id}"),
    ("DELETE", "/store/carts/{cart_id}/line-items/{item_id}"),
    ("POST", "/store/carts/{cart_id}/shipping-methods"),
    ("GET", "/store/shipping-options"),
    ("POST", "/store/carts/{cart_id}/payment-sessions"),
    ("POST", "/store/carts/{cart_id}/complete"),
    ("GET", "/store/orders/{order_id}"),
    ("GET", "/store/config"),
    ("POST", "/hooks/stripe"),
}


def test_every_route_outside_admin_is_on_the_public_list() -> None:
    served = {
        (method, str(route.path))
        for route in api_routes(create_app())
        for method in route.methods or ()
        if not str(route.path).startswith("/admin/")
    }
    assert served == PUBLIC_ROUTES


def test_admin_routes_are_the_roles_tables() -> None:
    from tests.admin.test_roles import ROUTE_ROLES

    served = {
        (method, str(route.path))
        for route in api_routes(create_app())
        for method in route.methods or ()
        if str(route.path).startswith("/admin/")
    }
    assert served == set(ROUTE_ROLES)

"""API9 Improper inventory management: the OpenAPI document is the complete list of what the API
serves (every route in it, nothing in it that is not served), one version, and the only other
things served are the demo shop's files, the local media store and the docs themselves.
"""

from __future__ import annotations

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from api.main import create_app

# Served outside the document: static files (the demo shop, local product images) and the docs.
NOT_API = {"/shop", "/media", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_served_route_is_in_the_document_and_nothing_else_is() -> None:
    app = create_app()
    document = app.openapi()
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    served, other = set(), set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            served |= {(method, str(route.path)) for method in route.methods or ()}
        else:
            other.add(str(route.path))

    assert served == documented
    assert other <= NOT_API, other - NOT_API
    assert all(isinstance(r, Mount) for r in app.routes if getattr(r, "path", None) in {"/shop", "/media"})


def test_the_document_names_its_version_and_every_operation_a_tag() -> None:
    document = create_app().openapi()
    assert document["info"]["version"]
    untagged = [
        f"{method} {path}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if not op.get("tags")
    ]
    assert untagged == []

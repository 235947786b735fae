"""localstripe's aiohttp app as the fake runs it, its state where we choose.

Everything is done from outside localstripe (replaced methods on its classes, its app's
middlewares and routes). Call `build_app` once per process.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from devstack.fakestripe import state


def build_app(state_file: Path | None) -> web.Application:
    state.use_state_file(state_file)
    from localstripe import server

    app: web.Application = server.app
    server.store.try_load_from_disk()
    return app

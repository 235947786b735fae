"""The fake's process: `python -m devstack.fakestripe [--host H] [--port N] [--state-file PATH]`."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.fakestripe",
        description="localstripe made to behave like Stripe where the order lifecycle depends on it",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None, help="omit to keep everything in memory")
    args = parser.parse_args(argv)

    state_file: Path | None = args.state_file
    if state_file is not None:
        state_file = state_file.resolve()
        state_file.parent.mkdir(parents=True, exist_ok=True)

    from aiohttp import web

    from devstack.fakestripe.app import build_app

    app = build_app(state_file)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.DEBUG)
    access_log.addHandler(logging.StreamHandler())
    print(
        f"localstripe on http://{args.host}:{args.port}, state: {state_file or 'memory only'}",
        file=sys.stderr,
        flush=True,
    )
    # shutdown_timeout: on SIGTERM/SIGINT wait at most 2 s for requests in flight.
    web.run_app(app, sock=sock, access_log=access_log, print=None, shutdown_timeout=2.0)

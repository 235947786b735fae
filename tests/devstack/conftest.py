"""Helpers for running `python -m devstack` as a user would, isolated in a temp DEV_DIR on free ports."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Everything that makes the supervisor use an outside service, or that the session's other
# fixtures set in os.environ (tests/conftest.py), is removed for the child.
_SCRUBBED = {
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TASK_QUEUE",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "ADMIN_API_TOKEN",
    "ENVIRONMENT",
    "LOCAL_MEDIA_DIR",
    "DEV_DIR",
    "API_PORT",
    "API_HOST",
    "TEMPORAL_PORT",
    "TEMPORAL_UI_PORT",
    "TEMPORAL_HTTP_PORT",
    "TEMPORAL_METRICS_PORT",
    "LOCALSTRIPE_PORT",
    "WORKER_METRICS_PORT",
    "WORKER_METRICS_HOST",
    "DEVSTACK_READY_TIMEOUT",
    "DEVSTACK_STOP_TIMEOUT",
}

PORT_VARIABLES = (
    "API_PORT",
    "TEMPORAL_PORT",
    "TEMPORAL_UI_PORT",
    "TEMPORAL_HTTP_PORT",
    "TEMPORAL_METRICS_PORT",
    "LOCALSTRIPE_PORT",
    "WORKER_METRICS_PORT",
)

DEVSTACK = [sys.executable, "-m", "devstack"]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nothing listens on right now (all held open while choosing)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


StackEnv = Callable[..., dict[str, str]]


@pytest.fixture
def dev_dir(tmp_path: Path) -> Path:
    return tmp_path / "dev"


@pytest.fixture
def stack_ports() -> dict[str, int]:
    return dict(zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES)), strict=True))


@pytest.fixture
def stack_env(dev_dir: Path, stack_ports: dict[str, int]) -> StackEnv:
    """The environment for a `python -m devstack` child: its own DEV_DIR, free ports, nothing external."""

    def make(**overrides: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key.upper() not in _SCRUBBED}
        env["DEV_DIR"] = str(dev_dir)
        env.update({name: str(port) for name, port in stack_ports.items()})
        env["PYTHONUNBUFFERED"] = "1"
        env.update(overrides)
        return env

    return make

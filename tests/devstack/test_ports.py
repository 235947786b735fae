"""A port that is already taken: a clear message naming the port and the service, exit code 2,
and nothing started."""

from __future__ import annotations

import fcntl
import socket
import subprocess
from pathlib import Path

import psutil
import pytest

from tests.devstack.conftest import DEVSTACK, ROOT, StackEnv


def _processes_using(path: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(path) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.parametrize(
    ("variable", "service"),
    [
        ("API_PORT", "API"),
        ("TEMPORAL_PORT", "Temporal"),
        ("TEMPORAL_UI_PORT", "Temporal UI"),
        ("LOCALSTRIPE_PORT", "localstripe"),
    ],
)
def test_taken_port_is_named_and_nothing_starts(
    variable: str, service: str, stack_env: StackEnv, stack_ports: dict[str, int], dev_dir: Path
) -> None:
    port = stack_ports[variable]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()

        result = subprocess.run(
            DEVSTACK, cwd=ROOT, env=stack_env(), capture_output=True, text=True, timeout=60, check=False
        )

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port} ({service}) is already in use" in result.stderr
    assert f"{variable}=" in result.stderr  # says how to choose another one
    assert "nothing was started" in result.stderr
    assert not dev_dir.exists(), "the data dir was created although nothing may start"
    assert _processes_using(dev_dir) == []


def test_port_held_by_a_non_listening_bind_is_also_reported(
    stack_env: StackEnv, stack_ports: dict[str, int]
) -> None:
    """A socket bound but not listening still makes the server's bind fail: report it up front."""
    port = stack_ports["API_PORT"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        result = subprocess.run(
            DEVSTACK, cwd=ROOT, env=stack_env(), capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 2
    assert f"port {port} (API) is already in use" in result.stderr


def test_invalid_port_setting_is_exit_code_2(stack_env: StackEnv, dev_dir: Path) -> None:
    result = subprocess.run(
        DEVSTACK,
        cwd=ROOT,
        env=stack_env(API_PORT="eighty"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "API_PORT='eighty' is not a port number" in result.stderr
    assert not dev_dir.exists()


def test_a_second_stack_on_the_same_dev_dir_is_refused(stack_env: StackEnv, dev_dir: Path) -> None:
    dev_dir.mkdir()
    with (dev_dir / "devstack.lock").open("a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("4242\n")
        lock.flush()
        result = subprocess.run(
            DEVSTACK, cwd=ROOT, env=stack_env(), capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 2
    assert "another dev stack (pid 4242) is already running" in result.stderr
    assert sorted(path.name for path in dev_dir.iterdir()) == ["devstack.lock"]

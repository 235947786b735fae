"""Bounded waits for a service to become ready, failing fast when its process dies."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx

from devstack.ports import port_is_open
from devstack.process import ManagedProcess


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while we were waiting."""


class NotReady(Exception):
    """A check's explanation of why the service is not ready yet (shown if the wait times out)."""


class ServiceFailed(Exception):
    """A service did not come up; the message names it and says why."""

    def __init__(self, service: str, reason: str, log_tail: str | None = None) -> None:
        super().__init__(f"{service} {reason}")
        self.service = service
        self.reason = reason
        self.log_tail = log_tail


Check = Callable[[], Awaitable[bool]]


async def wait_until_ready(
    service: str,
    check: Check,
    *,
    within: float,
    stop: asyncio.Event,
    process: ManagedProcess | None = None,
    interval: float = 0.2,
    what: str = "ready",
) -> float:
    """Poll `check` until it answers True; returns the seconds it took.

    Raises ServiceFailed when the process exits first or `within` seconds pass, StopRequested when
    `stop` is set meanwhile.
    """
    started = time.monotonic()
    deadline = started + within
    last_problem: str | None = None
    while True:
        if stop.is_set():
            raise StopRequested
        if process is not None and not process.running():
            raise ServiceFailed(
                service, f"{process.describe_exit()} before it was {what}", process.log_tail()
            )
        try:
            if await check():
                return time.monotonic() - started
        except NotReady as exc:
            last_problem = str(exc)
        except Exception as exc:
            last_problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if time.monotonic() >= deadline:
            because = f" (last answer: {last_problem})" if last_problem else ""
            raise ServiceFailed(
                service,
                f"was not {what} after {within:.0f} s{because}",
                process.log_tail() if process is not None else None,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def tcp_check(host: str, port: int) -> Check:
    async def check() -> bool:
        return await asyncio.to_thread(port_is_open, host, port)

    return check


def http_check(url: str, expect_status: int = 200) -> Check:
    async def check() -> bool:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(url)
        if response.status_code != expect_status:
            raise NotReady(f"GET {url} -> {response.status_code} {response.text[:300]}")
        return True

    return check

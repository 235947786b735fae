"""Child processes: each in its own process group, its output in `<dev dir>/logs/<name>.log`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the supervisor itself is killed (even with SIGKILL)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def rotate_log(path: Path) -> None:
    """Keep the previous run's log next to the new one (`api.previous.log`)."""
    if path.exists():
        path.replace(path.with_name(f"{path.stem}.previous{path.suffix}"))


def tail(path: Path, lines: int = 30) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    kept = text.splitlines()[-lines:]
    return "\n".join(kept) if kept else "(log is empty)"


class ManagedProcess:
    """One supervised child. `name` is what people read ("API"), `log_name` names the log file."""

    def __init__(
        self,
        name: str,
        log_name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_dir: Path,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_dir / f"{log_name}.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> None:
        """Spawn it. Call from the main thread: the death signal is tied to the spawning thread."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        rotate_log(self.log_path)
        preexec: Callable[[], None] | None = _die_with_parent if sys.platform == "linux" else None
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(self.argv)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: a Ctrl-C in the terminal reaches only the supervisor, which
                # then stops everything in order.
                start_new_session=True,
                preexec_fn=preexec,
            )
        self.started_at = time.monotonic()

    def returncode(self) -> int | None:
        """None while it runs (or before it started)."""
        return self._popen.poll() if self._popen is not None else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._popen is None:
            return
        try:
            os.killpg(self._popen.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(sig)

    async def stop(self, grace: float, force: asyncio.Event | None = None) -> int | None:
        """SIGTERM to its process group, SIGKILL after `grace` seconds (or as soon as `force` is
        set, e.g. on a second Ctrl-C). Returns the exit code."""
        popen = self._popen
        if popen is None:
            return None
        exited = asyncio.ensure_future(asyncio.to_thread(popen.wait))
        if popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            waiting: set[asyncio.Future[Any]] = {exited}
            forced = asyncio.ensure_future(force.wait()) if force is not None else None
            if forced is not None:
                waiting.add(forced)
            await asyncio.wait(waiting, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
            if forced is not None:
                forced.cancel()
        # Also reaps grandchildren left in the group after the leader exited.
        self._signal_group(signal.SIGKILL)
        await exited
        return popen.returncode

    async def kill(self) -> int | None:
        """SIGKILL to its process group at once, as a crash would; returns the exit code."""
        self._signal_group(signal.SIGKILL)
        return await self.stop(grace=0)

    def describe_exit(self) -> str:
        code = self.returncode()
        if code is None:
            return "is still running"
        if code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with code {code}"

    def log_tail(self, lines: int = 30) -> str:
        return tail(self.log_path, lines)

"""The stack's processes, their peak memory and CPU time, from Linux's /proc (no extra dependency).

Elsewhere every reading is None and the report says "n/a".
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def peak_rss_bytes(pid: int) -> int | None:
    """The process's high-water mark of resident memory (VmHWM), while it still runs."""
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    return raw[raw.rfind(")") + 2 :].split()


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float | None:
    """User + system CPU time of one process (all its threads) so far; with `reaped_children`,
    plus that of its children that exited and were waited for."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # utime, stime, cutime, cstime: fields 14-17 of /proc/<pid>/stat (11-14 after the name).
    try:
        ticks = int(fields[11]) + int(fields[12])
        if reaped_children:
            ticks += int(fields[13]) + int(fields[14])
    except (IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (PostgreSQL's backends are children of the postmaster)."""
    if not _PROC.is_dir():
        return []
    found: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    """Children, their children and so on (the supervisor's services)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        children = children_of(parents.pop())
        found += children
        parents += children
    return found


def cmdline(pid: int) -> list[str]:
    """The process's argv ([] once it is gone)."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def alive(pid: int) -> bool:
    """Running: it exists and is not a zombie waiting to be reaped."""
    fields = _stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] not in ("Z", "X")


def machine_busy_seconds() -> float | None:
    """CPU time every core of the machine spent on anything but idling, so far (/proc/stat): with
    our processes' own, what other tenants of the machine used meanwhile."""
    try:
        first = (_PROC / "stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest time is already in user).
    try:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in first[1:9])
    except ValueError:
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process and its direct children, living or exited (PostgreSQL's backends)."""
    own = cpu_seconds(pid, reaped_children=True)
    if own is None:
        return None
    return own + sum(cpu_seconds(child) or 0.0 for child in children_of(pid))

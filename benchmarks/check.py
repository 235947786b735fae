"""`python -m benchmarks check docs/benchmarks.json`: the issue's targets (issue 12) against a report.

    python -m benchmarks check docs/benchmarks.json                  # exit 1 when a target is missed
    python -m benchmarks check new.json --against docs/benchmarks.json  # exit 1 when a ratio got worse

Every target is a ratio measured within one run (so it compares across machines); the absolute
figures are in the report for reading, not for checking. Only the standard library: a CI script
can run this without the stack.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Better = Literal["lower", "higher"]
# The report's version: a key that changes meaning gets a new number.
SCHEMA = 1
# Cores a (2, 2) scale-out needs before its target applies: two of each process, and Temporal.
SCALE_OUT_CORES = 4
DEFAULT_TOLERANCE = 0.25


@dataclass(frozen=True)
class Target:
    key: str
    description: str
    # Where the ratio is in the report: section, then key.
    path: tuple[str, str]
    limit: float
    better: Better

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.better == "lower" else value >= self.limit


TARGETS = (
    Target(
        "complete_p50",
        "checkout `complete` p50 ≤ 0.30x the bare workflow's c=1 p50",
        ("ratios", "complete_p50_to_baseline_c1_p50"),
        0.30,
        "lower",
    ),
    Target(
        "orders_per_second",
        "orders/s at concurrency N ≥ 1.0x the bare workflow's workflows/s at concurrency N",
        ("ratios", "orders_per_second_to_baseline_cn_per_second"),
        1.0,
        "higher",
    ),
    Target(
        "cpu_per_order",
        "CPU per order ≤ 1.5x CPU per bare workflow",
        ("ratios", "cpu_per_order_to_cpu_per_baseline_workflow"),
        1.5,
        "lower",
    ),
    Target(
        "complete_p50_with_stripe_latency",
        "with --stripe-latency: `complete` p50 ≤ 2 Stripe round trips + 0.2x the bare c=1 p50",
        ("stripe_latency", "complete_p50_to_target"),
        1.0,
        "lower",
    ),
    Target(
        "scale_out",
        f"(2, 2) processes give ≥ 1.5x the orders/s of (1, 1) (with at least {SCALE_OUT_CORES} cores)",
        ("scale_out", "orders_per_second_2_2_to_1_1"),
        1.5,
        "higher",
    ),
)


@dataclass(frozen=True)
class Outcome:
    key: str
    description: str
    value: float | None
    limit: float
    better: Better
    # None: not measured in this run, or not applicable on this machine (see `note`).
    met: bool | None
    note: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _value(report: Mapping[str, Any], target: Target) -> float | None:
    section, key = target.path
    found = report.get(section)
    return _number(found.get(key)) if isinstance(found, Mapping) else None


def evaluate(report: Mapping[str, Any]) -> list[Outcome]:
    """Each target against the report's figures (`docs/benchmarks.json`'s shape)."""
    machine = report.get("machine", {})
    cores = _number(machine.get("nproc")) if isinstance(machine, Mapping) else None
    outcomes = []
    for target in TARGETS:
        value = _value(report, target)
        note = ""
        met: bool | None = None if value is None else target.met_by(value)
        if value is None:
            note = "not measured in this run"
        elif target.key == "scale_out" and (cores is None or cores < SCALE_OUT_CORES):
            shown = "?" if cores is None else f"{cores:g}"
            note = f"not applicable: {shown} cores, the target needs {SCALE_OUT_CORES}"
            met = None
        outcomes.append(
            Outcome(target.key, target.description, value, target.limit, target.better, met, note)
        )
    return outcomes


def regressions(report: Mapping[str, Any], previous: Mapping[str, Any], tolerance: float) -> list[str]:
    """Targets whose ratio got worse than in `previous` by more than `tolerance` (a fraction)."""
    found = []
    for target in TARGETS:
        now, before = _value(report, target), _value(previous, target)
        if now is None or before is None or before == 0:
            continue
        change = (now - before) / abs(before)
        worse = change > tolerance if target.better == "lower" else -change > tolerance
        if worse:
            found.append(f"{target.key}: {before:.2f} → {now:.2f} ({change:+.0%}, tolerance {tolerance:.0%})")
    return found


def load(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    if report.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {report.get('schema')!r}, this check reads schema {SCHEMA}")
    return report


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks check",
        description="The issue's targets against a benchmark report; exit 1 when one is missed (or, with "
        "--against, when a ratio got worse than in an earlier report).",
    )
    parser.add_argument("report", type=Path, help="a report written by python -m benchmarks (.json)")
    parser.add_argument("--against", type=Path, help="an earlier report: check for regressions instead")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"with --against: how much worse a ratio may get, as a fraction (default {DEFAULT_TOLERANCE})",
    )
    args = parser.parse_args(argv)
    try:
        report = load(args.report)
        previous = load(args.against) if args.against else None
    except (OSError, ValueError) as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    outcomes = evaluate(report)
    for outcome in outcomes:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[outcome.met]
        shown = "n/a" if outcome.value is None else f"{outcome.value:.2f}"
        bound = "≤" if outcome.better == "lower" else "≥"
        note = f" ({outcome.note})" if outcome.note else ""
        print(f"{verdict:<7} {outcome.key}: {shown} (target {bound} {outcome.limit:g}){note}")
    if previous is not None:
        worse = regressions(report, previous, args.tolerance)
        for line in worse:
            print(f"REGRESSION {line}")
        return 1 if worse else 0
    return 1 if any(outcome.met is False for outcome in outcomes) else 0

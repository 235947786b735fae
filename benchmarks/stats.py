"""Percentiles and the small arithmetic the report needs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); `fraction` in [0, 1].

    With 20 samples the p95 lies between the two slowest: read it as "nearly the worst".
    """
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Batch:
    """`count` runs (workflows or checkouts) at some concurrency: per-run latencies and the wall time."""

    latencies: tuple[float, ...]
    wall_seconds: float
    concurrency: int

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.count / self.wall_seconds if self.wall_seconds > 0 else math.nan

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    @property
    def max(self) -> float:
        return max(self.latencies) if self.latencies else math.nan


def pooled(batches: Sequence[Batch]) -> Batch:
    """Several batches of the same kind read as one: all latencies, summed wall time."""
    if not batches:
        raise ValueError("nothing to pool")
    latencies = tuple(value for batch in batches for value in batch.latencies)
    return Batch(latencies, sum(batch.wall_seconds for batch in batches), batches[0].concurrency)


def ratio(value: float, baseline: float) -> float:
    if baseline == 0 or math.isnan(baseline) or math.isnan(value):
        return math.nan
    return value / baseline


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"

"""What one run measures, and its limits (kept free of heavy imports: the CLI reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

# (API processes, workers) on the one Temporal server; the supervisor's stack is (1, 1).
Scale = tuple[int, int]
SUPERVISOR_SCALE: Scale = (1, 1)


@dataclass(frozen=True)
class Options:
    sequential: int = 20
    concurrency: int = 50
    timeout: float = 420.0
    # Seconds every Stripe call of the API and the worker waits in an extra sequential phase
    # (a proxy in front of localstripe); 0: no such phase and no proxy.
    stripe_latency: float = 0.0
    # One throughput phase each, in this order; the first is the supervisor's (1, 1).
    scales: tuple[Scale, ...] = (SUPERVISOR_SCALE, (2, 2))

"""What one run measures, and its limits (kept free of heavy imports: the CLI reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    sequential: int = 20
    concurrency: int = 50
    timeout: float = 300.0

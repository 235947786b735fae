"""Record OrderWorkflow histories from the real stack, for tests/workflows/test_replay.py.

    python -m tests.histories.record order_cancel order_partial_refund ...
    python -m tests.histories.record            # every scenario not recorded yet

Each name is a scenario of tests/histories/scenarios.py, run by pytest against the same stack
the end-to-end tests start (PostgreSQL, the fake Stripe, the Temporal dev server, the worker, the
API); its order's workflow history is written to tests/histories/<name>.json. An existing file is
never overwritten (a recorded history is never re-recorded: a new path gets a new file), so the
command refuses names that are already recorded. Exit codes: 0 recorded, 1 a scenario failed,
2 nothing run (unknown or already recorded names).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios.py"
NAMES = ("order_shipment", "order_cancel", "order_partial_refund", "order_return", "order_dispute")


def main(argv: Sequence[str]) -> int:
    names = list(argv) or [name for name in NAMES if not (HERE / f"{name}.json").exists()]
    unknown = sorted(set(names) - set(NAMES))
    recorded = sorted(name for name in names if (HERE / f"{name}.json").exists())
    if unknown or recorded or not names:
        for name in unknown:
            print(f"unknown scenario {name!r}; known: {', '.join(NAMES)}", file=sys.stderr)
        for name in recorded:
            print(f"{name}.json is recorded already and is never re-recorded", file=sys.stderr)
        if not names:
            print("every scenario is recorded", file=sys.stderr)
        return 2
    os.environ["RECORD_HISTORIES"] = ",".join(names)
    selected = " or ".join(f"test_{name}" for name in names)
    return int(pytest.main([str(SCENARIOS), "-q", "-p", "no:cacheprovider", "-k", selected]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

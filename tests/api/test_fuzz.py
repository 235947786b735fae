"""The bounded fuzz run of `make test`: `python -m fuzz` itself, on a fresh stack, with fewer
examples and without the coverage phase's thousands of boundary cases (`make fuzz` runs them).
It must find nothing: an undocumented status, a schema-valid request refused for its shape, a
response that is not what the document says, a 5xx."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

# About 400 requests: every operation a few times, then the stateful phase's sequences.
BOUNDED = ["--max-examples", "8", "--phases", "examples,fuzzing,stateful"]


async def test_a_bounded_fuzz_run_finds_nothing() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fuzz",
        *BOUNDED,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode(errors="replace")
    print(text[-3000:])  # the figures, in the test's output

    assert process.returncode == 0, text[-6000:]
    assert "failures by check: none" in text

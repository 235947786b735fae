"""`make clean-dev` (`python -m devstack clean`) deletes the dev data, but never under a running stack."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

from tests.devstack.conftest import DEVSTACK, ROOT, StackEnv


def test_clean_deletes_the_dev_dir(stack_env: StackEnv, dev_dir: Path) -> None:
    (dev_dir / "logs").mkdir(parents=True)
    (dev_dir / "logs" / "api.log").write_text("old\n")

    result = subprocess.run(
        [*DEVSTACK, "clean"],
        cwd=ROOT,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert not dev_dir.exists()
    assert f"deleted {dev_dir}" in result.stderr


def test_clean_refuses_while_a_stack_runs_on_that_dir(stack_env: StackEnv, dev_dir: Path) -> None:
    dev_dir.mkdir()
    with (dev_dir / "devstack.lock").open("a+") as lock:
        # What a running supervisor holds for its whole life.
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("4242\n")
        lock.flush()
        result = subprocess.run(
            [*DEVSTACK, "clean"],
            cwd=ROOT,
            env=stack_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 2
    assert "the dev stack is running (pid 4242)" in result.stderr
    assert dev_dir.exists()

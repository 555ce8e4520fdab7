"""Fixtures for the deploy commands: scripts/ importable, a command runner, process checks.

The modules under scripts/ are plain scripts (`python scripts/deploy.py`) that import their
siblings by name, so the tests put scripts/ on sys.path the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from cdk_env import tool_environment  # noqa: E402  (needs scripts/ on sys.path)

__all__ = ["SCRIPTS", "emulator_processes", "run_script", "tool_environment"]


def run_script(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `python scripts/SCRIPT ARGS` from the repository root, as a user does."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=REPO_ROOT,
        env=env if env is not None else tool_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def emulator_processes() -> list[int]:
    """Process ids of every emulator server (`scripts/emulator.py serve`) on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"scripts/emulator.py") for part in command) and b"serve" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def no_stray_emulator() -> Iterator[None]:
    """Fail the test if it leaves an emulator server running (and stop it then)."""
    before = set(emulator_processes())
    yield
    leftovers = set(emulator_processes()) - before
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert not leftovers, f"emulator processes left running: {sorted(leftovers)}"

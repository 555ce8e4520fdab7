"""benchmarks/training_throughput.py refuses settings that would measure nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import SAFETY_TIMEOUT_S, TRAINING_CODE

BENCHMARK = TRAINING_CODE.parent / "benchmarks" / "training_throughput.py"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--epochs=1", "--epochs must be at least 2: the first epoch is warm-up and not counted"),
        ("--repeats=0", "--repeats must be at least 1"),
        ("--threads=0", "--threads must be at least 1"),
    ],
)
def test_arguments_that_would_measure_nothing(argument: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), argument],
        capture_output=True,
        text=True,
        check=False,
        timeout=SAFETY_TIMEOUT_S,
    )
    assert result.returncode == 2
    assert result.stderr.endswith(f"error: {message}\n")

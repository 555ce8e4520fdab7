"""benchmarks/gpu_check.py: its GPU parts say "skipped" without a GPU, and its CPU path runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from .conftest import QUIET_THREADS, TRAINING_CODE

SCRIPT = TRAINING_CODE.parent / "benchmarks" / "gpu_check.py"


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **QUIET_THREADS},
    )


def test_frameworks_without_a_gpu_skip_every_gpu_part() -> None:
    result = run_check()
    assert result.returncode == 0, result.stderr
    seen = dict(re.findall(r"^(pytorch|tensorflow) \S+ sees (\d+) GPU", result.stdout, re.M))
    assert set(seen) == {"pytorch", "tensorflow"}
    for framework, gpus in seen.items():
        skipped = result.stdout.count(f"{framework}: no GPU: skipped")
        assert skipped == (2 if gpus == "0" else 0), result.stdout


def test_the_cpu_path_runs_every_part() -> None:
    result = run_check(
        "--cpu", "--rows=1000", "--epochs=2", "--repeats=1", "--batch-size=250", "--smoke-rows=200"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" not in result.stdout
    for framework in ("pytorch", "tensorflow"):
        assert re.search(rf"^\| {framework} \| cpu \| float32 \|", result.stdout, re.M)
    assert re.search(
        r"^pytorch on CPU: processes=2, exit 0, metric lines for epochs 1,2, model saved: ok$",
        result.stdout,
        re.M,
    ), result.stdout
    assert re.search(
        r"^tensorflow on CPU: strategy=\S+ replicas=1, exit 0, metric lines for epochs 1,2, "
        r"model saved: ok$",
        result.stdout,
        re.M,
    ), result.stdout

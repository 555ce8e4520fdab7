"""scripts/local_loop.py runs train -> model.tar.gz -> serve -> invoke end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from training_code.local_sagemaker.containers import free_port

from .conftest import QUIET_THREADS, SAFETY_TIMEOUT_S, TRAINING_CODE

LOCAL_LOOP = TRAINING_CODE.parent / "scripts" / "local_loop.py"


def local_loop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LOCAL_LOOP), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=SAFETY_TIMEOUT_S,
        env={**os.environ, **QUIET_THREADS},
    )


def test_the_loop_prints_a_prediction() -> None:
    result = local_loop("--framework", "pytorch", "--epochs", "2", "--port", str(free_port()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/5] train: pytorch" in result.stdout
    assert "(code, model.pth, model_spec.json)" in result.stdout
    assert '200 application/json: {"predictions": [{"predicted_label": ' in result.stdout
    assert result.stdout.endswith("serve stopped on SIGTERM (exit 0)\n")


def test_a_busy_port_is_refused_before_anything_runs() -> None:
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = local_loop("--framework", "tensorflow", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"port {port} is in use; pass --port with a free one\n"

"""AWS's own container toolkits, installed from PyPI once and cached, for the tests in this folder.

``toolkits`` installs ``toolkit-requirements.txt`` with ``pip install --no-deps --target`` into
``.cache/aws-toolkits/<hash>/`` (gitignored), keyed by the file's content and this Python's
version, so a rerun finds it at once and needs no network. The toolkits run in subprocesses with
that folder on PYTHONPATH, in front of the project's venv (torch, tensorflow, numpy), as the
Deep Learning Containers have them installed next to the framework.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

REQUIREMENTS = Path(__file__).with_name("toolkit-requirements.txt")
CACHE = REPO_ROOT / ".cache" / "aws-toolkits"
#: One thread per process: the tests share few cores with other tests.
QUIET_THREADS = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def _cache_key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def toolkits() -> Path:
    """The folder holding the installed toolkits (installed on first use)."""
    target = CACHE / _cache_key()
    if (target / "sagemaker_inference").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=CACHE))
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet"]
    command += ["--disable-pip-version-check", "--target", str(staging), "-r", str(REQUIREMENTS)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"installing {REQUIREMENTS.name} failed:\n{result.stderr}")
    try:
        staging.rename(target)  # atomic: a parallel worker's finished copy wins, this one goes
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def toolkit_environment(toolkits: Path, *first: Path, **variables: str) -> dict[str, str]:
    """This environment with ``first`` and then the toolkits in front of PYTHONPATH."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SM_", "SAGEMAKER_", "TF_CONFIG", "CHECKPOINT_LOCAL_PATH"))
    }
    environment["PYTHONPATH"] = os.pathsep.join([*map(str, first), str(toolkits)])
    environment.update(QUIET_THREADS, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
    environment.update(variables)
    return environment

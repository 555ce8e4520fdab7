"""Fixtures of the library tests: the built distributions, and a fresh environment with the wheel.

Building, creating a virtual environment, installing and synthesizing the consumer example take
about two minutes, so each happens once per session on one worker: the tests that use these
fixtures carry `pytest.mark.xdist_group("library")`. The environment's dependencies come from a
wheelhouse that is downloaded once per machine and set of pins, not from the package index on
every run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, exclusive

PACKAGE = "constructs_lib"
EXAMPLE_DIR = REPO_ROOT / "examples" / "consumer_app"
#: The project's Node.js (`make install` links it) and pinned CDK CLI.
NODE_BIN = REPO_ROOT / ".venv" / "node" / "bin"
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
#: The artifact the consumer example's endpoint serves in these tests (`-c model_key=...`).
MODEL_KEY = "models/churn/churn-1/output/model.tar.gz"
#: Installs and builds fetch from the package index; generous, for a cold machine.
SLOW_COMMAND_TIMEOUT = 900


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path = REPO_ROOT,
    env: dict[str, str] | None = None,
    timeout: int = SLOW_COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and return it; the caller checks the exit status."""
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """Fail the test with the command's output if it exited non-zero."""
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(result.args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


@dataclass(frozen=True)
class Distributions:
    """The wheel and sdist `python -m build` made (the wheel from the unpacked sdist)."""

    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """`python -m build` (isolated, as a user or CI builds) of a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    _copy_distribution_sources(source)
    outdir = tmp_path_factory.mktemp("dist")
    check(run([sys.executable, "-m", "build", "--outdir", outdir, source]))
    (wheel,) = outdir.glob("*.whl")
    (sdist,) = outdir.glob("*.tar.gz")
    return Distributions(wheel=wheel, sdist=sdist)


def distribution_files() -> list[Path]:
    """The files besides the package that pyproject.toml builds from: itself, readme, licenses."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    readme = project.get("readme")
    patterns = [
        "pyproject.toml",
        readme["file"] if isinstance(readme, dict) else readme,
        *project.get("license-files", []),
    ]
    return sorted({path for pattern in filter(None, patterns) for path in REPO_ROOT.glob(pattern)})


def _copy_distribution_sources(destination: Path) -> None:
    """Copy what pyproject.toml builds from into `destination`.

    Building from a copy keeps build/ and *.egg-info out of the working tree, and proves that
    the build needs nothing else.
    """
    for path in distribution_files():
        target = destination / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copytree(
        REPO_ROOT / PACKAGE,
        destination / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"),
    )


@dataclass(frozen=True)
class ConsumerEnvironment:
    """A fresh virtual environment holding the wheel, its declared dependencies and mypy."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def mypy(self) -> Path:
        return self.root / "bin" / "mypy"

    def environ(self) -> dict[str, str]:
        """This process's environment with the venv, then the project's Node.js, first on PATH.

        Nothing of the repository is importable: PYTHONPATH is dropped.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        }
        env["VIRTUAL_ENV"] = str(self.root)
        env["PATH"] = os.pathsep.join([str(self.root / "bin"), str(NODE_BIN), env["PATH"]])
        env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
        return env


#: What the consumer environment installs besides the wheel: the example's pins, and mypy.
CONSUMER_REQUIREMENTS = ("--requirement", EXAMPLE_DIR / "requirements.txt", "mypy")


@pytest.fixture(scope="session")
def wheelhouse(distributions: Distributions) -> Path:
    """Every dependency the consumer environment installs, as files in one folder.

    `pip download` resolves exactly as the install does (the same wheel, requirements and
    constraints). The folder is kept in the temporary directory, keyed by the pins, the wheel's
    declared dependencies and the Python version, so it is downloaded once per machine and
    again whenever one of those changes; the wheel itself is left out (it is built anew).
    """
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    key = hashlib.sha256(
        b"\0".join(
            [
                (REPO_ROOT / "requirements.txt").read_bytes(),
                (EXAMPLE_DIR / "requirements.txt").read_bytes(),
                "\n".join(project["dependencies"]).encode(),
                sys.version.encode(),
            ]
        )
    ).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"sagemaker-iac-wheelhouse-{key}"
    with exclusive(folder.with_name(f"{folder.name}.lock")):  # other sessions may fill it too
        if not (folder / ".complete").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            check(
                run(
                    [
                        sys.executable,
                        *("-m", "pip", "download", "--quiet", "--dest", folder),
                        *("--constraint", REPO_ROOT / "requirements.txt"),
                        distributions.wheel,
                        *CONSUMER_REQUIREMENTS,
                    ]
                )
            )
            (folder / distributions.wheel.name).unlink()
            (folder / ".complete").touch()
    return folder


@pytest.fixture(scope="session")
def consumer_environment(
    distributions: Distributions, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> ConsumerEnvironment:
    """`python -m venv` + `pip install <wheel> -r examples/consumer_app/requirements.txt mypy`.

    Versions are constrained to the project's requirements.txt, so the environment is
    reproducible and matches what the rest of the suite tests; they are installed from the
    wheelhouse only (`--no-index`), so nothing else can slip in. Bytecode is not compiled (a
    throwaway environment: it would triple the install time).
    """
    environment = ConsumerEnvironment(tmp_path_factory.mktemp("consumer") / "venv")
    check(run([sys.executable, "-m", "venv", environment.root]))
    check(
        run(
            [
                environment.python,
                *("-m", "pip", "install", "--quiet", "--no-compile"),
                *("--no-index", "--find-links", wheelhouse),
                *("--constraint", REPO_ROOT / "requirements.txt"),
                distributions.wheel,
                *CONSUMER_REQUIREMENTS,
            ],
            env=environment.environ(),
        )
    )
    return environment


@dataclass(frozen=True)
class ConsumerSynth:
    """The consumer example synthesized by the pinned `cdk` CLI in the fresh environment."""

    result: subprocess.CompletedProcess[str]
    outdir: Path

    def templates(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


@pytest.fixture(scope="session")
def consumer_synth(
    consumer_environment: ConsumerEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> ConsumerSynth:
    """`cdk synth` in examples/consumer_app/, with an endpoint (`-c model_key=...`).

    The result is returned, not checked, so that each test reports a failed synth itself.
    """
    outdir = tmp_path_factory.mktemp("consumer-cdk.out")
    result = run(
        [
            CDK_CLI,
            *("synth", "--quiet", "--no-notices", "--output", outdir),
            *("--context", f"model_key={MODEL_KEY}"),
        ],
        cwd=EXAMPLE_DIR,
        env=consumer_environment.environ(),
    )
    return ConsumerSynth(result=result, outdir=outdir)

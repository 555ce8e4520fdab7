"""Run the app as the pinned `cdk` CLI runs it, without paying for the CLI on every case.

`cdk synth` does three things before it starts the app command of cdk.json: it merges the
context (cdk.json's, the CLI's own settings and every `-c key=value`) into `CDK_CONTEXT_JSON`,
it creates the output folder and names it in `CDK_OUTDIR`, and it adds a few more `CDK_*`
variables. Rather than re-implementing that merge, `cli_app_environment` asks the real CLI once
per session: it runs `npx cdk synth -c config_dir=<marker>` with an app command that only
records the environment it was given. `AppRunner.synth` then starts cdk.json's app command with
exactly that environment, the marker replaced by the case's config folder and the output paths
by the case's own, in a fresh process per case.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, cdk_cli

# The containers import the shared package as top-level `sagemaker_contract`; so do these tests
# (appended, so that `training_code/tensorflow` never shadows the real package).
TRAINING_CODE = REPO_ROOT / "training_code"
if str(TRAINING_CODE) not in sys.path:
    sys.path.append(str(TRAINING_CODE))

#: Stands for the config folder in the recorded context; replaced per case.
_CONFIG_DIR_MARKER = "/config-dir-marker"
#: Variables of the recorded environment that hold paths inside the CLI's output folder.
_OUTPUT_PATH_VARIABLES = ("CDK_OUTDIR", "CDK_ERROR_FILE", "CDK_PERF_COUNTERS_FILE")
#: The app's data segment is capped, so that a case that makes it allocate without bound fails
#: instead of taking the shared machine's memory (a normal full synth stays far below).
APP_MEMORY_LIMIT_BYTES = 3 << 30
#: Runs argv[3:] with resource limit argv[1] (a `resource.RLIMIT_*` name) set to argv[2] bytes;
#: an exec, so the command is the process that the caller waits for and signals.
_LIMITED = (
    "import os, resource, sys; kind = getattr(resource, sys.argv[1]); limit = int(sys.argv[2]); "
    "resource.setrlimit(kind, (limit, limit)); os.execvp(sys.argv[3], sys.argv[3:])"
)
_RECORDER = """\
import json, os, sys
names = [name for name in os.environ if name.startswith("CDK_") or "CONTEXT" in name]
with open(sys.argv[1], "w", encoding="utf-8") as stream:
    json.dump({name: os.environ[name] for name in names}, stream)
"""


@dataclass(frozen=True)
class AppRunner:
    """Starts cdk.json's app command with the environment the CLI gives it."""

    command: tuple[str, ...]
    variables: dict[str, str]
    context: dict[str, object]
    recorded_outdir: str

    def environment(self, config_dir: Path, outdir: Path) -> dict[str, str]:
        """The app's environment for `cdk synth -c config_dir=CONFIG_DIR --output OUTDIR`."""
        environment = _with_project_path(dict(os.environ))
        for name, value in self.variables.items():
            moved = name in _OUTPUT_PATH_VARIABLES
            environment[name] = (
                value.replace(self.recorded_outdir, str(outdir), 1) if moved else value
            )
        environment["CDK_CONTEXT_JSON"] = json.dumps(
            {**self.context, "config_dir": str(config_dir)}
        )
        return environment

    def synth(
        self, config_dir: Path, outdir: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the app once, as `cdk synth` would, and return what it printed and its status."""
        outdir.mkdir(parents=True)  # the CLI creates the output folder before starting the app
        return subprocess.run(
            with_memory_limit(self.command, "RLIMIT_DATA", APP_MEMORY_LIMIT_BYTES),
            cwd=REPO_ROOT,
            env=self.environment(config_dir, outdir),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="session")
def cli_app_environment(tmp_path_factory: pytest.TempPathFactory) -> AppRunner:
    """What the pinned CLI hands cdk.json's app command, recorded once per session."""
    workdir = tmp_path_factory.mktemp("cli-environment")
    recorder, recorded, outdir = workdir / "record.py", workdir / "env.json", workdir / "out"
    recorder.write_text(_RECORDER, encoding="utf-8")
    result = cdk_cli(
        "synth",
        "--quiet",
        "-c",
        f"config_dir={_CONFIG_DIR_MARKER}",
        "--app",
        f"{sys.executable} {recorder} {recorded}",
        "--output",
        str(outdir),
    )
    # The recorder writes no cloud assembly, so the CLI itself ends with an error: expected.
    assert recorded.is_file(), result.stderr
    variables: dict[str, str] = json.loads(recorded.read_text(encoding="utf-8"))
    assert "CONTEXT_OVERFLOW_LOCATION_ENV" not in variables, "context too large for one variable"
    context = json.loads(variables.pop("CDK_CONTEXT_JSON"))
    assert context.pop("config_dir") == _CONFIG_DIR_MARKER
    cdk_json = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))
    assert cdk_json["context"].items() <= context.items(), "the CLI dropped cdk.json's context"
    assert variables["CDK_OUTDIR"] == str(outdir)
    return AppRunner(
        command=tuple(shlex.split(cdk_json["app"])),
        variables=variables,
        context=context,
        recorded_outdir=str(outdir),
    )


def with_memory_limit(command: Sequence[str], rlimit: str, size: int) -> list[str]:
    """`command` run with the resource limit named `rlimit` (e.g. "RLIMIT_AS") at `size` bytes.

    The limit is set by a small Python that then execs `command`, rather than by a preexec_fn,
    which is unsafe in a process with threads (pytest-xdist's workers have some).
    """
    return [sys.executable, "-c", _LIMITED, rlimit, str(size), *command]


def _with_project_path(environment: dict[str, str]) -> dict[str, str]:
    """PATH as `cdk_cli` sets it: the project's Node.js, then this Python's bin directory."""
    node_bin = REPO_ROOT / ".venv" / "node" / "bin"
    environment["PATH"] = os.pathsep.join(
        [str(node_bin), str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    return environment

"""The commands `make deploy ARGS=--keep-running` prints next work exactly as printed.

One kept-running emulated deploy of Dev; then every command of the report's "Next:" section and
of its "keeps running" lines is run as a user runs it: parsed from the report, in a shell at the
repository root, with a user's environment (no AWS variables or files, no region, the system's
PATH first, where Node.js may be an old one). Against the emulator, training and batch must
start nothing and say so, and invoke must show no answer of the emulator as a prediction.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import emulator_processes

pytestmark = pytest.mark.xdist_group("deploy")

KEEPS_RUNNING = re.compile(r"keeps running at (http://localhost:\d+) \(process group (\d+)\)")
#: Generous: two cores shared with other test sessions.
COMMAND_TIMEOUT_S = 900
STOP_TIMEOUT_S = 60


@dataclass(frozen=True)
class Report:
    """What the kept-running deploy printed, and the emulator it left up."""

    text: str
    url: str
    next_commands: list[str]
    keep_running_commands: dict[str, str]


def user_environment(home: Path) -> dict[str, str]:
    """A user's shell: the system PATH (the Makefile puts the project's tools first), no AWS
    variables, an empty home (no ~/.aws), so no region comes from anywhere but the project."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SAGEMAKER_", "VIRTUAL_ENV", "PYTEST_"))
    }
    venv_bin = str(REPO_ROOT / ".venv")
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if not part.startswith(venv_bin)
    )
    env["HOME"] = str(home)
    return env


def run_as_printed(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT_S,
    )


def parse_report(text: str) -> tuple[list[str], dict[str, str]]:
    """The `make ...` lines under "Next:", and the commands of the "keeps running" lines."""
    next_section = text.split("\nNext:\n", 1)[1].split("\n\n", 1)[0]
    next_commands = [
        line.strip() for line in next_section.splitlines() if line.strip().startswith("make ")
    ]
    running = text.split("keeps running at", 1)[1]
    keep_running = {
        match["what"]: match["command"]
        for match in re.finditer(r"^  (?P<what>[a-z ]+[a-zA-Z]+): +(?P<command>.+)$", running, re.M)
    }
    return next_commands, keep_running


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return user_environment(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def report(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    """`make deploy ARGS=--keep-running` (into a temporary cdk.out and log folder)."""
    installed = run_as_printed("make --question install", env)
    assert installed.returncode == 0, (
        "`make install` has not run for the current pins: run it first. This test runs the "
        "printed make commands as a user does and must not install anything itself (a shared "
        "node_modules would be reinstalled under other sessions)."
    )
    tmp = tmp_path_factory.mktemp("kept-running")
    args = f"--keep-running --outdir {tmp / 'out'} --log-dir {tmp / 'logs'}"
    deployed = run_as_printed(f"make deploy ARGS={shlex.quote(args)}", env)
    match = KEEPS_RUNNING.search(deployed.stdout)
    pgid = int(match.group(2)) if match else 0
    try:
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert match, deployed.stdout
        next_commands, keep_running = parse_report(deployed.stdout)
        yield Report(deployed.stdout, match.group(1), next_commands, keep_running)
    finally:
        if pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)


def test_the_report_prints_one_make_command_per_user_command_with_the_emulators_url(
    report: Report,
) -> None:
    targets = [command.split()[1] for command in report.next_commands]

    assert targets == ["train", "invoke", "batch", "local-loop"]
    for command in report.next_commands[:3]:
        assert re.fullmatch(rf"make \w+ NAME=[a-z0-9-]+ ENDPOINT_URL={report.url}", command)
    assert set(report.keep_running_commands) == {"deploy again", "destroy Dev", "stop it"}


@pytest.mark.parametrize(
    ("target", "found", "why"),
    [
        ("train", "Found Dev's training pipeline", "never runs its states"),
        ("batch", "Found Dev's batch transform", "never runs its states"),
        ("invoke", "in the emulator, InService; no request was sent", "not a prediction"),
    ],
)
def test_each_command_runs_as_printed_and_says_what_the_emulator_cannot_run(
    report: Report, env: dict[str, str], target: str, found: str, why: str
) -> None:
    command = next(c for c in report.next_commands if c.startswith(f"make {target} "))

    result = run_as_printed(command, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert found in result.stdout
    assert why in result.stdout
    assert "make local-loop" in result.stdout
    assert "answered" not in result.stdout  # nothing of the emulator's is shown as an answer
    # Nothing on stderr: no region error, no warning of an unsupported Node.js.
    assert result.stderr == ""


def test_a_wrong_name_is_one_message_listing_the_known_ones(
    report: Report, env: dict[str, str]
) -> None:
    command = next(c for c in report.next_commands if c.startswith("make train "))
    wrong = re.sub(r"NAME=\S+", "NAME=churn-xgbost", command)

    result = run_as_printed(wrong, env)

    assert result.returncode != 0
    assert "error: Dev has no training definition 'churn-xgbost'; known: " in result.stderr
    assert "Traceback" not in result.stderr


def test_the_local_loop_is_the_make_target_of_scripts_local_loop(
    report: Report, env: dict[str, str]
) -> None:
    """Running it (training, serving on port 8080) is tests/training_code's part; here: the
    printed command is the target that runs it."""
    command = next(c for c in report.next_commands if c.startswith("make local-loop"))

    planned = run_as_printed(command.replace("make ", "make --dry-run ", 1), env)

    assert planned.returncode == 0, planned.stderr
    assert ".venv/bin/python scripts/local_loop.py --framework pytorch" in planned.stdout


def test_destroy_and_stop_run_as_printed(report: Report, env: dict[str, str]) -> None:
    destroy = run_as_printed(report.keep_running_commands["destroy Dev"], env)
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert re.search(r"check .* (\d+) of \1 resources gone", destroy.stdout), destroy.stdout

    stop = run_as_printed(report.keep_running_commands["stop it"], env)

    assert stop.returncode == 0, stop.stderr
    pgid = int(KEEPS_RUNNING.search(report.text).group(2))  # type: ignore[union-attr]
    deadline = time.monotonic() + STOP_TIMEOUT_S  # SIGTERM: the server exits on its own time
    while pgid in emulator_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pgid not in emulator_processes()


@pytest.mark.parametrize(
    ("target", "section"),
    [("train", "training"), ("invoke", "endpoints"), ("batch", "batch_transforms")],
)
def test_a_command_without_name_says_where_the_names_are(
    target: str, section: str, tmp_path: Path
) -> None:
    result = run_as_printed(f"make --dry-run {target}", user_environment(tmp_path))

    assert result.returncode != 0
    assert (
        f"make {target} needs NAME=<one of `{section}:` in config/dev.yaml, or config/prod.yaml "
        f"with STAGE=Prod>, e.g. make {target} NAME=churn-xgboost.  Stop."
    ) in result.stderr

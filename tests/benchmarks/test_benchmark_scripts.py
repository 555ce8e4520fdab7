"""The benchmark scripts measure the right things: the floor has the app's stacks, the scaled
config is one the app accepts, the deploy timings are read from what deploy.py prints, and the
suite's timings are those of the tests that ran, by xdist group."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import BUILTIN_CLOUDFORMATION_VALIDATION
from benchmarks.local_deploy import PHASE, TIMINGS
from benchmarks.scale import scaled_config
from benchmarks.synth_floor import assembly_stacks, floor_source
from benchmarks.tests import Timing
from benchmarks.tests import report as suite_report
from config import load_stage_config
from tests.conftest import REPO_ROOT, SynthesizedApp
from tests.deploy.conftest import SCRIPTS

assert str(SCRIPTS)  # scripts/ is on sys.path now, as deploy.py needs
import deploy  # noqa: E402


@pytest.mark.xdist_group("app")
def test_the_floor_app_has_exactly_the_apps_stages_and_stacks(
    synthesized: SynthesizedApp,
) -> None:
    stages = assembly_stacks(synthesized.outdir)

    assert {
        f"{stage}/{stack}" for stage, (_, _, stacks) in stages.items() for stack in stacks
    } == set(synthesized.stacks)
    assert stages["Dev"][:2] == ("123456789012", "us-east-1")
    source = floor_source(stages)
    compile(source, "floor_app.py", "exec")
    # Like with like: the floor has the app's CDK settings.
    assert f"App(builtin_cloud_formation_validation={BUILTIN_CLOUDFORMATION_VALIDATION})" in source


@pytest.mark.parametrize("count", [1, 50])
def test_the_scaled_config_is_valid_and_has_n_models(count: int, tmp_path: Path) -> None:
    config = scaled_config(count)
    path = tmp_path / "dev.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML

    loaded = load_stage_config(path)

    assert len(loaded.training) == count
    assert len(loaded.endpoints) == count


def test_deploy_timings_are_read_from_deploy_py_s_own_summary() -> None:
    timings = deploy.Timings(phases=[("synth", 8.25), ("emulator", 2.0), ("deploy", 4.5)])
    out = io.StringIO()
    deploy._print_timings(timings, out)

    match = TIMINGS.search(out.getvalue())

    assert match is not None
    assert [(m["name"], float(m["seconds"])) for m in PHASE.finditer(match["phases"])] == [
        ("synth", 8.2),
        ("emulator", 2.0),
        ("deploy", 4.5),
    ]


TINY_SUITE = """\
import time

import pytest


@pytest.mark.xdist_group("slow-group")
@pytest.mark.parametrize("seconds", [0, 2])
def test_sleeps(seconds):
    time.sleep(seconds)


def test_alone():
    pass


def test_fails():
    assert False
"""


def test_the_suite_benchmark_times_real_tests_by_xdist_group(tmp_path: Path) -> None:
    """benchmarks/tests.py on a tiny suite, with two xdist workers: every test is listed with
    at least the time it slept, the group sums its tests, and pytest's failure is passed on."""
    (tmp_path / "test_tiny.py").write_text(TINY_SUITE, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "tests.py"), str(tmp_path), "-n", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert result.returncode == 1, result.stdout + result.stderr  # test_fails failed
    report = result.stdout[result.stdout.index("\n4 tests (") :]
    assert re.search(r"^4 tests \(1 failed, 3 passed\) in [\d.]+ s wall;", report, re.M)
    assert re.search(r"^test time per worker: gw0 [\d.]+ s, gw1 [\d.]+ s$", report, re.M)
    listed = {
        match["test"]: float(match["seconds"])
        for match in re.finditer(
            r"^ +(?P<seconds>[\d.]+) s  \S*::(?P<test>test_\w+(\[\d\])?)", report, re.M
        )
    }
    assert set(listed) == {"test_sleeps[0]", "test_sleeps[2]", "test_alone", "test_fails"}
    assert listed["test_sleeps[2]"] >= 2.0
    (group,) = re.findall(r"^ +([\d.]+) s  slow-group \(2 tests\)$", report, re.M)
    assert float(group) >= 2.0
    assert "[slow-group]" in report


def test_the_suite_benchmark_ranks_tests_and_groups_by_their_time() -> None:
    timings = [
        Timing("t.py::a", 1.0, "passed", "g1", "gw0"),
        Timing("t.py::b", 3.0, "passed", "g1", "gw0"),
        Timing("t.py::c", 3.5, "failed", "g2", "gw1"),
        Timing("t.py::d", 0.5, "passed", None, "gw1"),
    ]

    lines = suite_report(timings, wall=5.0, top=2)

    assert lines == [
        "4 tests (1 failed, 3 passed) in 5.0 s wall; 8.0 s of test time",
        "test time per worker: gw0 4.0 s, gw1 4.0 s",
        "",
        "2 slowest tests (setup + call + teardown; a shared fixture counts for its first test):",
        "      3.5 s  t.py::c [g2]",
        "      3.0 s  t.py::b [g1]",
        "",
        "2 slowest xdist groups (each runs on one worker, start to end):",
        "      4.0 s  g1 (2 tests)",
        "      3.5 s  g2 (1 test)",
        "  (tests in no group, spread over every worker: 0.5 s)",
    ]

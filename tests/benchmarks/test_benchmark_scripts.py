"""The benchmark scripts measure the right things: the floor has the app's stacks, the scaled
config is one the app accepts, and the deploy timings are read from what deploy.py prints."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app import BUILTIN_CLOUDFORMATION_VALIDATION
from benchmarks.local_deploy import PHASE, TIMINGS
from benchmarks.scale import scaled_config
from benchmarks.synth_floor import assembly_stacks, floor_source
from config import load_stage_config
from tests.conftest import SynthesizedApp
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

"""The consumer example (examples/consumer_app/) on the installed wheel, as another team runs it.

It is synthesized by the pinned `cdk` CLI with the fresh environment's Python, so it sees the
wheel and its declared dependencies only. Its template must pass cdk-nag (AwsSolutions, HIPAA
Security, NIST 800-53 rev 5) and cfn-lint with zero findings, and `mypy --strict` must accept
the app against the wheel's type information (py.typed).

The template is also a snapshot: the library's constructs with their defaults, as a consumer
gets them. A diff there is a change every consumer deploys; docs/library.md#versioning says
which such changes are breaking.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from syrupy.assertion import SnapshotAssertion

import constructs_lib
from tests.conftest import REPO_ROOT, meaningful_lines
from tests.library.conftest import (
    EXAMPLE_DIR,
    ConsumerEnvironment,
    ConsumerSynth,
    check,
    run,
)

pytestmark = pytest.mark.xdist_group("library")


def _template(consumer_synth: ConsumerSynth) -> dict[str, Any]:
    (path,) = consumer_synth.templates()
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_synth_succeeds_and_prints_nothing(consumer_synth: ConsumerSynth) -> None:
    check(consumer_synth.result)

    assert meaningful_lines(consumer_synth.result.stderr) == []
    assert [path.name for path in consumer_synth.templates()] == ["ChurnModel.template.json"]


def test_cdk_nag_packs_ran_and_found_nothing(consumer_synth: ConsumerSynth) -> None:
    check(consumer_synth.result)
    report = json.loads((consumer_synth.outdir / "validation-report.json").read_text())

    assert report["pluginReports"] == []
    source = (EXAMPLE_DIR / "app.py").read_text()
    for pack in ("AwsSolutionsChecks(app)", "HIPAASecurityChecks(app)", "NIST80053R5Checks(app)"):
        assert pack in source


def test_cfn_lint_finds_nothing(consumer_synth: ConsumerSynth) -> None:
    check(consumer_synth.result)
    cfn_lint = Path(sys.executable).parent / "cfn-lint"

    # In the example's folder, so that its own .cfnlintrc.yaml applies, as for a consumer.
    result = run([cfn_lint, "--format", "parseable", *consumer_synth.templates()], cwd=EXAMPLE_DIR)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_example_composes_training_and_an_endpoint_from_the_builtin_catalog(
    consumer_synth: ConsumerSynth,
) -> None:
    check(consumer_synth.result)
    resources = _template(consumer_synth)["Resources"]
    types = sorted(resource["Type"] for resource in resources.values())

    for expected in (
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
        "AWS::StepFunctions::StateMachine",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
    ):
        assert expected in types
    assert types.count("AWS::S3::Bucket") == 3
    (model,) = [r for r in resources.values() if r["Type"] == "AWS::SageMaker::Model"]
    assert "sagemaker-xgboost" in model["Properties"]["PrimaryContainer"]["Image"]


def test_the_template_is_the_committed_snapshot(
    consumer_synth: ConsumerSynth, snapshot: SnapshotAssertion
) -> None:
    check(consumer_synth.result)
    template = _template(consumer_synth)
    # CDK's usage analytics change with the CDK version and say nothing about the library.
    template["Resources"].pop("CDKMetadata", None)

    assert template == snapshot


def test_mypy_strict_accepts_the_example_against_the_wheel(
    consumer_environment: ConsumerEnvironment, tmp_path: Path
) -> None:
    # With the project's mypy settings (strict, like --strict), the incremental cache that
    # `make lint` leaves in .mypy_cache applies to aws_cdk's large stubs: a copy of it turns
    # minutes into seconds. Without one, mypy checks everything afresh.
    cache = tmp_path / "mypy-cache"
    if (REPO_ROOT / ".mypy_cache").is_dir():
        shutil.copytree(REPO_ROOT / ".mypy_cache", cache)
    result = run(
        [
            consumer_environment.mypy,
            *("--strict", "--config-file", REPO_ROOT / "pyproject.toml"),
            *("--cache-dir", cache, "app.py"),
        ],
        cwd=EXAMPLE_DIR,
        env=consumer_environment.environ(),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Success: no issues found in 1 source file"


def test_the_example_pins_this_library_version_and_the_project_cdk() -> None:
    requirements = {
        requirement.name: str(requirement.specifier)
        for line in (EXAMPLE_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
        for requirement in [Requirement(line)]
    }
    project_pins = {
        requirement.name: str(requirement.specifier)
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", " ", "-"))
        for requirement in [Requirement(line)]
    }

    assert requirements.pop("sagemaker-cdk-constructs") == f"=={constructs_lib.__version__}"
    assert requirements == {name: project_pins[name] for name in requirements}


def test_the_example_uses_the_feature_flags_of_the_project() -> None:
    example = json.loads((EXAMPLE_DIR / "cdk.json").read_text())
    project = json.loads((REPO_ROOT / "cdk.json").read_text())

    assert example["app"] == "python3 app.py"
    assert example["context"] == project["context"]

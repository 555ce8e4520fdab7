"""A stage that outgrows a CloudFormation stack quota fails at synth, before anything deploys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from stacks.cloudformation_limits import (
    MAX_RESOURCES,
    TemplateSize,
    cdk_quota_problems,
    quota_problems,
)
from tests.conftest import REPO_ROOT, cdk_cli, meaningful_lines


def _template(tmp_path: Path, *, resources: int, outputs: int = 0, padding: int = 0) -> Path:
    path = tmp_path / "template.json"
    template = {
        "Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(resources)},
        "Outputs": {f"Out{i}": {"Value": "x"} for i in range(outputs)},
        "Metadata": {"Padding": "x" * padding},
    }
    path.write_text(json.dumps(template))
    return path


def test_a_stack_within_every_quota_has_no_problem(tmp_path: Path) -> None:
    size = TemplateSize.of("Dev/Serving", _template(tmp_path, resources=MAX_RESOURCES))

    assert size.resources == MAX_RESOURCES
    assert size.problems() == []


def test_each_exceeded_quota_is_named_with_the_config_section_to_change(tmp_path: Path) -> None:
    sizes = [
        TemplateSize.of("Dev/Serving", _template(tmp_path, resources=501)),
        TemplateSize.of("Prod/Training", _template(tmp_path, resources=1, outputs=201)),
        TemplateSize.of("Dev/Batch", _template(tmp_path, resources=1, padding=1_000_001)),
    ]

    assert quota_problems(sizes) == [
        "Dev/Serving: 501 resources, above CloudFormation's quota of 500 per stack; "
        "declare fewer `endpoints` entries in this stage's config file, or put some endpoints "
        "in another Serving stack (`stack: serving-2`)",
        "Prod/Training: 201 outputs, above CloudFormation's quota of 200 per stack; "
        "declare fewer `training` entries in this stage's config file",
        f"Dev/Batch: {sizes[2].size_bytes:,} template bytes, above CloudFormation's quota of "
        "1,000,000 per stack; declare fewer `batch_transforms` entries in this stage's config "
        "file",
    ]


@pytest.mark.xdist_group("cli")
def test_synth_refuses_a_stage_past_the_resource_quota(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    shutil.copy(REPO_ROOT / "config" / "prod.yaml", config_dir / "prod.yaml")
    dev = yaml.safe_load((REPO_ROOT / "config" / "dev.yaml").read_text())
    endpoint = dev["endpoints"]["churn-xgboost"]
    dev["endpoints"] = {f"model-{i:03d}": endpoint for i in range(80)}
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(dev))
    outdir = tmp_path / "out"

    result = cdk_cli("synth", "--quiet", "-c", f"config_dir={config_dir}", "--output", str(outdir))

    assert result.returncode != 0
    lines = meaningful_lines(result.stderr)
    assert lines[0] == "CloudFormation quota exceeded:"
    assert lines[1].startswith("  Dev/Serving: ")
    expected = (
        " resources, above CloudFormation's quota of 500 per stack; declare fewer `endpoints` "
        "entries in this stage's config file, or put some endpoints in another Serving stack "
        "(`stack: serving-2`) (by type: AWS::IAM::Role ("
    )
    assert expected in lines[1]
    assert lines[2:] == ["python3 app.py: Subprocess exited with error 1"]
    assert "Traceback" not in result.stderr


def test_cdks_own_resource_count_error_becomes_the_quota_message() -> None:
    error = (
        "@jsii/kernel.RuntimeError: TooManyResourcesInStack: Number of resources in stack "
        "'Dev/Training': 612 is greater than allowed maximum of 500: AWS::IAM::Role (300), "
        "AWS::StepFunctions::StateMachine (312)\n    at Kernel._Kernel_ensureSync"
    )

    assert cdk_quota_problems(error) == [
        "Dev/Training: 612 resources, above CloudFormation's quota of 500 per stack; declare "
        "fewer `training` entries in this stage's config file (by type: AWS::IAM::Role (300), "
        "AWS::StepFunctions::StateMachine (312))"
    ]
    assert cdk_quota_problems("ValidationFailed: something else") == []

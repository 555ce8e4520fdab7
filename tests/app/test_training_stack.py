"""The training execution role: trusted by SageMaker only, scoped to named prefixes and one key."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

STAGES = ["Dev", "Prod"]


def _statements(template: dict[str, Any], role: str = "ExecutionRole") -> list[dict[str, Any]]:
    """The statements of the execution role's policies (or those of `role`)."""
    return [
        statement
        for logical_id, resource in template["Resources"].items()
        if logical_id.startswith(role)
        and resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _object_scope(resource: Any) -> str:
    """`data/datasets/*` for a stage bucket prefix; the CDK assets bucket's one object."""
    if isinstance(resource, str):
        assert re.fullmatch(
            r"arn:aws:s3:::cdk-hnb659fds-assets-\d{12}-us-east-1/[0-9a-f]{64}\.gz", resource
        ), resource
        return "cdk-assets/<training code bundle>"
    bucket_export, suffix = resource["Fn::Join"][1]
    bucket = "data" if "BucketsData" in bucket_export["Fn::ImportValue"] else "artifacts"
    return f"{bucket}{suffix}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stage", STAGES)
def test_only_sagemaker_assumes_the_execution_role(synthesized: SynthesizedApp, stage: str) -> None:
    roles = synthesized.template(f"{stage}/Training").find_resources("AWS::IAM::Role")
    role = next(r for logical_id, r in roles.items() if logical_id.startswith("ExecutionRole"))[
        "Properties"
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role or all(
        "arn:aws:iam::aws:policy" not in str(arn) for arn in role["ManagedPolicyArns"]
    )
    assert "Policies" not in role


@pytest.mark.parametrize("stage", STAGES)
def test_no_s3_wildcard_action_and_no_star_resource_but_the_unavoidable(
    synthesized: SynthesizedApp, stage: str
) -> None:
    statements = _statements(synthesized.template_json(f"{stage}/Training"))
    assert statements
    for statement in statements:
        assert all("*" not in action for action in _as_list(statement["Action"])), statement
        if "*" in _as_list(statement["Resource"]):
            if _as_list(statement["Action"]) == ["ecr:GetAuthorizationToken"]:
                continue  # no resource-level permissions; pulls are scoped to repositories
            assert _as_list(statement["Action"]) == ["cloudwatch:PutMetricData"]
            assert statement["Condition"] == {
                "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}
            }


@pytest.mark.parametrize("stage", STAGES)
def test_reads_only_datasets_and_writes_only_models_and_checkpoints(
    synthesized: SynthesizedApp, stage: str
) -> None:
    statements = _statements(synthesized.template_json(f"{stage}/Training"))
    s3_objects: dict[str, set[str]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            if action.startswith("s3:") and action != "s3:ListBucket":
                for resource in _as_list(statement["Resource"]):
                    s3_objects.setdefault(action, set()).add(_object_scope(resource))
    code_bundle = {"cdk-assets/<training code bundle>"} if stage == "Dev" else set()
    assert s3_objects == {
        "s3:GetObject": {"data/datasets/*", "artifacts/models/*", "artifacts/checkpoints/*"}
        | code_bundle,
        "s3:PutObject": {"artifacts/models/*", "artifacts/checkpoints/*"},
        "s3:AbortMultipartUpload": {"artifacts/models/*", "artifacts/checkpoints/*"},
    }
    listings = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert sorted(str(s["Condition"]["StringLike"]["s3:prefix"]) for s in listings) == sorted(
        [str(["datasets/*"]), str(["models/*", "checkpoints/*"])]
    )


@pytest.mark.parametrize("stage", STAGES)
def test_uses_only_the_stage_key(synthesized: SynthesizedApp, stage: str) -> None:
    statements = _statements(synthesized.template_json(f"{stage}/Training"))
    kms = [s for s in statements if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert len(kms) == 2
    for statement in kms:
        assert "KeyE447D366Arn" in str(statement["Resource"])
    create_grant = next(s for s in kms if s["Action"] == "kms:CreateGrant")
    assert create_grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_the_autopilot_role_reads_datasets_writes_models_and_uses_only_the_stage_key(
    synthesized: SynthesizedApp,
) -> None:
    statements = _statements(synthesized.template_json("Dev/Training"), "AutopilotRole")
    s3_objects: dict[str, set[str]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            if action.startswith("s3:") and action != "s3:ListBucket":
                for resource in _as_list(statement["Resource"]):
                    s3_objects.setdefault(action, set()).add(_object_scope(resource))
    assert s3_objects == {
        "s3:GetObject": {"data/datasets/*", "artifacts/models/*"},
        "s3:PutObject": {"artifacts/models/*"},
        "s3:AbortMultipartUpload": {"artifacts/models/*"},
    }
    kms = [s for s in statements if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert len(kms) == 2
    assert all("KeyE447D366Arn" in str(s["Resource"]) for s in kms)
    stars = [s for s in statements if "*" in _as_list(s["Resource"])]
    assert [_as_list(s["Action"]) for s in stars] == [["cloudwatch:PutMetricData"]]


def test_the_autopilot_role_exists_only_with_an_autopilot_definition(
    synthesized: SynthesizedApp,
) -> None:
    roles = {
        stage: [
            logical_id
            for logical_id in synthesized.template(f"{stage}/Training").find_resources(
                "AWS::IAM::Role"
            )
            if logical_id.startswith("AutopilotRole")
        ]
        for stage in STAGES
    }
    assert roles == {"Dev": ["AutopilotRoleDEBD6F0D"], "Prod": []}
    assert synthesized.stages["Dev"].training.autopilot_role is not None
    assert synthesized.stages["Prod"].training.autopilot_role is None

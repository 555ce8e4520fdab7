"""The Batch stacks: one pipeline per `batch_transforms:` entry, Dev and Prod as configured,
each role scoped to its prefixes and the stage's key, each request valid for SageMaker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App

from config import DEFAULT_CONFIG_DIR, load_all
from stacks import SageMakerStage
from stacks.naming import pascal_case
from tests.conftest import SynthesizedApp, cdk_json_context
from tests.constructs_lib.test_batch_transform import (
    SAMPLE_KEY,
    check_with_botocore_and_moto,
    definition,
    execution_request,
)

pytestmark = pytest.mark.xdist_group("app")

CONFIGS = load_all(DEFAULT_CONFIG_DIR)
DEFINITIONS = [
    (stage, name)
    for stage, key in (("Dev", "dev"), ("Prod", "prod"))
    for name in sorted(CONFIGS[key].batch_transforms)
]
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _template(synthesized: SynthesizedApp, stage: str) -> dict[str, Any]:
    return synthesized.template_json(f"{stage}/Batch")


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def _import(stage: str, export: str) -> dict[str, str]:
    return {"Fn::ImportValue": f"{stage}-Data:ExportsOutput{export}"}


def _policy(template: dict[str, Any], name: str, part: str) -> list[dict[str, Any]]:
    policies = _resources(template, "AWS::IAM::ManagedPolicy")
    found = [r for k, r in policies.items() if k.startswith(f"{pascal_case(name)}ModelRole{part}")]
    assert len(found) == 1
    return found[0]["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_both_stages_have_a_batch_stack_with_one_pipeline_per_definition(
    synthesized: SynthesizedApp,
) -> None:
    for stage, key in (("Dev", "dev"), ("Prod", "prod")):
        template = _template(synthesized, stage)
        count = len(CONFIGS[key].batch_transforms)
        assert count >= 1
        assert len(_resources(template, "AWS::StepFunctions::StateMachine")) == count
        assert len(_resources(template, "AWS::SageMaker::Model")) == count
        assert sorted(template["Outputs"]) == sorted(
            f"{pascal_case(name)}StateMachineArn" for name in CONFIGS[key].batch_transforms
        )


def test_a_stage_without_batch_transforms_has_no_batch_stack() -> None:
    config = CONFIGS["dev"].model_copy(update={"batch_transforms": {}})
    stage = SageMakerStage(App(context=cdk_json_context()), "Dev", config=config)
    assert stage.batch is None
    assert stage.node.try_find_child("Batch") is None


@pytest.mark.parametrize(("stage", "name"), DEFINITIONS)
def test_the_transform_request_is_valid_for_botocore_and_moto(
    synthesized: SynthesizedApp, stage: str, name: str
) -> None:
    states = definition(_template(synthesized, stage), pascal_case(name))["States"]
    job_name = f"{name}-0f8fad5b-d9cb-469f-a165-70867728950e"
    request = execution_request(
        states["Transform"], job_name=job_name, input_uri="s3://sample-data/datasets/x/"
    )
    assert request["TransformOutput"]["S3OutputPath"] == (
        f"s3://sample-artifacts/batch/{name}/{job_name}/"
    )
    assert request["TransformOutput"]["KmsKeyId"] == SAMPLE_KEY
    assert request["TransformResources"]["VolumeKmsKeyId"] == SAMPLE_KEY
    assert request["Tags"] == [{"Key": "batch-transform", "Value": name}]
    check_with_botocore_and_moto(request, {"Image": XGBOOST_IMAGE})


def test_dev_scores_the_configured_artifact_small_and_prod_the_registered_model_larger(
    synthesized: SynthesizedApp,
) -> None:
    dev, prod = (
        definition(_template(synthesized, stage), "ChurnXgboost")["States"]
        for stage in ("Dev", "Prod")
    )
    assert dev["ChooseInput"]["Parameters"]["defaults"] == {
        "input": "s3://sample-data/datasets/churn/batch/"
    }
    dev_request = dev["Transform"]["Parameters"]
    prod_request = prod["Transform"]["Parameters"]
    assert dev_request["TransformResources"]["InstanceType"] == "ml.m5.large"
    assert dev_request["TransformResources"]["InstanceCount"] == 1
    assert prod_request["TransformResources"]["InstanceType"] == "ml.m5.xlarge"
    assert prod_request["TransformResources"]["InstanceCount"] == 2
    assert dev["Transform"]["TimeoutSeconds"] == 30 * 60
    assert prod["Transform"]["TimeoutSeconds"] == 120 * 60
    for request in (dev_request, prod_request):
        assert request["TransformInput"]["ContentType"] == "text/csv"
        assert request["TransformInput"]["SplitType"] == "Line"
        assert request["TransformOutput"]["AssembleWith"] == "Line"
        assert request["BatchStrategy"] == "MultiRecord"
    assert "MaxConcurrentTransforms" not in dev_request
    assert prod_request["MaxConcurrentTransforms"] == 4

    dev_model, prod_model = (
        next(iter(_resources(_template(synthesized, stage), "AWS::SageMaker::Model").values()))
        for stage in ("Dev", "Prod")
    )
    assert dev_model["Properties"]["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    artifact = CONFIGS["dev"].batch_transforms["churn-xgboost"].model.artifact
    assert artifact is not None
    assert artifact in json.dumps(dev_model["Properties"]["PrimaryContainer"]["ModelDataUrl"])
    assert prod_model["Properties"]["PrimaryContainer"] == {
        "ModelPackageName": CONFIGS["prod"]
        .batch_transforms["churn-xgboost"]
        .model.model_package_arn
    }


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_logs_follow_the_stage(synthesized: SynthesizedApp, stage: str) -> None:
    (log_group,) = _resources(_template(synthesized, stage), "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == (30 if stage == "Dev" else 365)
    assert log_group["DeletionPolicy"] == ("Delete" if stage == "Dev" else "Retain")


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_the_model_role_reads_datasets_and_writes_only_its_batch_folder(
    synthesized: SynthesizedApp, stage: str
) -> None:
    statements = _policy(_template(synthesized, stage), "churn-xgboost", "S3Access")
    data = _import(stage, "FnGetAttBucketsData2BA7BAFBArn2D53899D")
    artifacts = _import(stage, "FnGetAttBucketsArtifacts7910A7ABArn057B6674")
    lists = {json.dumps(s["Resource"]): s["Condition"] for s in statements if "List" in s["Action"]}
    assert lists == {
        json.dumps(data): {"StringLike": {"s3:prefix": ["datasets/*"]}},
        json.dumps(artifacts): {"StringLike": {"s3:prefix": ["batch/churn-xgboost/*"]}},
    }
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert writes == [
        {
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [artifacts, "/batch/churn-xgboost/*"]]},
        }
    ]
    reads = json.dumps([s["Resource"] for s in statements if s["Action"] == "s3:GetObject"])
    assert json.dumps({"Fn::Join": ["", [data, "/datasets/*"]]}) in reads
    model_reads = "/models/*" if stage == "Prod" else "/models/churn-xgboost/churn-xgboost-"
    assert model_reads in reads
    assert "s3:*" not in json.dumps(statements)


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_the_model_role_uses_only_the_stage_key(synthesized: SynthesizedApp, stage: str) -> None:
    statements = _policy(_template(synthesized, stage), "churn-xgboost", "ServiceAccess")
    keys = [s["Resource"] for s in statements if "kms:" in json.dumps(s["Action"])]
    assert keys == [_import(stage, "FnGetAttKeyE447D366Arn1BDC6918")] * 2


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_the_state_machine_runs_only_its_own_jobs(synthesized: SynthesizedApp, stage: str) -> None:
    template = _template(synthesized, stage)
    (policy,) = _resources(template, "AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    sagemaker = [s for s in statements if "sagemaker:" in json.dumps(s["Action"])]
    account = CONFIGS[stage.lower()].account
    assert [s["Resource"] for s in sagemaker] == [
        f"arn:aws:sagemaker:us-east-1:{account}:transform-job/churn-xgboost-*"
    ]
    assert "iam:PassRole" not in json.dumps(statements)


def test_failed_transforms_are_published_to_the_stage_topic(synthesized: SynthesizedApp) -> None:
    (rule,) = _resources(_template(synthesized, "Dev"), "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"]["status"] == [
        "FAILED",
        "TIMED_OUT",
        "ABORTED",
    ]
    assert "ExportsOutputRefNotifications" in json.dumps(rule["Properties"]["Targets"])

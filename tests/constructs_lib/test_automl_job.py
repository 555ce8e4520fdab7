"""AutoMLJob and its CreateAutoMLJobV2 request; a TrainingPipeline that runs one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import botocore.session
import pytest
from aws_cdk import App, CfnElement, Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from botocore.validate import validate_parameters
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks

from constructs_lib import (
    AutoMLJob,
    BucketPrefixes,
    SageMakerExecutionRole,
    TrainingInput,
    TrainingJob,
    TrainingPipeline,
)
from constructs_lib.automl_job import CSV, OBJECTIVE_METRICS, PARQUET, automl_job_request
from tests.conftest import cdk_json_context

pytestmark = pytest.mark.xdist_group("automl")

ROLE = "arn:aws:iam::123456789012:role/autopilot"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


class Given:
    """A stack with a data bucket, a key, a topic and an execution role."""

    def __init__(self, outdir: Path | None = None) -> None:
        self.app = App(context=cdk_json_context(), outdir=str(outdir) if outdir else None)
        self.stack = Stack(
            self.app, "Automl", env=Environment(account="123456789012", region="us-east-1")
        )
        self.key = kms.Key(self.stack, "Key", enable_key_rotation=True)
        self.bucket = s3.Bucket(
            self.stack,
            "Data",
            encryption_key=self.key,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        self.topic = sns.Topic(self.stack, "Topic", master_key=self.key, enforce_ssl=True)
        self.role = SageMakerExecutionRole(
            self.stack,
            "Role",
            encryption_key=self.key,
            read=[BucketPrefixes(self.bucket, ("datasets/",))],
            write=[BucketPrefixes(self.bucket, ("models/",))],
        )

    def inputs(self, *names: str, content_type: str | None = None) -> list[TrainingInput]:
        return [
            TrainingInput(
                name=name,
                bucket=self.bucket,
                prefix=f"datasets/churn/{name}/",
                content_type=content_type,
            )
            for name in names
        ]

    def job(self, **props: Any) -> AutoMLJob:
        values: dict[str, Any] = {
            "name": "churn-automl",
            "inputs": self.inputs("train"),
            "target_column": "churned",
            "problem_type": "BinaryClassification",
            "output_bucket": self.bucket,
            "output_prefix": "models/churn-automl/",
        }
        values.update(props)
        return AutoMLJob(**values)

    def pipeline(self, job: AutoMLJob, **props: Any) -> TrainingPipeline:
        return TrainingPipeline(
            self.stack,
            "Pipeline",
            job=job,
            execution_role=self.role,
            encryption_key=self.key,
            notification_topic=self.topic,
            **props,
        )


def _resolved(given: Given, request: dict[str, Any]) -> dict[str, Any]:
    """The request as a sample execution sends it: tokens and state paths filled in."""
    text = json.dumps(given.stack.resolve(request))
    text = text.replace(
        '"AutoMLJobName.$": "$.job_name"', '"AutoMLJobName": "churn-automl-0f8fad5b"'
    )
    for channel in ("train", "validation"):
        text = text.replace(
            f'"S3Uri.$": "$.data.{channel}"', f'"S3Uri": "s3://data/datasets/churn/{channel}/"'
        )
    resolved: dict[str, Any] = json.loads(text)
    resolved["OutputDataConfig"]["S3OutputPath"] = "s3://artifacts/models/churn-automl/"
    return resolved


def test_the_request_carries_every_option_and_passes_botocore_validation() -> None:
    given = Given()
    subnet = ec2.Subnet.from_subnet_id(given.stack, "Subnet", "subnet-0123456789abcdef0")
    group = ec2.SecurityGroup.from_security_group_id(given.stack, "Group", "sg-0123456789abcdef0")
    job = given.job(
        inputs=given.inputs("train", "validation", content_type=PARQUET),
        problem_type="MulticlassClassification",
        objective_metric="F1macro",
        mode="HYPERPARAMETER_TUNING",
        max_candidates=10,
        max_runtime_per_candidate=Duration.minutes(20),
        max_job_runtime=Duration.hours(2),
        vpc_subnets=[subnet],
        security_groups=[group],
        tags={"team": "churn"},
    )

    request = _resolved(
        given, automl_job_request(job, role_arn=ROLE, key_arn=KEY, job_name_path="$.job_name")
    )

    validate_parameters(request, SAGEMAKER.operation_model("CreateAutoMLJobV2").input_shape)
    assert request["AutoMLProblemTypeConfig"] == {
        "TabularJobConfig": {
            "ProblemType": "MulticlassClassification",
            "TargetAttributeName": "churned",
            "Mode": "HYPERPARAMETER_TUNING",
            "CompletionCriteria": {
                "MaxCandidates": 10,
                "MaxRuntimePerTrainingJobInSeconds": 1200,
                "MaxAutoMLJobRuntimeInSeconds": 7200,
            },
        }
    }
    assert request["AutoMLJobObjective"] == {"MetricName": "F1macro"}
    assert [(c["ChannelType"], c["ContentType"]) for c in request["AutoMLJobInputDataConfig"]] == [
        ("training", PARQUET),
        ("validation", PARQUET),
    ]
    assert request["SecurityConfig"] == {
        "VolumeKmsKeyId": KEY,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {
            "Subnets": ["subnet-0123456789abcdef0"],
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
        },
    }
    assert request["OutputDataConfig"]["KmsKeyId"] == KEY
    assert request["Tags"] == [{"Key": "team", "Value": "churn"}]
    assert "ModelDeployConfig" not in request
    assert "DataSplitConfig" not in request


@pytest.mark.parametrize("problem_type", sorted(OBJECTIVE_METRICS))
def test_the_default_objective_is_the_problem_types_own(problem_type: str) -> None:
    given = Given()
    job = given.job(problem_type=problem_type, validation_fraction=0.25)

    request = _resolved(
        given, automl_job_request(job, role_arn=ROLE, key_arn=KEY, job_name_path="$.job_name")
    )

    validate_parameters(request, SAGEMAKER.operation_model("CreateAutoMLJobV2").input_shape)
    expected = {"BinaryClassification": "F1", "MulticlassClassification": "Accuracy"}
    assert request["AutoMLJobObjective"] == {"MetricName": expected.get(problem_type, "MSE")}
    assert request["DataSplitConfig"] == {"ValidationFraction": 0.25}
    assert request["AutoMLJobInputDataConfig"][0]["ContentType"] == CSV
    assert "CompletionCriteria" not in request["AutoMLProblemTypeConfig"]["TabularJobConfig"]


def test_every_objective_metric_is_one_botocore_knows() -> None:
    known = SAGEMAKER.shape_for("AutoMLMetricEnum").enum
    assert {m for metrics in OBJECTIVE_METRICS.values() for m in metrics} <= set(known)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"problem_type": "Regression", "objective_metric": "F1"},
            "objective_metric: F1 is not an objective for Regression (F1 is for "
            "BinaryClassification); choose one of MSE, MAE, R2, RMSE (default MSE)",
        ),
        (
            {"objective_metric": "LogLoss"},
            "objective_metric: LogLoss is not an objective for BinaryClassification; choose one "
            "of F1, Accuracy, AUC, BalancedAccuracy, Precision, Recall (default F1)",
        ),
        (
            {"name": "Churn_AutoML"},
            "name 'Churn_AutoML' must match ^[a-z][a-z0-9-]{0,22}$",
        ),
        (
            {"max_candidates": 0},
            "max_candidates must be 1 to 750 (got 0)",
        ),
        (
            {"max_runtime_per_candidate": Duration.hours(2), "max_job_runtime": Duration.hours(1)},
            "max_runtime_per_candidate (7200 s) must not exceed max_job_runtime (3600 s)",
        ),
    ],
)
def test_a_bad_job_is_refused_with_a_message(props: dict[str, Any], message: str) -> None:
    given = Given()
    with pytest.raises(ValueError) as raised:
        given.job(**props)
    name = props.get("name", "churn-automl")
    assert str(raised.value) == f"AutoMLJob {name!r}: {message}"


def test_inputs_must_be_train_and_validation_in_a_tabular_format() -> None:
    given = Given()
    with pytest.raises(ValueError) as raised:
        given.job(inputs=given.inputs("train", "test", content_type="text/csv"))
    assert str(raised.value) == (
        "AutoMLJob 'churn-automl': inputs must be one 'train' channel and at most one "
        "'validation' (got ['train', 'test']); input 'train': content_type must be "
        "'text/csv;header=present' or 'x-application/vnd.amazon+parquet' (got 'text/csv'); "
        "input 'test': content_type must be 'text/csv;header=present' or "
        "'x-application/vnd.amazon+parquet' (got 'text/csv')"
    )


def test_a_validation_fraction_and_a_validation_channel_exclude_each_other() -> None:
    given = Given()
    with pytest.raises(ValueError) as raised:
        given.job(inputs=given.inputs("train", "validation"), validation_fraction=1.5)
    assert str(raised.value) == (
        "AutoMLJob 'churn-automl': validation_fraction must be between 0 and 1 (got 1.5); "
        "validation_fraction and a 'validation' input exclude each other"
    )


def test_the_pipeline_polls_the_job_and_models_the_best_candidate() -> None:
    given = Given()
    pipeline = given.pipeline(given.job(), status_poll_interval=Duration.minutes(5))
    definition = _definition(given, pipeline)
    states = definition["States"]

    assert states["StartAutoML"]["Resource"].endswith(
        ":states:::aws-sdk:sagemaker:createAutoMLJobV2"
    )
    assert states["WaitForAutoML"]["Seconds"] == 300
    assert states["DescribeAutoML"]["Next"] == "AutoMLJobEnded"
    choices = states["AutoMLJobEnded"]
    assert choices["Choices"][0] == {
        "Variable": "$.automl.status",
        "StringEquals": "Completed",
        "Next": "DescribeBestCandidate",
    }
    assert choices["Choices"][1]["Next"] == "AutoMLJobFailed"
    assert choices["Default"] == "WaitForAutoML"
    assert states["DescribeBestCandidate"]["ResultSelector"] == {
        "candidate.$": "$.BestCandidate.CandidateName",
        "containers.$": "$.BestCandidate.InferenceContainers",
    }
    assert states["CreateModel"]["Parameters"]["Containers.$"] == "$.best.containers"
    assert "PrimaryContainer" not in states["CreateModel"]["Parameters"]
    assert states["CreateModel"].get("End") is True
    assert "RegisterModel" not in states


def test_with_a_group_the_best_candidate_is_registered_pending_approval() -> None:
    given = Given()
    pipeline = given.pipeline(given.job(), model_package_group_name="churn")
    register = _definition(given, pipeline)["States"]["RegisterModel"]["Parameters"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["InferenceSpecification"] == {
        "Containers.$": "$.best.containers",
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    }


def test_an_inference_image_is_refused_for_automl_and_required_for_training() -> None:
    given = Given()
    with pytest.raises(ValueError) as automl:
        given.pipeline(given.job(), inference_image_uri="123.dkr.ecr.us-east-1.amazonaws.com/x:1")
    assert str(automl.value) == (
        "TrainingPipeline 'churn-automl': remove inference_image_uri; an AutoML job's best "
        "candidate brings its own inference containers"
    )
    training = TrainingJob(
        name="churn",
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        inputs=given.inputs("train"),
        output_bucket=given.bucket,
        output_prefix="models/churn/",
        instance_type="ml.m5.large",
    )
    with pytest.raises(ValueError) as train:
        TrainingPipeline(
            given.stack,
            "Training",
            job=training,
            execution_role=given.role,
            encryption_key=given.key,
            notification_topic=given.topic,
        )
    assert str(train.value) == (
        "TrainingPipeline 'churn': inference_image_uri is required for a TrainingJob "
        "(the image its model serves with)"
    )


def test_the_state_machine_runs_only_this_pipelines_automl_jobs() -> None:
    given = Given()
    given.pipeline(given.job())
    statements = _policy_statements(given, "AWS::IAM::Policy")
    automl = [s for s in statements if "AutoML" in json.dumps(s["Action"])]
    assert {s["Resource"] for s in automl} == {
        "arn:aws:sagemaker:us-east-1:123456789012:automl-job/churn-automl-*"
    }
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert "events:PutRule" not in json.dumps(statements)


def test_the_execution_role_may_run_autopilots_own_jobs_and_pass_only_itself() -> None:
    given = Given()
    given.pipeline(given.job())
    statements = _policy_statements(given, "AWS::IAM::ManagedPolicy")
    child = next(s for s in statements if "sagemaker:CreateProcessingJob" in s["Action"])
    assert child["Action"] == [
        "sagemaker:AddTags",
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:ListTags",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopTransformJob",
    ]
    assert child["Resource"] == [
        f"arn:aws:sagemaker:us-east-1:123456789012:{kind}/*"
        for kind in (
            "hyper-parameter-tuning-job",
            "processing-job",
            "training-job",
            "transform-job",
        )
    ]
    passes = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert passes["Resource"] == {
        "Fn::GetAtt": [_logical_id(given, "AWS::IAM::Role", "Role"), "Arn"]
    }
    assert passes["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


@pytest.mark.parametrize(
    "pack",
    [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks],
    ids=lambda pack: pack.__name__,
)
def test_no_unacknowledged_nag_finding_in_the_pipeline(tmp_path: Path, pack: type[NagPack]) -> None:
    given = Given(tmp_path)
    given.pipeline(given.job())
    given.app.synth()
    report = pack().validate_scope(given.app)
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
        if "/Pipeline/" in str(resource.construct_path) or "/Role/" in str(resource.construct_path)
    ]
    assert findings == []


def _definition(given: Given, pipeline: TrainingPipeline) -> dict[str, Any]:
    template = Template.from_stack(given.stack).to_json()
    machine = template["Resources"][
        given.stack.get_logical_id(cast(CfnElement, pipeline.state_machine.node.default_child))
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "x" for p in parts))  # type: ignore[no-any-return]


def _policy_statements(given: Given, resource_type: str) -> list[dict[str, Any]]:
    resources = Template.from_stack(given.stack).find_resources(resource_type)
    return [
        statement
        for resource in resources.values()
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _logical_id(given: Given, resource_type: str, prefix: str) -> str:
    return next(
        logical_id
        for logical_id in Template.from_stack(given.stack).find_resources(resource_type)
        if logical_id.startswith(prefix)
    )

"""BatchTransformPipeline: the model, its role, the state machine and the request it sends.

The CreateTransformJob request is read back from the synthesized state machine definition,
resolved as Step Functions would resolve it for one execution, and checked against botocore's
SageMaker model and moto's SageMaker. Tests that build a CDK app carry
`xdist_group("batch")` so one worker pays the jsii start-up once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from botocore.validate import validate_parameters
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks
from moto import mock_aws

from constructs_lib import BucketPrefixes
from constructs_lib.batch_transform import (
    BatchTransformInput,
    BatchTransformOutput,
    BatchTransformPipeline,
)
from constructs_lib.serving import ModelData, ModelSource
from tests.conftest import REPO_ROOT, cdk_json_context

synthesizes = pytest.mark.xdist_group("batch")

ENV = Environment(account="111111111111", region="us-east-1")
ARTIFACT_KEY = "models/churn-xgboost-1/output/model.tar.gz"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-xgboost/3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SAMPLE_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
JOB_NAME = "churn-0f8fad5b-d9cb-469f-a165-70867728950e"
PACKS: list[type[NagPack]] = [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks]


# --- reading the state machine back ------------------------------------------------------------


def _sample(part: Any) -> str:
    """A deployed-looking value for a CloudFormation reference inside a definition."""
    if isinstance(part, str):
        return part
    text = json.dumps(part)
    if "AWS::Partition" in text:
        return "aws"
    if "ModelName" in text:
        return "sample-model"
    if "Key" in text and "Arn" in text:
        return SAMPLE_KEY
    if "Artifacts" in text:
        return "sample-artifacts"
    if "Data" in text:
        return "sample-data"
    raise AssertionError(f"no sample for {text}")


def definition(template: dict[str, Any], construct_id: str) -> dict[str, Any]:
    """The state machine of the pipeline `construct_id`, references given sample values."""
    machines = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and re.fullmatch(f"{construct_id}[0-9A-F]{{8}}", logical_id)
    ]
    assert len(machines) == 1
    parts = machines[0]["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(_sample(part) for part in parts))  # type: ignore[no-any-return]


def execution_request(state: dict[str, Any], *, job_name: str, input_uri: str) -> Any:
    """The Transform state's parameters as Step Functions resolves them for one execution."""

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        resolved = {}
        for key, item in value.items():
            if not key.endswith(".$"):
                resolved[key] = resolve(item)
            elif item == "$.job_name":
                resolved[key[:-2]] = job_name
            elif item == "$.data.input":
                resolved[key[:-2]] = input_uri
            else:
                match = re.fullmatch(r"States\.Format\('(.*)\{\}(.*)', \$\.job_name\)", item)
                assert match, f"unexpected path {key}: {item}"
                resolved[key[:-2]] = f"{match[1]}{job_name}{match[2]}"
        return resolved

    return resolve(state["Parameters"])


def check_with_botocore_and_moto(request: dict[str, Any], container: dict[str, Any]) -> None:
    """botocore validates the request; moto creates the job for a model of that name."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    validate_parameters(request, model.operation_model("CreateTransformJob").input_shape)
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        client.create_model(
            ModelName=request["ModelName"],
            PrimaryContainer=container,
            ExecutionRoleArn="arn:aws:iam::111111111111:role/model",
        )
        client.create_transform_job(**request)
        job = client.describe_transform_job(TransformJobName=request["TransformJobName"])
        assert job["TransformOutput"] == request["TransformOutput"]


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Batch:
    """A stack with what a pipeline is given: a key, data and artifacts buckets, a topic."""

    app: App
    stack: Stack
    key: kms.Key
    data: s3.Bucket
    artifacts: s3.Bucket
    topic: sns.Topic

    def xgboost(self) -> ModelSource:
        return ModelSource.from_builtin_algorithm(
            "xgboost", ModelData.from_bucket(self.artifacts, ARTIFACT_KEY), version="1.7-1"
        )

    def input_data(self, **props: Any) -> BatchTransformInput:
        props.setdefault("prefix", "datasets/churn/batch/")
        props.setdefault("content_type", "text/csv")
        return BatchTransformInput(bucket=self.data, **props)

    def pipeline(self, **props: Any) -> BatchTransformPipeline:
        props.setdefault("model", self.xgboost())
        props.setdefault("input_data", self.input_data())
        props.setdefault(
            "output", BatchTransformOutput(bucket=self.artifacts, prefix="batch/churn/")
        )
        return BatchTransformPipeline(
            self.stack,
            "Scoring",
            name="churn",
            encryption_key=self.key,
            notification_topic=self.topic,
            **props,
        )

    def template(self, **props: Any) -> dict[str, Any]:
        self.pipeline(**props)
        return Template.from_stack(self.stack).to_json()  # type: ignore[no-any-return]


def _given(scope: Stack) -> tuple[kms.Key, s3.Bucket, s3.Bucket, sns.Topic]:
    key = kms.Key(scope, "Key", enable_key_rotation=True)
    buckets = [
        s3.Bucket(
            scope,
            name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        for name in ("Data", "Artifacts")
    ]
    return key, *buckets, sns.Topic(scope, "Topic", master_key=key, enforce_ssl=True)


@pytest.fixture
def batch() -> Batch:
    app = App(context=cdk_json_context())
    stack = Stack(app, "Batch", env=ENV)
    return Batch(app, stack, *_given(stack))


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def _one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = _of_type(template, resource_type)
    assert len(found) == 1, found
    return next(iter(found.items()))


def _transform(template: dict[str, Any]) -> dict[str, Any]:
    return definition(template, "Scoring")["States"]["Transform"]  # type: ignore[no-any-return]


def _bucket_objects(bucket: str, prefix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{prefix}*"]]}


# --- the model and its role -------------------------------------------------------------------


@synthesizes
def test_the_model_is_network_isolated_and_runs_with_its_own_role(batch: Batch) -> None:
    template = batch.template()
    _, model = _one(template, "AWS::SageMaker::Model")
    role_id = next(
        k
        for k, r in _of_type(template, "AWS::IAM::Role").items()
        if "sagemaker.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    )
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert model["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert model["Properties"]["PrimaryContainer"] == {
        "Image": XGBOOST_IMAGE,
        "ModelDataUrl": {
            "Fn::Join": ["", ["s3://", {"Ref": "Artifacts82DD59A1"}, f"/{ARTIFACT_KEY}"]]
        },
    }
    assert sorted(model["DependsOn"]) == sorted(_of_type(template, "AWS::IAM::ManagedPolicy"))


@synthesizes
def test_the_model_role_reads_input_and_artifact_and_writes_only_the_output(
    batch: Batch,
) -> None:
    template = batch.template(input_data=batch.input_data(allowed_prefixes=["datasets/"]))
    s3_policy = next(
        r for k, r in _of_type(template, "AWS::IAM::ManagedPolicy").items() if "S3Access" in k
    )
    statements = s3_policy["Properties"]["PolicyDocument"]["Statement"]
    data, artifacts = "Data666C94C7", "Artifacts82DD59A1"
    assert statements == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["datasets/*"]}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [data, "Arn"]},
        },
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": [
                _bucket_objects(artifacts, "batch/churn/"),
                {"Fn::Join": ["", [{"Fn::GetAtt": [artifacts, "Arn"]}, f"/{ARTIFACT_KEY}"]]},
                _bucket_objects(data, "datasets/"),
            ],
        },
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["batch/churn/*"]}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [artifacts, "Arn"]},
        },
        {
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": _bucket_objects(artifacts, "batch/churn/"),
        },
    ]


@synthesizes
def test_the_model_role_uses_only_the_key_pulls_only_the_image_and_logs_under_sagemaker(
    batch: Batch,
) -> None:
    template = batch.template()
    service = next(
        r for k, r in _of_type(template, "AWS::IAM::ManagedPolicy").items() if "Service" in k
    )
    statements = {
        json.dumps(s["Action"]): s["Resource"]
        for s in service["Properties"]["PolicyDocument"]["Statement"]
    }
    key = {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert statements == {
        '["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]': key,
        '"kms:CreateGrant"': key,
        '["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", '
        '"logs:PutLogEvents"]': [
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/*",
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/*:log-stream:*",
        ],
        '"cloudwatch:PutMetricData"': "*",
        '["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]': (
            "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"
        ),
        '"ecr:GetAuthorizationToken"': "*",
    }


@synthesizes
def test_input_in_a_bucket_with_its_own_key_may_be_decrypted(batch: Batch) -> None:
    other_key = kms.Key(batch.stack, "OtherKey", enable_key_rotation=True)
    other = s3.Bucket(
        batch.stack, "Other", encryption=s3.BucketEncryption.KMS, encryption_key=other_key
    )
    template = batch.template(
        input_data=BatchTransformInput(bucket=other, prefix="in/", content_type="text/csv")
    )
    service = next(
        r for k, r in _of_type(template, "AWS::IAM::ManagedPolicy").items() if "Service" in k
    )
    other_id = next(k for k in _of_type(template, "AWS::KMS::Key") if k.startswith("OtherKey"))
    assert {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [other_id, "Arn"]},
    } in service["Properties"]["PolicyDocument"]["Statement"]


@synthesizes
def test_a_model_package_lets_the_role_read_its_artifact_prefixes(batch: Batch) -> None:
    model = ModelSource.from_model_package(
        PACKAGE_ARN, artifacts=[BucketPrefixes(batch.artifacts, ("models/",))]
    )
    template = batch.template(model=model)
    _, cfn_model = _one(template, "AWS::SageMaker::Model")
    assert cfn_model["Properties"]["PrimaryContainer"] == {"ModelPackageName": PACKAGE_ARN}
    s3_policy = next(
        r for k, r in _of_type(template, "AWS::IAM::ManagedPolicy").items() if "S3Access" in k
    )
    reads = [
        s["Resource"]
        for s in s3_policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:GetObject"
    ]
    assert _bucket_objects("Artifacts82DD59A1", "models/") in reads[0]


# --- the state machine ------------------------------------------------------------------------


@synthesizes
def test_each_execution_names_a_job_and_may_override_the_input(batch: Batch) -> None:
    states = definition(batch.template(), "Scoring")["States"]
    assert states["ChooseInput"]["Parameters"] == {
        "defaults": {"input": "s3://sample-data/datasets/churn/batch/"},
        "given.$": "$$.Execution.Input",
    }
    assert states["NameJob"]["Parameters"] == {
        "data.$": "States.JsonMerge($.choice.defaults, $.choice.given, false)",
        "job_name.$": "States.Format('churn-{}', States.UUID())",
    }
    transform = states["Transform"]
    assert transform["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync"
    assert transform["TimeoutSeconds"] == 3600
    assert transform["ResultSelector"] == {
        "job_name.$": "$.TransformJobName",
        "output.$": "$.TransformOutput.S3OutputPath",
    }


@synthesizes
def test_the_default_request_is_valid_encrypted_and_writes_a_folder_per_job(
    batch: Batch,
) -> None:
    request = execution_request(
        _transform(batch.template()), job_name=JOB_NAME, input_uri="s3://sample-data/datasets/x/"
    )
    assert request == {
        "TransformJobName": JOB_NAME,
        "ModelName": "sample-model",
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://sample-data/datasets/x/"}
            },
            "ContentType": "text/csv",
            "SplitType": "None",
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://sample-artifacts/batch/churn/{JOB_NAME}/",
            "AssembleWith": "None",
            "KmsKeyId": SAMPLE_KEY,
        },
        "TransformResources": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeKmsKeyId": SAMPLE_KEY,
        },
    }
    check_with_botocore_and_moto(request, {"Image": XGBOOST_IMAGE})


@synthesizes
def test_every_option_reaches_the_request(batch: Batch) -> None:
    template = batch.template(
        input_data=batch.input_data(split_type="Line", compression="Gzip"),
        output=BatchTransformOutput(
            bucket=batch.artifacts, prefix="scores/", accept="text/csv", assemble_with="Line"
        ),
        instance_type="ml.c5.2xlarge",
        instance_count=3,
        max_runtime=Duration.minutes(30),
        batch_strategy="MultiRecord",
        max_payload_mb=20,
        max_concurrent_transforms=5,
        environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "120"},
        tags={"team": "churn"},
    )
    transform = _transform(template)
    request = execution_request(transform, job_name=JOB_NAME, input_uri="s3://sample-data/in/")
    assert transform["TimeoutSeconds"] == 1800
    assert request["TransformInput"]["SplitType"] == "Line"
    assert request["TransformInput"]["CompressionType"] == "Gzip"
    assert request["TransformOutput"] == {
        "S3OutputPath": f"s3://sample-artifacts/scores/{JOB_NAME}/",
        "Accept": "text/csv",
        "AssembleWith": "Line",
        "KmsKeyId": SAMPLE_KEY,
    }
    assert request["TransformResources"]["InstanceType"] == "ml.c5.2xlarge"
    assert request["TransformResources"]["InstanceCount"] == 3
    assert request["BatchStrategy"] == "MultiRecord"
    assert request["MaxPayloadInMB"] == 20
    assert request["MaxConcurrentTransforms"] == 5
    assert request["Environment"] == {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "120"}
    assert request["Tags"] == [{"Key": "team", "Value": "churn"}]
    check_with_botocore_and_moto(request, {"Image": XGBOOST_IMAGE})


@synthesizes
def test_instance_store_families_get_no_volume_key(batch: Batch) -> None:
    request = execution_request(
        _transform(batch.template(instance_type="ml.g5.xlarge")),
        job_name=JOB_NAME,
        input_uri="s3://sample-data/in/",
    )
    assert request["TransformResources"] == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1}
    assert request["TransformOutput"]["KmsKeyId"] == SAMPLE_KEY


@synthesizes
def test_the_state_machine_may_run_only_this_pipelines_jobs(batch: Batch) -> None:
    template = batch.template()
    policy_id, policy = _one(template, "AWS::IAM::Policy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    sagemaker = [s for s in statements if "sagemaker:" in json.dumps(s["Action"])]
    assert sagemaker == [
        {
            "Action": [
                "sagemaker:AddTags",
                "sagemaker:CreateTransformJob",
                "sagemaker:DescribeTransformJob",
                "sagemaker:StopTransformJob",
            ],
            "Effect": "Allow",
            "Resource": "arn:aws:sagemaker:us-east-1:111111111111:transform-job/churn-*",
        }
    ]
    assert {
        "Action": ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
        "Effect": "Allow",
        "Resource": "arn:aws:events:us-east-1:111111111111:rule/"
        "StepFunctionsGetEventsForSageMakerTransformJobsRule",
    } in statements
    assert "iam:PassRole" not in json.dumps(statements)
    assert policy_id.startswith("ScoringRoleDefaultPolicy")


@synthesizes
def test_failed_executions_are_published_to_the_topic(batch: Batch) -> None:
    template = batch.template()
    _, rule = _one(template, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Ref": "TopicBFC7AF6E"}


@synthesizes
def test_execution_logs_are_encrypted_and_kept(batch: Batch) -> None:
    template = batch.template()
    _, log_group = _one(template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["DeletionPolicy"] == "Retain"
    _, machine = _one(template, "AWS::StepFunctions::StateMachine")
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


@synthesizes
def test_attributes(batch: Batch) -> None:
    pipeline = batch.pipeline()
    assert pipeline.model.node.id == "Model"
    assert pipeline.model_role.node.id == "ModelRole"
    assert pipeline.state_machine.node.id == "Resource"
    assert pipeline.log_group.node.id == "Logs"


# --- errors -----------------------------------------------------------------------------------


def _raises(message: str) -> Any:
    return pytest.raises(ValueError, match=f"^{re.escape(message)}$")


P3_MESSAGE = (
    "ml.p3.2xlarge (NVIDIA V100) cannot be used: CUDA 13 and current PyTorch builds dropped the "
    "V100 (sm_70) and AWS has retired P3. Use a supported GPU family: ml.g4dn, ml.g5, ml.g6, "
    "ml.p4d or ml.p5"
)


@synthesizes
@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"instance_type": "ml.m5.larg"},
            "instance_type: ml.m5.larg is not a SageMaker transform instance type; did you "
            "mean ml.m5.large?",
        ),
        ({"instance_type": "ml.p3.2xlarge"}, f"instance_type: {P3_MESSAGE}"),
        ({"instance_count": 0}, "instance_count must be at least 1 (got 0)"),
        (
            {"max_runtime": Duration.millis(1500)},
            "max_runtime must be whole seconds, at least 1 (got 1.5 s)",
        ),
        (
            {"batch_strategy": "MultiRecord"},
            "batch_strategy MultiRecord needs input_data.split_type Line, RecordIO or TFRecord "
            "(SageMaker cannot cut unsplit files into records)",
        ),
        ({"max_payload_mb": 101}, "max_payload_mb must be 0 to 100 (got 101)"),
        ({"max_concurrent_transforms": 0}, "max_concurrent_transforms must be at least 1 (got 0)"),
        (
            {"max_payload_mb": 30, "max_concurrent_transforms": 4},
            "max_payload_mb x max_concurrent_transforms must be at most 100 MB (got 30 x 4)",
        ),
        (
            {"environment": {f"V{i}": "x" for i in range(17)}},
            "environment may hold at most 16 variables (got 17)",
        ),
        (
            {"environment": {"1BAD": "x"}},
            "environment names must match ^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$: ['1BAD']",
        ),
    ],
)
def test_refuses_settings_sagemaker_would_refuse(
    batch: Batch, props: dict[str, Any], message: str
) -> None:
    with _raises(f"BatchTransformPipeline 'churn': {message}"):
        batch.pipeline(**props)


@synthesizes
def test_refuses_a_bad_name(batch: Batch) -> None:
    with _raises(
        "BatchTransformPipeline 'Churn_Scores': name 'Churn_Scores' must match "
        "^[a-z][a-z0-9-]{0,22}$"
    ):
        BatchTransformPipeline(
            batch.stack,
            "Bad",
            name="Churn_Scores",
            model=batch.xgboost(),
            input_data=batch.input_data(),
            output=BatchTransformOutput(bucket=batch.artifacts, prefix="batch/"),
            encryption_key=batch.key,
            notification_topic=batch.topic,
        )


@synthesizes
def test_refuses_a_model_that_is_not_a_model_source(batch: Batch) -> None:
    with pytest.raises(ValueError, match=r"^model must be a ModelSource: "):
        batch.pipeline(model=f"s3://bucket/{ARTIFACT_KEY}")


@synthesizes
@pytest.mark.parametrize("prefix", ["datasets/churn", "/datasets/churn/", "s3://b/datasets/"])
def test_refuses_an_input_prefix_that_is_not_a_key_prefix(batch: Batch, prefix: str) -> None:
    with _raises(
        f"BatchTransformInput.prefix {prefix!r} must be a key prefix ending in '/', "
        "e.g. 'datasets/churn/batch/'"
    ):
        batch.input_data(prefix=prefix)


@synthesizes
def test_refuses_a_default_input_outside_the_allowed_prefixes(batch: Batch) -> None:
    with _raises(
        "BatchTransformInput.prefix 'scores/in/' must lie under one of allowed_prefixes (datasets/)"
    ):
        batch.input_data(prefix="scores/in/", allowed_prefixes=["datasets/"])


@synthesizes
def test_refuses_an_output_prefix_that_is_not_a_key_prefix(batch: Batch) -> None:
    with _raises(
        "BatchTransformOutput.prefix 'batch' must be a key prefix ending in '/', "
        "e.g. 'batch/churn/'"
    ):
        BatchTransformOutput(bucket=batch.artifacts, prefix="batch")


# --- compliance: cdk-nag and cfn-lint ---------------------------------------------------------


@dataclass
class Scenarios:
    """One synthesized app with a pipeline per scenario, each in its own stack."""

    outdir: Path
    pipelines: dict[str, BatchTransformPipeline]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    outdir = tmp_path_factory.mktemp("batch.out")
    app = App(context=cdk_json_context(), outdir=str(outdir))
    key, data, artifacts, topic = _given(Stack(app, "Data", env=ENV))
    pipelines: dict[str, BatchTransformPipeline] = {}
    for name, model, props in [
        (
            "Default",
            ModelSource.from_builtin_algorithm(
                "xgboost", ModelData.from_bucket(artifacts, ARTIFACT_KEY), version="1.7-1"
            ),
            {},
        ),
        (
            "Package",
            ModelSource.from_model_package(
                PACKAGE_ARN,
                artifacts=[BucketPrefixes(artifacts, ("models/",))],
                image_uris=[XGBOOST_IMAGE],
            ),
            {"instance_type": "ml.g5.xlarge", "instance_count": 2},
        ),
    ]:
        pipelines[name] = BatchTransformPipeline(
            Stack(app, name, env=ENV),
            "Pipeline",
            name="churn",
            model=model,
            input_data=BatchTransformInput(
                bucket=data,
                prefix="datasets/churn/batch/",
                content_type="text/csv",
                split_type="Line",
                allowed_prefixes=["datasets/"],
            ),
            output=BatchTransformOutput(bucket=artifacts, prefix="batch/churn/"),
            encryption_key=key,
            notification_topic=topic,
            **props,
        )
    app.synth()
    yield Scenarios(outdir=outdir, pipelines=pipelines)


@synthesizes
@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
def test_no_unacknowledged_nag_finding(scenarios: Scenarios, pack: type[NagPack]) -> None:
    findings = [
        f"{name}: {violation.rule_name} at {resource.construct_path}"
        for name, pipeline in scenarios.pipelines.items()
        for violation in pack().validate_scope(pipeline).violations
        for resource in violation.violating_resources
    ]
    assert findings == []


@synthesizes
def test_cfn_lint_finds_nothing(scenarios: Scenarios) -> None:
    templates = [str(scenarios.outdir / f"{name}.template.json") for name in scenarios.pipelines]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

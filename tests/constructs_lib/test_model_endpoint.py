"""ModelEndpoint: the model, endpoint config and endpoint it makes, its role, options and errors.

Tests that build a CDK app carry `xdist_group("endpoint")` so that one worker pays the jsii and
SageMaker SDK start-up once. The compliance tests synthesize one app holding an endpoint per
scenario, then run cdk-nag on each endpoint and cfn-lint on every template.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from aws_cdk import App, CfnElement, Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks

from constructs_lib.execution_role import BucketPrefixes
from constructs_lib.serving import (
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ModelData,
    ModelEndpoint,
    ModelSource,
    ServerlessConfig,
    TrafficShifting,
)
from tests.conftest import REPO_ROOT, cdk_json_context

synthesizes = pytest.mark.xdist_group("endpoint")

ENV = Environment(account="111111111111", region="us-east-1")
ARTIFACT_KEY = "models/churn-xgboost-1/output/model.tar.gz"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
XGBOOST_REPOSITORY = "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-xgboost/3"
CUSTOM_IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/churn-pytorch:serve-1"
AUTOSCALING_ROLE = (
    "arn:aws:iam::111111111111:role/aws-service-role/sagemaker.application-autoscaling."
    "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
PACKS: list[type[NagPack]] = [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks]


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Serving:
    """A stack with what an endpoint is given: a key, an artifacts bucket and a topic."""

    app: App
    stack: Stack
    key: kms.Key
    artifacts: s3.Bucket
    topic: sns.Topic

    def xgboost(self) -> ModelSource:
        return ModelSource.from_builtin_algorithm(
            "xgboost", ModelData.from_bucket(self.artifacts, ARTIFACT_KEY), version="1.7-1"
        )

    def endpoint(self, **props: Any) -> ModelEndpoint:
        props.setdefault("model", self.xgboost())
        return ModelEndpoint(self.stack, "Churn", encryption_key=self.key, **props)

    def template(self, **props: Any) -> Template:
        self.endpoint(**props)
        return Template.from_stack(self.stack)


def _given(scope: Stack) -> tuple[kms.Key, s3.Bucket, sns.Topic]:
    key = kms.Key(scope, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(
        scope,
        "Artifacts",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    return key, bucket, sns.Topic(scope, "Alarms", master_key=key, enforce_ssl=True)


def _app(outdir: Path | None = None) -> App:
    return App(context=cdk_json_context(), outdir=str(outdir) if outdir else None)


@pytest.fixture
def serving() -> Serving:
    app = _app()
    stack = Stack(app, "Serving", env=ENV)
    return Serving(app, stack, *_given(stack))


def _one(template: Template, resource_type: str) -> dict[str, Any]:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, resources
    return dict(next(iter(resources.values())))


def _logical_id(template: Template, resource_type: str) -> str:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, resources
    return next(iter(resources))


def _statements(template: Template) -> list[dict[str, Any]]:
    policy = _one(template, "AWS::IAM::ManagedPolicy")
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _attr(template: Template, resource_type: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [_logical_id(template, resource_type), attribute]}


# --- the three resources ----------------------------------------------------------------------


@synthesizes
def test_default_endpoint_serves_the_model_encrypted_isolated_on_one_instance(
    serving: Serving,
) -> None:
    template = serving.template()
    model = _one(template, "AWS::SageMaker::Model")["Properties"]
    assert model == {
        "ExecutionRoleArn": _attr(template, "AWS::IAM::Role", "Arn"),
        "PrimaryContainer": {
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": {
                "Fn::Join": [
                    "",
                    ["s3://", {"Ref": "Artifacts82DD59A1"}, f"/{ARTIFACT_KEY}"],
                ]
            },
        },
        "EnableNetworkIsolation": True,
    }
    config = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert config == {
        "KmsKeyId": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": _attr(template, "AWS::SageMaker::Model", "ModelName"),
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1,
            }
        ],
    }
    endpoint = _one(template, "AWS::SageMaker::Endpoint")["Properties"]
    assert endpoint == {
        "EndpointConfigName": _attr(
            template, "AWS::SageMaker::EndpointConfig", "EndpointConfigName"
        )
    }


@synthesizes
def test_nothing_else_is_created_by_default(serving: Serving) -> None:
    template = serving.template()
    for resource_type in (
        "AWS::CloudWatch::Alarm",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::EC2::SecurityGroup",
        "AWS::IAM::Policy",
    ):
        template.resource_count_is(resource_type, 0)
    template.resource_count_is("AWS::IAM::Role", 1)


@synthesizes
def test_cloudformation_names_every_resource(serving: Serving) -> None:
    """No physical names: CloudFormation can replace the model and config on every change."""
    template = serving.template()
    assert "ModelName" not in _one(template, "AWS::SageMaker::Model")["Properties"]
    config = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert "EndpointConfigName" not in config
    assert "EndpointName" not in _one(template, "AWS::SageMaker::Endpoint")["Properties"]
    assert "RoleName" not in _one(template, "AWS::IAM::Role")["Properties"]
    assert "ManagedPolicyName" not in _one(template, "AWS::IAM::ManagedPolicy")["Properties"]


@synthesizes
# moto skips the fixtures' bucket and topic policies, which it does not emulate.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")
@pytest.mark.filterwarnings("ignore:Tried to parse AWS..SNS..TopicPolicy:UserWarning")
@pytest.mark.parametrize(
    "props", [{}, {"serverless": ServerlessConfig()}], ids=["instance", "serverless"]
)
def test_default_endpoint_deploys_into_the_local_emulator(
    serving: Serving, props: dict[str, Any]
) -> None:
    """moto needs PrimaryContainer and accepts endpoint configs on older families only."""
    import boto3
    from moto import mock_aws

    serving.endpoint(**props)
    template = serving.app.synth().get_stack_by_name("Serving").template
    with mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
        )
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName="Serving", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
        )
        stack = cloudformation.describe_stacks(StackName="Serving")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        [endpoint] = sagemaker.list_endpoints()["Endpoints"]
        assert endpoint["EndpointStatus"] == "InService"


@synthesizes
def test_attributes(serving: Serving) -> None:
    endpoint = serving.endpoint()
    stack = serving.stack
    assert endpoint.endpoint.node.id == "Resource"
    assert stack.resolve(endpoint.endpoint_name) == {
        "Fn::GetAtt": ["ChurnC60F44B2", "EndpointName"]
    }
    assert stack.resolve(endpoint.endpoint_arn) == {"Ref": "ChurnC60F44B2"}
    assert stack.resolve(endpoint.model.ref) == {"Ref": "ChurnModel6AEE25BA"}
    assert stack.resolve(endpoint.endpoint_config.ref) == {"Ref": "ChurnEndpointConfigC932C894"}
    assert endpoint.variant_name == "AllTraffic"
    assert endpoint.connections is None
    assert endpoint.server_errors_alarm is None
    assert endpoint.model_latency_alarm is None
    assert endpoint.scalable_target is None


@synthesizes
def test_metric_is_the_variants_sagemaker_metric(serving: Serving) -> None:
    endpoint = serving.endpoint()
    metric = endpoint.metric("Invocations", statistic="Sum", period=Duration.minutes(1))
    assert metric.namespace == "AWS/SageMaker"
    assert metric.metric_name == "Invocations"
    assert metric.statistic == "Sum"
    assert metric.period.to_seconds() == 60
    assert serving.stack.resolve(metric.dimensions) == {
        "EndpointName": {"Fn::GetAtt": ["ChurnC60F44B2", "EndpointName"]},
        "VariantName": "AllTraffic",
    }


# --- the model role ---------------------------------------------------------------------------


@synthesizes
def test_only_sagemaker_assumes_the_model_role(serving: Serving) -> None:
    template = serving.template()
    role = _one(template, "AWS::IAM::Role")["Properties"]
    assert role == {
        "AssumeRolePolicyDocument": {
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                }
            ],
            "Version": "2012-10-17",
        },
        "Description": "Assumed by SageMaker to host one model",
    }


@synthesizes
def test_model_role_reads_one_artifact_pulls_one_image_and_logs_under_endpoints(
    serving: Serving,
) -> None:
    template = serving.template()
    log_group = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/Endpoints/*"
    assert _statements(template) == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [{"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]}, f"/{ARTIFACT_KEY}"],
                ]
            },
        },
        {
            "Action": "kms:Decrypt",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
        },
        {
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Effect": "Allow",
            "Resource": XGBOOST_REPOSITORY,
        },
        {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
        {
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            "Effect": "Allow",
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
        {
            "Action": "cloudwatch:PutMetricData",
            "Condition": {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}},
            "Effect": "Allow",
            "Resource": "*",
        },
    ]


@synthesizes
def test_model_role_policy_is_managed_attached_and_in_place_before_the_model(
    serving: Serving,
) -> None:
    template = serving.template()
    policy = _one(template, "AWS::IAM::ManagedPolicy")
    assert policy["Properties"]["Roles"] == [{"Ref": _logical_id(template, "AWS::IAM::Role")}]
    model = _one(template, "AWS::SageMaker::Model")
    assert model["DependsOn"] == [_logical_id(template, "AWS::IAM::ManagedPolicy")]


@synthesizes
def test_model_role_decrypts_with_the_artifact_buckets_own_key_too(serving: Serving) -> None:
    other_key = kms.Key(serving.stack, "OtherKey", enable_key_rotation=True)
    bucket = s3.Bucket(
        serving.stack, "Other", encryption=s3.BucketEncryption.KMS, encryption_key=other_key
    )
    model = ModelSource.from_builtin_algorithm(
        "xgboost", ModelData.from_bucket(bucket, "models/x/model.tar.gz"), version="1.7-1"
    )
    statements = _statements(serving.template(model=model))
    assert {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": [
            {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
            {"Fn::GetAtt": [_logical_id_of(serving.stack, other_key), "Arn"]},
        ],
    } in statements


def _logical_id_of(stack: Stack, key: kms.Key) -> str:
    return stack.get_logical_id(cast(CfnElement, key.node.default_child))


@synthesizes
def test_grant_invoke_allows_invoke_endpoint_on_this_endpoint_only(serving: Serving) -> None:
    endpoint = serving.endpoint()
    caller = iam.Role(serving.stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    grant = endpoint.grant_invoke(caller)
    assert grant.success
    Template.from_stack(serving.stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sagemaker:InvokeEndpoint",
                        "Effect": "Allow",
                        "Resource": {"Ref": "ChurnC60F44B2"},
                    }
                ]
            },
            "Roles": [{"Ref": Match.string_like_regexp("^Caller")}],
        },
    )


# --- model sources ----------------------------------------------------------------------------


@synthesizes
def test_model_package_source(serving: Serving) -> None:
    model = ModelSource.from_model_package(
        PACKAGE_ARN,
        artifacts=[BucketPrefixes(serving.artifacts, ("models/",))],
        image_uris=[XGBOOST_IMAGE],
        environment={"SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
    )
    template = serving.template(model=model)
    container = _one(template, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]
    assert container == {
        "ModelPackageName": PACKAGE_ARN,
        "Environment": {"SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
    }
    statements = _statements(template)
    assert statements[0] == {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]}, "/models/*"]]},
    }
    assert statements[2]["Resource"] == XGBOOST_REPOSITORY


@synthesizes
def test_model_package_source_with_repositories(serving: Serving) -> None:
    repository = ecr.Repository.from_repository_name(serving.stack, "Repo", "churn-pytorch")
    model = ModelSource.from_model_package(
        PACKAGE_ARN,
        artifacts=[BucketPrefixes(serving.artifacts, ("models/",))],
        repositories=[repository],
    )
    statements = _statements(serving.template(model=model))
    pull = next(s for s in statements if s["Action"] == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
    ])  # fmt: skip
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:111111111111:repository/churn-pytorch"


@synthesizes
def test_custom_image_source_reads_its_repository_from_the_uri(serving: Serving) -> None:
    model = ModelSource.from_image(
        CUSTOM_IMAGE,
        ModelData.from_uri("s3://churn-models-111111111111/pytorch/model.tar.gz"),
        environment={"SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
    )
    template = serving.template(model=model)
    container = _one(template, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]
    assert container == {
        "Image": CUSTOM_IMAGE,
        "ModelDataUrl": "s3://churn-models-111111111111/pytorch/model.tar.gz",
        "Environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
    }
    statements = _statements(template)
    assert statements[0] == {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Resource": "arn:aws:s3:::churn-models-111111111111/pytorch/model.tar.gz",
    }
    assert statements[2]["Resource"] == (
        "arn:aws:ecr:us-east-1:111111111111:repository/churn-pytorch"
    )


@synthesizes
def test_asset_image_source_pulls_from_the_asset_repository(
    serving: Serving, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    asset = ecr_assets.DockerImageAsset(serving.stack, "Image", directory=str(tmp_path))
    model = ModelSource.from_asset(asset, ModelData.from_bucket(serving.artifacts, ARTIFACT_KEY))
    template = serving.template(model=model)
    container = _one(template, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]
    assert serving.stack.resolve(asset.image_uri) == container["Image"]
    pull = _statements(template)[2]
    assert pull["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert pull["Resource"] == serving.stack.resolve(asset.repository.repository_arn)


# --- options ----------------------------------------------------------------------------------


@synthesizes
def test_instance_type_and_count(serving: Serving) -> None:
    template = serving.template(instance_type="ml.c5.xlarge", initial_instance_count=2)
    variant = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"]
    assert (variant[0]["InstanceType"], variant[0]["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)


@synthesizes
def test_instance_store_families_get_no_kms_key_and_an_acknowledgement(serving: Serving) -> None:
    template = serving.template(instance_type="ml.g5.xlarge")
    config = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert "KmsKeyId" not in config
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"


@synthesizes
def test_data_capture(serving: Serving) -> None:
    template = serving.template(
        data_capture=DataCapture(
            bucket=serving.artifacts,
            prefix="captured/churn/",
            sampling_percentage=50,
            capture_output=False,
            json_content_types=["application/json"],
        )
    )
    config = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": {
            "Fn::Join": ["", ["s3://", {"Ref": "Artifacts82DD59A1"}, "/captured/churn"]]
        },
        "KmsKeyId": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
        "CaptureOptions": [{"CaptureMode": "Input"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }
    statements = _statements(template)
    assert {
        "Action": "s3:PutObject",
        "Effect": "Allow",
        "Resource": {
            "Fn::Join": ["", [{"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]}, "/captured/churn/*"]]
        },
    } in statements
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
    } in statements


@synthesizes
def test_data_capture_defaults(serving: Serving) -> None:
    template = serving.template(data_capture=DataCapture(bucket=serving.artifacts))
    capture = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 20
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["DestinationS3Uri"]["Fn::Join"][1][-1] == "/data-capture"
    assert "CaptureContentTypeHeader" not in capture


@synthesizes
def test_autoscaling_tracks_invocations_per_instance(serving: Serving) -> None:
    endpoint = serving.endpoint(
        initial_instance_count=2,
        autoscaling=Autoscaling(
            min_instances=2,
            max_instances=6,
            invocations_per_instance=250,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.seconds(30),
        ),
    )
    assert endpoint.scalable_target is not None
    template = Template.from_stack(serving.stack)
    target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert target == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": {
            "Fn::Join": [
                "",
                [
                    "endpoint/",
                    {"Fn::GetAtt": ["ChurnC60F44B2", "EndpointName"]},
                    "/variant/AllTraffic",
                ],
            ]
        },
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2,
        "MaxCapacity": 6,
        "RoleARN": AUTOSCALING_ROLE,
    }
    policy = _one(template, "AWS::ApplicationAutoScaling::ScalingPolicy")["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["ScalingTargetId"] == {
        "Ref": _logical_id(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    }
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
        },
        "TargetValue": 250,
        "ScaleInCooldown": 600,
        "ScaleOutCooldown": 30,
    }
    template.resource_count_is("AWS::IAM::Role", 1)  # the model role; scaling uses the SLR


def _alarm(template: Template, metric_name: str) -> dict[str, Any]:
    alarms = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": metric_name}}
    )
    assert len(alarms) == 1
    return dict(next(iter(alarms.values()))["Properties"])


DIMENSIONS = [
    {"Name": "EndpointName", "Value": {"Fn::GetAtt": ["ChurnC60F44B2", "EndpointName"]}},
    {"Name": "VariantName", "Value": "AllTraffic"},
]


@synthesizes
def test_alarms_on_server_errors_and_model_latency_notify_the_topic(serving: Serving) -> None:
    alarms = EndpointAlarms(
        topic=serving.topic,
        server_errors=5,
        model_latency=Duration.millis(250),
        latency_statistic="p99",
        period=Duration.minutes(5),
        evaluation_periods=2,
    )
    template = serving.template(alarms=alarms)
    topic = {"Ref": _logical_id(template, "AWS::SNS::Topic")}
    assert _alarm(template, "Invocation5XXErrors") == {
        "AlarmDescription": "SageMaker endpoint Serving/Churn: 5 or more 5XX errors per period "
        "in 2 consecutive periods",
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Dimensions": DIMENSIONS,
        "Statistic": "Sum",
        "Period": 300,
        "Threshold": 5,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 2,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic],
        "OKActions": [topic],
    }
    assert _alarm(template, "ModelLatency") == {
        "AlarmDescription": "SageMaker endpoint Serving/Churn: p99 model latency at or above "
        "250 ms in 2 consecutive periods",
        "Namespace": "AWS/SageMaker",
        "MetricName": "ModelLatency",
        "Dimensions": DIMENSIONS,
        "ExtendedStatistic": "p99",
        "Period": 300,
        "Threshold": 250_000,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 2,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic],
        "OKActions": [topic],
    }


@synthesizes
def test_alarm_defaults_and_cloudformation_names(serving: Serving) -> None:
    endpoint = serving.endpoint(alarms=EndpointAlarms(topic=serving.topic))
    assert endpoint.server_errors_alarm is not None
    assert endpoint.model_latency_alarm is not None
    template = Template.from_stack(serving.stack)
    errors = _alarm(template, "Invocation5XXErrors")
    latency = _alarm(template, "ModelLatency")
    assert (errors["Threshold"], errors["Period"], errors["EvaluationPeriods"]) == (1, 60, 3)
    assert (latency["Threshold"], latency["ExtendedStatistic"]) == (1_000_000, "p90")
    assert "AlarmName" not in errors
    assert "AlarmName" not in latency


@synthesizes
def test_canary_guardrails_roll_back_on_both_alarms(serving: Serving) -> None:
    template = serving.template(
        initial_instance_count=2,
        alarms=EndpointAlarms(topic=serving.topic),
        deployment=DeploymentGuardrails(),
    )
    names = [
        _alarm(template, "Invocation5XXErrors")["AlarmName"],
        _alarm(template, "ModelLatency")["AlarmName"],
    ]
    assert names == [
        "Serving-Churn-07580F52-ServerErrors",
        "Serving-Churn-07580F52-ModelLatency",
    ]
    endpoint = _one(template, "AWS::SageMaker::Endpoint")["Properties"]
    assert endpoint["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                "WaitIntervalInSeconds": 600,
            },
            "TerminationWaitInSeconds": 600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in names]},
    }


@synthesizes
def test_linear_guardrails_with_a_timeout(serving: Serving) -> None:
    template = serving.template(
        alarms=EndpointAlarms(topic=serving.topic),
        deployment=DeploymentGuardrails(
            traffic_shifting=TrafficShifting.linear(step_percent=25, wait=Duration.minutes(3)),
            termination_wait=Duration.minutes(15),
            maximum_execution_timeout=Duration.hours(2),
        ),
    )
    policy = _one(template, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"][
        "BlueGreenUpdatePolicy"
    ]
    assert policy == {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            "WaitIntervalInSeconds": 180,
        },
        "TerminationWaitInSeconds": 900,
        "MaximumExecutionTimeoutInSeconds": 7200,
    }


@synthesizes
def test_all_at_once_guardrails(serving: Serving) -> None:
    template = serving.template(
        alarms=EndpointAlarms(topic=serving.topic),
        deployment=DeploymentGuardrails(traffic_shifting=TrafficShifting.all_at_once()),
    )
    routing = _one(template, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"][
        "BlueGreenUpdatePolicy"
    ]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600}


@synthesizes
def test_serverless(serving: Serving) -> None:
    template = serving.template(
        serverless=ServerlessConfig(
            memory_size_mb=4096, max_concurrency=50, provisioned_concurrency=2
        )
    )
    config = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": _attr(template, "AWS::SageMaker::Model", "ModelName"),
            "ServerlessConfig": {
                "MemorySizeInMB": 4096,
                "MaxConcurrency": 50,
                "ProvisionedConcurrency": 2,
            },
        }
    ]
    assert config["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    model = _one(template, "AWS::SageMaker::Model")["Properties"]
    assert model["EnableNetworkIsolation"] is False


@synthesizes
def test_serverless_defaults(serving: Serving) -> None:
    template = serving.template(serverless=ServerlessConfig())
    variant = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"][
        0
    ]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 20}


@synthesizes
def test_network_isolation_can_be_turned_off(serving: Serving) -> None:
    template = serving.template(network_isolation=False)
    assert _one(template, "AWS::SageMaker::Model")["Properties"]["EnableNetworkIsolation"] is False


@synthesizes
def test_vpc_with_a_created_https_only_security_group(serving: Serving) -> None:
    vpc = ec2.Vpc(serving.stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip
    endpoint = serving.endpoint(vpc=vpc)
    template = Template.from_stack(serving.stack)
    group_id = _logical_id(template, "AWS::EC2::SecurityGroup")
    assert _one(template, "AWS::SageMaker::Model")["Properties"]["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [group_id, "GroupId"]}],
        "Subnets": [{"Ref": subnet} for subnet in _isolated_subnets(template)],
    }
    group = _one(template, "AWS::EC2::SecurityGroup")["Properties"]
    assert group["GroupDescription"] == "SageMaker model network interfaces: outbound HTTPS only"
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to S3, ECR and CloudWatch",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group
    assert endpoint.connections is not None
    # minimizePolicies merges the ENI actions with ecr:GetAuthorizationToken, also on "*".
    assert {
        "Action": [
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ecr:GetAuthorizationToken",
        ],
        "Effect": "Allow",
        "Resource": "*",
    } in _statements(template)


def _isolated_subnets(template: Template) -> list[str]:
    return sorted(template.find_resources("AWS::EC2::Subnet"))


@synthesizes
def test_vpc_with_given_subnets_and_security_groups(serving: Serving) -> None:
    vpc = ec2.Vpc(serving.stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Models", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ec2.SubnetConfiguration(name="Other", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ])  # fmt: skip
    group = ec2.SecurityGroup(serving.stack, "Given", vpc=vpc, allow_all_outbound=False)
    serving.endpoint(
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_group_name="Models"),
        security_groups=[group],
    )
    template = Template.from_stack(serving.stack)
    vpc_config = _one(template, "AWS::SageMaker::Model")["Properties"]["VpcConfig"]
    assert vpc_config["SecurityGroupIds"] == [serving.stack.resolve(group.security_group_id)]
    models = sorted(s for s in template.find_resources("AWS::EC2::Subnet") if "Models" in s)
    assert vpc_config["Subnets"] == [{"Ref": subnet} for subnet in models]
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)


# --- validation: exact messages ---------------------------------------------------------------


def _raises(message: str) -> Any:
    return pytest.raises(ValueError, match=f"^{_escape(message)}$")


def _escape(text: str) -> str:
    import re

    return re.escape(text)


@synthesizes
def test_refuses_a_model_that_is_not_a_model_source(serving: Serving) -> None:
    with _raises(
        "model must be a ModelSource: an inference image with its model artifact "
        "(ModelSource.from_builtin_algorithm, from_image, from_asset) or a model package "
        "version (ModelSource.from_model_package); got str"
    ):
        serving.endpoint(model="s3://bucket/models/model.tar.gz")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/models/model.tar",
        "s3://bucket/",
        "s3://bucket//model.tar.gz",
        "https://bucket.s3.amazonaws.com/model.tar.gz",
        "s3://Bad_Bucket/model.tar.gz",
        "models/model.tar.gz",
    ],
)
def test_refuses_an_artifact_uri_that_is_not_an_s3_tarball(uri: str) -> None:
    with _raises(
        f"model_data: {uri!r} is not an S3 model artifact URI: expected "
        "s3://<bucket>/<key>.tar.gz (SageMaker extracts that archive into /opt/ml/model)"
    ):
        ModelData.from_uri(uri)


def test_model_data_from_uri() -> None:
    data = ModelData.from_uri("s3://my-models/churn/1/model.tar.gz")
    assert (data.bucket_name, data.key, data.bucket) == ("my-models", "churn/1/model.tar.gz", None)
    assert data.uri == "s3://my-models/churn/1/model.tar.gz"


@synthesizes
@pytest.mark.parametrize("key", ["models/model.zip", "/models/model.tar.gz", "models/"])
def test_refuses_an_artifact_key_that_is_not_a_tarball(serving: Serving, key: str) -> None:
    with _raises(
        f"model_data: key {key!r} must name a .tar.gz object, "
        "e.g. models/churn-xgboost-1/output/model.tar.gz"
    ):
        ModelData.from_bucket(serving.artifacts, key)


def test_model_data_checks_its_key_however_it_is_made() -> None:
    with _raises(
        "model_data: key 'models/model.pt' must name a .tar.gz object, "
        "e.g. models/churn-xgboost-1/output/model.tar.gz"
    ):
        ModelData(bucket_name="my-models", key="models/model.pt")


@synthesizes
def test_refuses_an_unknown_builtin_algorithm(serving: Serving) -> None:
    data = ModelData.from_bucket(serving.artifacts, ARTIFACT_KEY)
    with _raises("unknown built-in algorithm 'xgbost'; did you mean 'xgboost'?"):
        ModelSource.from_builtin_algorithm("xgbost", data)


@synthesizes
def test_refuses_a_legacy_builtin_algorithm_version(serving: Serving) -> None:
    data = ModelData.from_bucket(serving.artifacts, ARTIFACT_KEY)
    with _raises(
        "model: xgboost version '1' is the legacy XGBoost 0.72 image (811284229777.../xgboost:1); "
        "use one of 0.90-1, 0.90-2, 1.0-1, 1.2-1, 1.2-2, 1.3-1, 1.5-1, 1.7-1, 3.0-5, 3.2-0 "
        "(default 1.7-1)"
    ):
        ModelSource.from_builtin_algorithm("xgboost", data, version="1")


@synthesizes
def test_refuses_a_builtin_algorithm_in_a_stack_without_region(serving: Serving) -> None:
    stack = Stack(serving.app, "Agnostic")
    key, bucket, _ = _given(stack)
    model = ModelSource.from_builtin_algorithm(
        "xgboost", ModelData.from_bucket(bucket, ARTIFACT_KEY)
    )
    with _raises(
        "model: the xgboost image is resolved per region; give the stack a concrete region "
        "(env=Environment(region=...))"
    ):
        ModelEndpoint(stack, "Churn", model=model, encryption_key=key)


@synthesizes
def test_refuses_a_builtin_algorithm_on_graviton(serving: Serving) -> None:
    with _raises(
        "model: the xgboost image is x86_64 and cannot run on ml.c7g.xlarge (Graviton, arm64); "
        "choose an x86 instance such as ml.m5.large"
    ):
        serving.endpoint(instance_type="ml.c7g.xlarge")


@pytest.mark.parametrize(
    "image_uri",
    [
        "docker.io/library/python:3.12",
        "public.ecr.aws/deep-learning-containers/pytorch:2.13.0",
        "111111111111.dkr.ecr.us-east-1.amazonaws.com/churn",
    ],
)
def test_refuses_an_image_that_is_not_in_ecr(image_uri: str) -> None:
    with _raises(
        f"model: {image_uri!r} is not an Amazon ECR image URI: expected "
        "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> "
        "(SageMaker hosts images from ECR)"
    ):
        ModelSource.from_image(image_uri, ModelData.from_uri("s3://b-1/m.tar.gz"))


@synthesizes
def test_refuses_a_token_image_without_its_repository(serving: Serving) -> None:
    repository = ecr.Repository(serving.stack, "Repo")
    with _raises(
        "model: the image URI is a CDK token; pass repository= (or use "
        "ModelSource.from_asset) so that the model role may pull it"
    ):
        ModelSource.from_image(
            repository.repository_uri_for_tag("v1"), ModelData.from_uri("s3://b-1/m.tar.gz")
        )


@pytest.mark.parametrize(
    "arn",
    [
        "churn-xgboost/3",
        "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/churn-xgboost",
        "arn:aws:sagemaker:us-east-1:111111111111:model/churn",
    ],
)
def test_refuses_a_malformed_model_package_arn(arn: str) -> None:
    with _raises(
        f"model: {arn!r} is not a model package ARN: expected "
        "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
    ):
        ModelSource.from_model_package(arn, artifacts=[])


def test_refuses_a_model_package_without_artifact_prefixes() -> None:
    with _raises(
        "model: from_model_package needs `artifacts`, the bucket prefixes that hold the "
        "package's model artifacts (e.g. the artifacts bucket's models/), so the model role "
        "may read them"
    ):
        ModelSource.from_model_package(PACKAGE_ARN, artifacts=[])


@synthesizes
@pytest.mark.parametrize(
    ("instance_type", "message"),
    [
        (
            "ml.m5.hugex",
            "ml.m5.hugex is not a SageMaker hosting instance type; ml.m5 sizes are large, "
            "xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge",
        ),
        (
            "ml.t3.medium",
            "ml.t3.medium is not a SageMaker hosting instance type; did you mean ml.t2.medium?",
        ),
        (
            "ml.p3.2xlarge",
            "ml.p3.2xlarge (NVIDIA V100) cannot be used: CUDA 13 and current PyTorch builds "
            "dropped the V100 (sm_70) and AWS has retired P3. Use a supported GPU family: "
            "ml.g4dn, ml.g5, ml.g6, ml.p4d or ml.p5",
        ),
    ],
)
def test_refuses_an_instance_type_that_sagemaker_does_not_host_on(
    serving: Serving, instance_type: str, message: str
) -> None:
    with _raises(f"instance_type: {message}"):
        serving.endpoint(instance_type=instance_type)


@synthesizes
def test_refuses_no_instances(serving: Serving) -> None:
    with _raises("initial_instance_count must be at least 1 (got 0)"):
        serving.endpoint(initial_instance_count=0)


def test_refuses_autoscaling_min_above_max() -> None:
    with _raises("Autoscaling.min_instances (3) is greater than max_instances (2)"):
        Autoscaling(min_instances=3, max_instances=2)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"min_instances": 0, "max_instances": 2},
            "Autoscaling.min_instances must be at least 1 (got 0)",
        ),
        ({"max_instances": 0}, "Autoscaling.max_instances must be at least 1 (got 0)"),
        (
            {"max_instances": 2, "invocations_per_instance": 0},
            "Autoscaling.invocations_per_instance must be at least 1 (got 0)",
        ),
    ],
)  # fmt: skip
def test_refuses_autoscaling_below_one(props: dict[str, Any], message: str) -> None:
    with _raises(message):
        Autoscaling(**props)


@synthesizes
def test_refuses_autoscaling_on_a_burstable_instance(serving: Serving) -> None:
    with _raises(
        "autoscaling: SageMaker does not autoscale burstable instances (ml.t2.medium); choose "
        "a non-burstable type such as ml.m5.large, or remove autoscaling"
    ):
        serving.endpoint(instance_type="ml.t2.medium", autoscaling=Autoscaling(max_instances=2))


@synthesizes
def test_refuses_an_initial_count_outside_the_autoscaling_range(serving: Serving) -> None:
    with _raises(
        "initial_instance_count (1) must be within autoscaling's min_instances..max_instances "
        "(2..4)"
    ):
        serving.endpoint(autoscaling=Autoscaling(min_instances=2, max_instances=4))


@pytest.mark.parametrize("memory", [512, 1000, 1536, 7168])
def test_refuses_serverless_memory_outside_the_offered_sizes(memory: int) -> None:
    with _raises(
        "ServerlessConfig.memory_size_mb must be one of 1024, 2048, 3072, 4096, 5120 or 6144 "
        f"(got {memory})"
    ):
        ServerlessConfig(memory_size_mb=memory)


@pytest.mark.parametrize("concurrency", [0, 201])
def test_refuses_serverless_concurrency_out_of_range(concurrency: int) -> None:
    with _raises(f"ServerlessConfig.max_concurrency must be 1 to 200 (got {concurrency})"):
        ServerlessConfig(max_concurrency=concurrency)


def test_refuses_more_provisioned_than_max_concurrency() -> None:
    with _raises(
        "ServerlessConfig.provisioned_concurrency must be 1 to max_concurrency (5) (got 6)"
    ):
        ServerlessConfig(max_concurrency=5, provisioned_concurrency=6)


@synthesizes
def test_refuses_serverless_with_instance_settings(serving: Serving) -> None:
    vpc = ec2.Vpc(serving.stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip
    with _raises(
        "serverless cannot be combined with instance_type, initial_instance_count, autoscaling, "
        "data_capture, deployment, vpc, network_isolation=True: SageMaker Serverless Inference "
        "has no instances to choose or scale, and no VPC, network isolation, data capture or "
        "deployment guardrails"
    ):
        serving.endpoint(
            serverless=ServerlessConfig(),
            instance_type="ml.m5.large",
            initial_instance_count=1,
            autoscaling=Autoscaling(max_instances=2),
            data_capture=DataCapture(bucket=serving.artifacts),
            alarms=EndpointAlarms(topic=serving.topic),
            deployment=DeploymentGuardrails(),
            vpc=vpc,
            network_isolation=True,
        )


@synthesizes
def test_refuses_serverless_with_one_instance_setting(serving: Serving) -> None:
    with _raises(
        "serverless cannot be combined with instance_type: SageMaker Serverless Inference has "
        "no instances to choose or scale, and no VPC, network isolation, data capture or "
        "deployment guardrails"
    ):
        serving.endpoint(serverless=ServerlessConfig(), instance_type="ml.m5.large")


@synthesizes
def test_refuses_guardrails_without_alarms(serving: Serving) -> None:
    with _raises(
        "deployment: guardrails roll back when the endpoint's alarms fire; pass "
        "alarms=EndpointAlarms(...) as well"
    ):
        serving.endpoint(deployment=DeploymentGuardrails())


@synthesizes
def test_refuses_guardrails_on_inferentia_1(serving: Serving) -> None:
    with _raises(
        "deployment: SageMaker applies no deployment guardrails to ml.inf1 endpoints "
        "(ml.inf1.xlarge) and would update them all at once without rollback; remove "
        "deployment or choose another family"
    ):
        serving.endpoint(
            instance_type="ml.inf1.xlarge",
            alarms=EndpointAlarms(topic=serving.topic),
            deployment=DeploymentGuardrails(),
        )


@synthesizes
def test_refuses_subnets_without_a_vpc(serving: Serving) -> None:
    with _raises("vpc_subnets and security_groups need vpc: pass vpc=<the VPC>"):
        serving.endpoint(vpc_subnets=ec2.SubnetSelection(subnet_group_name="Models"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: TrafficShifting.canary(percent=60),
            "TrafficShifting.canary percent must be 1 to 50 (got 60)",
        ),
        (
            lambda: TrafficShifting.linear(step_percent=5),
            "TrafficShifting.linear step_percent must be 10 to 50 (got 5)",
        ),
        (
            lambda: TrafficShifting("ALL_AT_ONCE", 10, Duration.minutes(1)),
            "TrafficShifting.all_at_once takes no percent",
        ),
        (
            lambda: TrafficShifting("CANARY", 60, Duration.minutes(1)),
            "TrafficShifting.canary percent must be 1 to 50 (got 60)",
        ),
        (
            lambda: TrafficShifting.canary(wait=Duration.hours(2)),
            "TrafficShifting.canary wait must be whole seconds from 0 to 3600 (got 7200 s)",
        ),
        (
            lambda: DeploymentGuardrails(termination_wait=Duration.hours(2)),
            "DeploymentGuardrails.termination_wait must be whole seconds from 0 to 3600 "
            "(got 7200 s)",
        ),
        (
            lambda: DeploymentGuardrails(maximum_execution_timeout=Duration.minutes(5)),
            "DeploymentGuardrails.maximum_execution_timeout must be whole seconds from 600 to "
            "28800 (got 300 s)",
        ),
    ],
)
def test_refuses_guardrails_out_of_range(make: Any, message: str) -> None:
    with _raises(message):
        make()


PREFIX_MESSAGE = "DataCapture.prefix must be a key prefix like 'data-capture/'"
SAMPLING_MESSAGE = "DataCapture.sampling_percentage must be 1 to 100"


@synthesizes
@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"prefix": "data-capture"}, f"{PREFIX_MESSAGE} (got 'data-capture')"),
        ({"prefix": "/capture/"}, f"{PREFIX_MESSAGE} (got '/capture/')"),
        ({"sampling_percentage": 0}, f"{SAMPLING_MESSAGE} (got 0)"),
        ({"sampling_percentage": 101}, f"{SAMPLING_MESSAGE} (got 101)"),
        (
            {"capture_input": False, "capture_output": False},
            "DataCapture captures nothing: set capture_input or capture_output (or both)",
        ),
    ],
)  # fmt: skip
def test_refuses_data_capture_settings(
    serving: Serving, props: dict[str, Any], message: str
) -> None:
    with _raises(message):
        DataCapture(bucket=serving.artifacts, **props)


@synthesizes
@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"server_errors": 0}, "EndpointAlarms.server_errors must be at least 1 (got 0)"),
        ({"evaluation_periods": 0}, "EndpointAlarms.evaluation_periods must be at least 1 (got 0)"),
        (
            {"latency_statistic": "Median"},
            "EndpointAlarms.latency_statistic must be Average, Maximum or a percentile such as "
            "p90 (got 'Median')",
        ),
        (
            {"model_latency": Duration.millis(0)},
            "EndpointAlarms.model_latency must be longer than zero",
        ),
        (
            {"period": Duration.seconds(30)},
            "EndpointAlarms.period must be a whole number of minutes: SageMaker publishes "
            "endpoint metrics once a minute (got 30 s)",
        ),
        (
            {"period": Duration.seconds(90)},
            "EndpointAlarms.period must be a whole number of minutes: SageMaker publishes "
            "endpoint metrics once a minute (got 90 s)",
        ),
    ],
)  # fmt: skip
def test_refuses_alarm_settings(serving: Serving, props: dict[str, Any], message: str) -> None:
    with _raises(message):
        EndpointAlarms(topic=serving.topic, **props)


# --- compliance: cdk-nag and cfn-lint on every scenario ---------------------------------------


@dataclass
class Scenarios:
    """One synthesized app with an endpoint per scenario, each in its own stack."""

    outdir: Path
    endpoints: dict[str, ModelEndpoint]


def _scenarios(outdir: Path) -> Scenarios:
    app = _app(outdir)
    data = Stack(app, "Data", env=ENV)
    key, artifacts, topic = _given(data)
    artifact = ModelData.from_bucket(artifacts, ARTIFACT_KEY)
    xgboost = ModelSource.from_builtin_algorithm("xgboost", artifact, version="1.7-1")
    endpoints: dict[str, ModelEndpoint] = {}

    def add(name: str, **props: Any) -> Stack:
        stack = Stack(app, name, env=ENV)
        props.setdefault("model", xgboost)
        endpoints[name] = ModelEndpoint(stack, "Endpoint", encryption_key=key, **props)
        return stack

    add("Default")
    network = Stack(app, "Network", env=ENV)
    vpc = ec2.Vpc(network, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip
    add(
        "Guarded",
        instance_type="ml.m5.xlarge",
        initial_instance_count=2,
        autoscaling=Autoscaling(min_instances=2, max_instances=4),
        data_capture=DataCapture(bucket=artifacts),
        alarms=EndpointAlarms(topic=topic),
        deployment=DeploymentGuardrails(),
        vpc=vpc,
    )
    add("Serverless", serverless=ServerlessConfig())
    add("Gpu", instance_type="ml.g5.xlarge")
    add(
        "Package",
        model=ModelSource.from_model_package(
            PACKAGE_ARN,
            artifacts=[BucketPrefixes(artifacts, ("models/",))],
            image_uris=[XGBOOST_IMAGE],
        ),
        data_capture=DataCapture(bucket=artifacts, prefix="captured/"),
    )
    app.synth()
    return Scenarios(outdir=outdir, endpoints=endpoints)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    yield _scenarios(tmp_path_factory.mktemp("endpoint.out"))


@synthesizes
@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
def test_no_unacknowledged_nag_finding(scenarios: Scenarios, pack: type[NagPack]) -> None:
    findings = [
        f"{name}: {violation.rule_name} at {resource.construct_path}"
        for name, endpoint in scenarios.endpoints.items()
        for violation in pack().validate_scope(endpoint).violations
        for resource in violation.violating_resources
    ]
    assert findings == []


@synthesizes
def test_cfn_lint_finds_nothing(scenarios: Scenarios) -> None:
    # The endpoints' stacks only: the Data and Network stacks are test fixtures.
    templates = [str(scenarios.outdir / f"{name}.template.json") for name in scenarios.endpoints]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

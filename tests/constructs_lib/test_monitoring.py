"""EndpointMonitoring: job definitions, schedules, role, alarms, options and their errors.

Tests that build a CDK app carry `xdist_group("monitoring")` so that one worker pays the jsii
start-up once. Request bodies are checked against botocore's SageMaker model, and one app with
every monitor is checked with cdk-nag and cfn-lint.
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

import botocore.session
import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from aws_cdk.aws_sagemaker import CfnDataQualityJobDefinition
from botocore.validate import validate_parameters
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks

from constructs_lib.builtin_algorithms import sdk
from constructs_lib.monitoring import (
    BiasMonitor,
    DataQualityMonitor,
    EndpointMonitoring,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
    MonitoringSchedule,
)
from constructs_lib.serving import DataCapture, ModelData, ModelEndpoint, ModelSource
from tests.conftest import REPO_ROOT, cdk_json_context

synthesizes = pytest.mark.xdist_group("monitoring")

ENV = Environment(account="111111111111", region="us-east-1")
MONITOR_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
KEY_ARN = {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
BUCKET = {"Ref": "Artifacts82DD59A1"}
PACKS: list[type[NagPack]] = [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks]

DATA_QUALITY = DataQualityMonitor(
    baseline_statistics="monitoring/churn/baseline/statistics.json",
    baseline_constraints="monitoring/churn/baseline/constraints.json",
    drift_alarm_features=("age", "monthly_charges"),
    drift_threshold=0.2,
)
MODEL_QUALITY = ModelQualityMonitor(
    problem_type="BinaryClassification",
    ground_truth_prefix="monitoring/churn/ground-truth/",
    probability_attribute="0",
    probability_threshold=0.5,
    baseline_constraints="monitoring/churn/model-quality/constraints.json",
    schedule=MonitoringSchedule.daily(),
    alarm_metric="auc",
    alarm_threshold=0.7,
)
BIAS = BiasMonitor(
    label="churned",
    label_values=(1,),
    facet="age",
    facet_values=(60,),
    headers=("tenure", "age"),
    ground_truth_prefix="monitoring/churn/ground-truth/",
    probability_attribute="0",
    probability_threshold=0.5,
    schedule=MonitoringSchedule.every(6),
)
EXPLAINABILITY = ExplainabilityMonitor(
    analysis_config="monitoring/churn/clarify/explainability.json",
    baseline_constraints="monitoring/churn/clarify/analysis.json",
)


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Monitored:
    """A stack with a captured endpoint and what monitoring is given: key, bucket, topic."""

    stack: Stack
    key: kms.Key
    artifacts: s3.Bucket
    topic: sns.Topic
    capture: DataCapture
    endpoint: ModelEndpoint
    staging_dir: Path

    def monitoring(self, construct_id: str = "Monitoring", **props: Any) -> EndpointMonitoring:
        props.setdefault("data_capture", self.capture)
        props.setdefault("alarm_topic", self.topic)
        props.setdefault("staging_dir", self.staging_dir)
        return EndpointMonitoring(
            self.stack,
            construct_id,
            endpoint=self.endpoint,
            encryption_key=self.key,
            output_prefix="monitoring/churn/reports/",
            **props,
        )

    def template(self, **props: Any) -> Template:
        self.monitoring(**props)
        return Template.from_stack(self.stack)


def _monitored(app: App, name: str, staging_dir: Path, env: Environment = ENV) -> Monitored:
    stack = Stack(app, name, env=env)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    artifacts = s3.Bucket(
        stack,
        "Artifacts",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
    capture = DataCapture(bucket=artifacts, prefix="data-capture/churn/")
    endpoint = ModelEndpoint(
        stack,
        "Churn",
        model=ModelSource.from_builtin_algorithm(
            "xgboost",
            ModelData.from_bucket(artifacts, "models/churn/output/model.tar.gz"),
            version="1.7-1",
        ),
        encryption_key=key,
        data_capture=capture,
    )
    return Monitored(stack, key, artifacts, topic, capture, endpoint, staging_dir)


@pytest.fixture
def monitored(tmp_path: Path) -> Monitored:
    return _monitored(App(context=cdk_json_context()), "Serving", tmp_path / "staging")


def _only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The one resource of a type that monitoring made (the endpoint has a role too)."""
    resources = {
        logical_id: resource
        for logical_id, resource in template.find_resources(resource_type).items()
        if logical_id.startswith("Monitoring")
    }
    assert len(resources) == 1, resources
    logical_id, resource = next(iter(resources.items()))
    return logical_id, resource["Properties"]


def _common(folder: str, *, isolated: bool = True) -> dict[str, Any]:
    """What every job definition of the fixture holds, besides its own settings."""
    return {
        "RoleArn": {"Fn::GetAtt": ["MonitoringRoleD3E808C7", "Arn"]},
        "JobResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 20,
                "VolumeKmsKeyId": KEY_ARN,
            }
        },
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": isolated,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "__output__": {
            "KmsKeyId": KEY_ARN,
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "LocalPath": "/opt/ml/processing/output",
                        "S3Uri": _uri(f"monitoring/churn/reports/{folder}"),
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ],
        },
    }


def _expected(output_key: str, folder: str, own: dict[str, Any], **options: Any) -> dict[str, Any]:
    common = _common(folder, **options)
    output = common.pop("__output__")
    return {**common, output_key: output, **own}


def _uri(key: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["s3://", BUCKET, f"/{key}"]]}


ENDPOINT_NAME = {"Fn::GetAtt": ["ChurnC60F44B2", "EndpointName"]}
ENDPOINT_INPUT = {"EndpointName": ENDPOINT_NAME, "LocalPath": "/opt/ml/processing/input/endpoint"}
PUBLISH = {"publish_cloudwatch_metrics": "Enabled"}


# --- job definitions and schedules -----------------------------------------------------------


@synthesizes
def test_data_quality_job_reads_captured_requests_against_the_baseline(
    monitored: Monitored,
) -> None:
    template = monitored.template(data_quality=DATA_QUALITY)
    _, job = _only(template, "AWS::SageMaker::DataQualityJobDefinition")
    assert job == _expected(
        "DataQualityJobOutputConfig",
        "data-quality",
        {
            "DataQualityAppSpecification": {"ImageUri": MONITOR_IMAGE, "Environment": PUBLISH},
            "DataQualityJobInput": {"EndpointInput": ENDPOINT_INPUT},
            "DataQualityBaselineConfig": {
                "ConstraintsResource": {
                    "S3Uri": _uri("monitoring/churn/baseline/constraints.json")
                },
                "StatisticsResource": {"S3Uri": _uri("monitoring/churn/baseline/statistics.json")},
            },
        },
    )


@synthesizes
def test_each_schedule_runs_its_job_definition_on_the_endpoint(monitored: Monitored) -> None:
    template = monitored.template(
        data_quality=DATA_QUALITY,
        model_quality=MODEL_QUALITY,
        bias=BIAS,
        explainability=EXPLAINABILITY,
    )
    schedules = {
        props["MonitoringScheduleConfig"]["MonitoringType"]: props
        for props in (
            resource["Properties"]
            for resource in template.find_resources("AWS::SageMaker::MonitoringSchedule").values()
        )
    }
    job = "AWS::SageMaker::{}JobDefinition".format
    expected = {
        "DataQuality": ("DataQuality", job("DataQuality"), "cron(0 * ? * * *)"),
        "ModelQuality": ("ModelQuality", job("ModelQuality"), "cron(0 0 ? * * *)"),
        "ModelBias": ("Bias", job("ModelBias"), "cron(0 0/6 ? * * *)"),
        "ModelExplainability": ("Explainability", job("ModelExplainability"), "cron(0 0 ? * * *)"),
    }
    assert sorted(schedules) == sorted(expected)
    for monitoring_type, (group, job_type, expression) in expected.items():
        job_id, _ = _only(template, job_type)
        schedule = schedules[monitoring_type]
        assert schedule["EndpointName"] == ENDPOINT_NAME
        assert schedule["MonitoringScheduleConfig"] == {
            "MonitoringType": monitoring_type,
            "MonitoringJobDefinitionName": {
                "Fn::Select": [
                    1,
                    {"Fn::Split": ["/", {"Fn::GetAtt": [job_id, "JobDefinitionArn"]}]},
                ]
            },
            "ScheduleConfig": {"ScheduleExpression": expression},
        }
        # SageMaker requires the schedule's name: one per construct path, within its limits.
        name = schedule["MonitoringScheduleName"]
        assert name.startswith(f"Serving-Monitoring-{group}-")
        assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name)
        assert len(name) <= 63


@synthesizes
def test_job_definitions_are_named_by_cloudformation_and_wait_for_the_role_policy(
    monitored: Monitored,
) -> None:
    template = monitored.template(data_quality=DATA_QUALITY, explainability=EXPLAINABILITY)
    policy_id, _ = _only(template, "AWS::IAM::ManagedPolicy")
    for job_type in (
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
    ):
        job = next(iter(template.find_resources(job_type).values()))
        assert "JobDefinitionName" not in job["Properties"]
        assert job["DependsOn"] == [policy_id]
    _, role = _only(template, "AWS::IAM::Role")
    assert "RoleName" not in role


@synthesizes
def test_model_quality_job_scores_predictions_against_ground_truth(
    monitored: Monitored,
) -> None:
    template = monitored.template(model_quality=MODEL_QUALITY)
    _, job = _only(template, "AWS::SageMaker::ModelQualityJobDefinition")
    assert job == _expected(
        "ModelQualityJobOutputConfig",
        "model-quality",
        {
            "ModelQualityAppSpecification": {
                "ImageUri": MONITOR_IMAGE,
                "ProblemType": "BinaryClassification",
                "Environment": PUBLISH,
            },
            "ModelQualityJobInput": {
                "EndpointInput": {
                    **ENDPOINT_INPUT,
                    "ProbabilityAttribute": "0",
                    "ProbabilityThresholdAttribute": 0.5,
                },
                "GroundTruthS3Input": {"S3Uri": _uri("monitoring/churn/ground-truth/")},
            },
            "ModelQualityBaselineConfig": {
                "ConstraintsResource": {
                    "S3Uri": _uri("monitoring/churn/model-quality/constraints.json")
                }
            },
        },
    )


@synthesizes
def test_bias_job_reads_an_analysis_config_generated_from_the_facet_and_label(
    monitored: Monitored,
) -> None:
    monitoring = monitored.monitoring(bias=BIAS)
    template = Template.from_stack(monitored.stack)
    _, job = _only(template, "AWS::SageMaker::ModelBiasJobDefinition")
    asset = monitoring.bias_analysis_config
    assert asset is not None
    resolved_uri = monitored.stack.resolve(asset.s3_object_url)
    assert job == _expected(
        "ModelBiasJobOutputConfig",
        "bias",
        {
            "ModelBiasAppSpecification": {
                "ImageUri": CLARIFY_IMAGE,
                "ConfigUri": resolved_uri,
                "Environment": PUBLISH,
            },
            "ModelBiasJobInput": {
                "EndpointInput": {
                    **ENDPOINT_INPUT,
                    "ProbabilityAttribute": "0",
                    "ProbabilityThresholdAttribute": 0.5,
                },
                "GroundTruthS3Input": {"S3Uri": _uri("monitoring/churn/ground-truth/")},
            },
        },
    )
    (written,) = (monitored.staging_dir).glob("clarify-bias-*.json")
    assert json.loads(written.read_text()) == {
        "label": "churned",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "age", "value_or_threshold": [60]}],
        "headers": ["tenure", "age"],
        "probability_threshold": 0.5,
    }
    assert resolved_uri.endswith(f"{asset.asset_hash}.json")


@synthesizes
def test_bias_analysis_config_is_byte_identical_across_synths(tmp_path: Path) -> None:
    hashes = []
    for run in range(2):
        monitored = _monitored(App(context=cdk_json_context()), "Serving", tmp_path / f"s{run}")
        hashes.append(monitored.monitoring(bias=BIAS).bias_analysis_config.asset_hash)  # type: ignore[union-attr]
    assert hashes[0] == hashes[1]


@synthesizes
def test_explainability_job_asks_the_endpoint_so_it_keeps_network_access(
    monitored: Monitored,
) -> None:
    template = monitored.template(explainability=EXPLAINABILITY)
    _, job = _only(template, "AWS::SageMaker::ModelExplainabilityJobDefinition")
    assert job == _expected(
        "ModelExplainabilityJobOutputConfig",
        "explainability",
        {
            "ModelExplainabilityAppSpecification": {
                "ImageUri": CLARIFY_IMAGE,
                "ConfigUri": _uri("monitoring/churn/clarify/explainability.json"),
                "Environment": PUBLISH,
            },
            "ModelExplainabilityJobInput": {"EndpointInput": ENDPOINT_INPUT},
            "ModelExplainabilityBaselineConfig": {
                "ConstraintsResource": {"S3Uri": _uri("monitoring/churn/clarify/analysis.json")}
            },
        },
        isolated=False,
    )


@synthesizes
def test_resources_are_the_callers(monitored: Monitored) -> None:
    template = monitored.template(
        data_quality=DataQualityMonitor(),
        resources=MonitoringResources(
            instance_type="ml.c5.2xlarge",
            instance_count=2,
            volume_size_gb=50,
            max_runtime=Duration.minutes(30),
        ),
    )
    _, job = _only(template, "AWS::SageMaker::DataQualityJobDefinition")
    assert job["JobResources"]["ClusterConfig"] == {
        "InstanceCount": 2,
        "InstanceType": "ml.c5.2xlarge",
        "VolumeSizeInGB": 50,
        "VolumeKmsKeyId": KEY_ARN,
    }
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert "DataQualityBaselineConfig" not in job


# --- botocore accepts every request body ------------------------------------------------------

SAMPLES = {
    "Arn": "arn:aws:iam::111111111111:role/sample",
    "EndpointName": "sample-endpoint",
    "JobDefinitionArn": "arn:aws:sagemaker:us-east-1:111111111111:data-quality-job-definition/x",
}


def _concrete(value: Any) -> Any:  # noqa: PLR0911 (one return per intrinsic)
    """The template value with every intrinsic replaced by a sample of what it resolves to."""
    if isinstance(value, list):
        return [_concrete(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_concrete(part)) for part in parts)
    if "Fn::GetAtt" in value:
        return SAMPLES[value["Fn::GetAtt"][1]]
    if "Ref" in value:
        return "sample-bucket"
    if "Fn::Select" in value:
        index, parts = value["Fn::Select"]
        return _concrete(parts)[index]
    if "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return str(_concrete(text)).split(separator)
    if "Fn::Sub" in value:
        return (
            value["Fn::Sub"]
            .replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", "us-east-1")
            .replace("${AWS::AccountId}", "111111111111")
        )
    return {key: _concrete(item) for key, item in value.items()}


OPERATIONS = {
    "AWS::SageMaker::DataQualityJobDefinition": "CreateDataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition": "CreateModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition": "CreateModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition": "CreateModelExplainabilityJobDefinition",
    "AWS::SageMaker::MonitoringSchedule": "CreateMonitoringSchedule",
}


@synthesizes
def test_every_request_body_is_valid_for_botocore(monitored: Monitored) -> None:
    template = monitored.template(
        data_quality=DATA_QUALITY,
        model_quality=MODEL_QUALITY,
        bias=BIAS,
        explainability=EXPLAINABILITY,
    ).to_json()
    model = botocore.session.get_session().get_service_model("sagemaker")
    checked = []
    for resource in template["Resources"].values():
        operation = OPERATIONS.get(resource["Type"])
        if operation is None:
            continue
        request = _concrete(resource["Properties"])
        # CloudFormation-only: the endpoint a schedule belongs to, and the stack's tags.
        request.pop("EndpointName", None)
        request.pop("Tags", None)
        if operation != "CreateMonitoringSchedule":
            request["JobDefinitionName"] = "sample-job-definition"
        validate_parameters(request, model.operation_model(operation).input_shape)
        checked.append(operation)
    assert sorted(checked) == sorted([*OPERATIONS.values(), *["CreateMonitoringSchedule"] * 3])


# --- the role ---------------------------------------------------------------------------------


@synthesizes
def test_only_sagemaker_assumes_the_role(monitored: Monitored) -> None:
    template = monitored.template(data_quality=DATA_QUALITY)
    _, role = _only(template, "AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role


def _objects(key: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]}, f"/{key}"]]}


@synthesizes
def test_role_reads_only_its_prefixes_and_baselines_and_writes_only_reports(
    monitored: Monitored,
) -> None:
    template = monitored.template(data_quality=DATA_QUALITY, model_quality=MODEL_QUALITY)
    _, policy = _only(template, "AWS::IAM::ManagedPolicy")
    log_group = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/ProcessingJobs"
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": [
                _objects("data-capture/churn/*"),
                _objects("monitoring/churn/baseline/constraints.json"),
                _objects("monitoring/churn/baseline/statistics.json"),
                _objects("monitoring/churn/ground-truth/*"),
                _objects("monitoring/churn/model-quality/constraints.json"),
            ],
        },
        {
            "Action": "s3:ListBucket",
            "Condition": {
                "StringLike": {
                    "s3:prefix": ["data-capture/churn/*", "monitoring/churn/ground-truth/*"]
                }
            },
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]},
        },
        {
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": _objects("monitoring/churn/reports/*"),
        },
        {
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": KEY_ARN,
        },
        {
            "Action": "kms:CreateGrant",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            "Effect": "Allow",
            "Resource": KEY_ARN,
        },
        {
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            "Effect": "Allow",
            "Resource": [
                log_group,
                f"{log_group}:log-stream:*",
            ],
        },
        {
            "Action": "cloudwatch:PutMetricData",
            "Condition": {"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/Endpoints/*"]}},
            "Effect": "Allow",
            "Resource": "*",
        },
    ]


@synthesizes
def test_role_reads_the_bias_config_asset_and_invokes_only_this_endpoint_for_shap(
    monitored: Monitored,
) -> None:
    monitoring = monitored.monitoring(bias=BIAS, explainability=EXPLAINABILITY)
    asset = monitoring.bias_analysis_config
    assert asset is not None
    template = Template.from_stack(monitored.stack)
    _, policy = _only(template, "AWS::IAM::ManagedPolicy")
    statements = policy["PolicyDocument"]["Statement"]
    reads = statements[0]["Resource"]
    assert monitored.stack.resolve(asset.bucket.arn_for_objects(asset.s3_object_key)) in reads
    assert _objects("monitoring/churn/clarify/explainability.json") in reads
    assert {
        "Action": "sagemaker:InvokeEndpoint",
        "Effect": "Allow",
        "Resource": {"Ref": "ChurnC60F44B2"},
    } in statements
    assert sum("sagemaker:" in json.dumps(s["Action"]) for s in statements) == 1


@synthesizes
def test_role_may_not_invoke_the_endpoint_without_explainability(monitored: Monitored) -> None:
    template = monitored.template(data_quality=DATA_QUALITY, bias=BIAS)
    assert "sagemaker:InvokeEndpoint" not in json.dumps(template.to_json())


# --- alarms -----------------------------------------------------------------------------------


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        props["MetricName"]: props
        for props in (
            resource["Properties"]
            for resource in template.find_resources("AWS::CloudWatch::Alarm").values()
        )
        if props["Namespace"].startswith("aws/sagemaker/Endpoints/")
    }


@synthesizes
def test_drift_and_model_quality_alarms_notify_the_topic(monitored: Monitored) -> None:
    monitoring = monitored.monitoring(data_quality=DATA_QUALITY, model_quality=MODEL_QUALITY)
    template = Template.from_stack(monitored.stack)
    alarms = _alarms(template)
    assert sorted(alarms) == [
        "auc",
        "feature_baseline_drift_age",
        "feature_baseline_drift_monthly_charges",
    ]
    topic = {"Ref": "Alarms04B5A0BF"}
    schedules = {k: s.monitoring_schedule_name for k, s in monitoring.schedules.items()}
    drift = alarms["feature_baseline_drift_age"]
    assert drift == {
        "AlarmDescription": "Data quality of Serving/Churn: feature 'age' drifted 0.2 or more "
        "from its baseline",
        "Namespace": "aws/sagemaker/Endpoints/data-metrics",
        "MetricName": "feature_baseline_drift_age",
        "Dimensions": [
            {"Name": "Endpoint", "Value": ENDPOINT_NAME},
            {"Name": "MonitoringSchedule", "Value": schedules["DataQuality"]},
        ],
        "Statistic": "Maximum",
        "Period": 3600,
        "Threshold": 0.2,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic],
        "OKActions": [topic],
    }
    quality = alarms["auc"]
    assert quality["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert quality["Dimensions"][1] == {
        "Name": "MonitoringSchedule",
        "Value": schedules["ModelQuality"],
    }
    # A daily schedule publishes once a day; a score alarms below its threshold.
    assert (quality["Period"], quality["Statistic"], quality["ComparisonOperator"]) == (
        86400,
        "Minimum",
        "LessThanThreshold",
    )
    assert quality["Threshold"] == 0.7


@synthesizes
def test_error_metrics_alarm_above_their_threshold(monitored: Monitored) -> None:
    template = monitored.template(
        model_quality=ModelQualityMonitor(
            problem_type="Regression",
            ground_truth_prefix="monitoring/churn/ground-truth/",
            schedule=MonitoringSchedule.every(4, starting_hour=1),
            alarm_metric="rmse",
            alarm_threshold=2.5,
        )
    )
    alarm = _alarms(template)["rmse"]
    assert (alarm["Period"], alarm["Statistic"], alarm["ComparisonOperator"]) == (
        4 * 3600,
        "Maximum",
        "GreaterThanOrEqualToThreshold",
    )


@synthesizes
def test_no_alarm_without_features_or_a_metric_and_no_actions_without_a_topic(
    monitored: Monitored,
) -> None:
    template = monitored.template(data_quality=DataQualityMonitor(), alarm_topic=None)
    assert _alarms(template) == {}
    other = _monitored(App(context=cdk_json_context()), "Other", monitored.staging_dir)
    other.monitoring(data_quality=DATA_QUALITY, alarm_topic=None)
    alarms = _alarms(Template.from_stack(other.stack))
    assert len(alarms) == 2
    assert all("AlarmActions" not in alarm for alarm in alarms.values())


# --- schedules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expression", "hours"),
    [
        (MonitoringSchedule.hourly(), "cron(0 * ? * * *)", 1),
        (MonitoringSchedule.daily(), "cron(0 0 ? * * *)", 24),
        (MonitoringSchedule.daily(17), "cron(0 17 ? * * *)", 24),
        (MonitoringSchedule.every(12, starting_hour=5), "cron(0 5/12 ? * * *)", 12),
        (MonitoringSchedule.from_config("hourly"), "cron(0 * ? * * *)", 1),
        (MonitoringSchedule.from_config("daily"), "cron(0 0 ? * * *)", 24),
        (MonitoringSchedule.cron("cron(0 00/02 ? * * *)"), "cron(0 00/02 ? * * *)", 2),
    ],
)
def test_schedules_sagemaker_accepts(
    schedule: MonitoringSchedule, expression: str, hours: int
) -> None:
    assert (schedule.expression, schedule.interval_hours) == (expression, hours)


ACCEPTED = (
    "'hourly', 'daily', cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at hour H, 0-23) "
    "or cron(0 H/N ? * * *) (every N hours from hour H, N 1-24)"
)


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("rate(1 hour)", "; SageMaker monitoring schedules take no rate() expressions"),
        ("NOW", "; NOW runs once and needs an analysis window, it is not a recurring schedule"),
        ("cron(15 * ? * * *)", ""),
        ("cron(0 24 ? * * *)", ""),
        ("cron(0 0/25 ? * * *)", ""),
        ("cron(0 0 * * ? *)", ""),
        ("cron(0 0 ? * MON *)", ""),
        ("cron(0 */2 ? * * *)", ""),
    ],
)
def test_refuses_a_schedule_sagemaker_does_not_accept(expression: str, hint: str) -> None:
    message = (
        f"MonitoringSchedule: SageMaker Model Monitor accepts only {ACCEPTED} "
        f"(got {expression!r}){hint}"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        MonitoringSchedule.cron(expression)


def test_refuses_hours_out_of_range() -> None:
    with pytest.raises(ValueError, match=re.escape("(got 'cron(0 0/30 ? * * *)')")):
        MonitoringSchedule.every(30)


# --- errors -----------------------------------------------------------------------------------


def _raises(message: str) -> Any:
    return pytest.raises(ValueError, match=f"^{re.escape(message)}$")


@synthesizes
def test_refuses_monitoring_an_endpoint_without_data_capture(monitored: Monitored) -> None:
    with _raises(
        "EndpointMonitoring needs the endpoint's data_capture: monitoring schedules analyse "
        "captured traffic, so give the endpoint a DataCapture and pass it here"
    ):
        monitored.monitoring(data_quality=DATA_QUALITY, data_capture=None)


@synthesizes
def test_refuses_monitoring_nothing(monitored: Monitored) -> None:
    with _raises(
        "EndpointMonitoring needs at least one of data_quality, model_quality, bias or "
        "explainability"
    ):
        monitored.monitoring()


@synthesizes
def test_refuses_monitors_whose_half_of_the_traffic_is_not_captured(monitored: Monitored) -> None:
    outputs_only = DataCapture(bucket=monitored.artifacts, capture_input=False)
    with _raises("DataQuality monitoring needs captured requests: set DataCapture.capture_input"):
        monitored.monitoring(data_quality=DATA_QUALITY, data_capture=outputs_only)
    inputs_only = DataCapture(bucket=monitored.artifacts, capture_output=False)
    with _raises(
        "ModelQuality, Bias monitoring needs captured responses: set DataCapture.capture_output"
    ):
        monitored.monitoring(
            "Other", model_quality=MODEL_QUALITY, bias=BIAS, data_capture=inputs_only
        )


@synthesizes
def test_refuses_bias_without_a_staging_dir(monitored: Monitored) -> None:
    with _raises(
        "EndpointMonitoring needs staging_dir with bias: the Clarify analysis config is written "
        "there at synth and published as a file asset"
    ):
        monitored.monitoring(bias=BIAS, staging_dir=None)


@synthesizes
def test_refuses_an_output_prefix_that_is_not_a_prefix(monitored: Monitored) -> None:
    with _raises(
        "EndpointMonitoring.output_prefix must be a key prefix like 'monitoring/' (got 'reports')"
    ):
        EndpointMonitoring(
            monitored.stack,
            "Monitoring",
            endpoint=monitored.endpoint,
            data_capture=monitored.capture,
            encryption_key=monitored.key,
            output_prefix="reports",
            data_quality=DATA_QUALITY,
        )


def test_an_unknown_region_has_no_monitoring_image() -> None:
    with pytest.raises(
        ValueError,
        match=r"^sagemaker-core \S+ publishes no model-monitor image for region 'xx-east-9'; "
        r"it knows: af-south-1, .*us-east-1, .*",
    ):
        sdk.monitoring_image("model-monitor", "xx-east-9")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: MonitoringResources(instance_type="m5.xlarge"),
            "MonitoringResources.instance_type must be a SageMaker instance type such as "
            "ml.m5.xlarge (got 'm5.xlarge')",
        ),
        (
            lambda: MonitoringResources(max_runtime=Duration.hours(2)),
            "MonitoringResources.max_runtime must be 1 to 3600 seconds (got 7200)",
        ),
        (
            lambda: MonitoringResources(instance_count=0),
            "MonitoringResources.instance_count must be 1 to 100 (got 0)",
        ),
        (
            lambda: DataQualityMonitor(baseline_constraints="monitoring/"),
            "DataQualityMonitor.baseline_constraints must be an object key like "
            "'monitoring/x.json' (got 'monitoring/')",
        ),
        (
            lambda: DataQualityMonitor(drift_threshold=0),
            "DataQualityMonitor.drift_threshold must be above 0 and at most 1 (got 0)",
        ),
        (
            lambda: ModelQualityMonitor(
                problem_type="BinaryClassification", ground_truth_prefix="gt"
            ),
            "ModelQualityMonitor.ground_truth_prefix must be a key prefix ending in '/' (got 'gt')",
        ),
        (
            lambda: ModelQualityMonitor(
                problem_type="BinaryClassification", ground_truth_prefix="gt/"
            ),
            "ModelQualityMonitor needs inference_attribute or probability_attribute for a "
            "classification problem: where the prediction is in the response",
        ),
        (
            lambda: ModelQualityMonitor(
                problem_type="Regression",
                ground_truth_prefix="gt/",
                alarm_metric="auc",
                alarm_threshold=0.5,
            ),
            "ModelQualityMonitor.alarm_metric must be one of mae, mse, r2, rmse for Regression "
            "(got 'auc')",
        ),
        (
            lambda: ModelQualityMonitor(
                problem_type="Regression", ground_truth_prefix="gt/", alarm_metric="rmse"
            ),
            "ModelQualityMonitor.alarm_threshold is required with alarm_metric",
        ),
        (
            lambda: BiasMonitor(
                label="churned",
                label_values=(),
                facet="age",
                ground_truth_prefix="gt/",
            ),
            "BiasMonitor.label_values must name at least one positive value",
        ),
        (
            lambda: BiasMonitor(
                label="churned",
                label_values=(1,),
                facet="gender",
                headers=("age", "tenure"),
                ground_truth_prefix="gt/",
            ),
            "BiasMonitor.facet 'gender' is not one of the headers (age, tenure)",
        ),
        (
            lambda: ExplainabilityMonitor(analysis_config="/clarify.json"),
            "ExplainabilityMonitor.analysis_config must be an object key like "
            "'monitoring/x.json' (got '/clarify.json')",
        ),
    ],
)
def test_refuses_options_sagemaker_would_refuse(make: Any, message: str) -> None:
    with _raises(message):
        make()


# --- compliance: cdk-nag and cfn-lint with every monitor --------------------------------------


@dataclass
class Everything:
    outdir: Path
    monitoring: EndpointMonitoring


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Everything]:
    outdir = tmp_path_factory.mktemp("monitoring.out")
    app = App(context=cdk_json_context(), outdir=str(outdir))
    monitored = _monitored(app, "Monitored", outdir / "staging")
    monitoring = monitored.monitoring(
        data_quality=DATA_QUALITY,
        model_quality=MODEL_QUALITY,
        bias=BIAS,
        explainability=EXPLAINABILITY,
    )
    app.synth()
    yield Everything(outdir, monitoring)


@synthesizes
@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
def test_no_unacknowledged_nag_finding(everything: Everything, pack: type[NagPack]) -> None:
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in pack().validate_scope(everything.monitoring).violations
        for resource in violation.violating_resources
    ]
    assert findings == []


@synthesizes
def test_cfn_lint_finds_nothing(everything: Everything) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "parseable",
            str(everything.outdir / "Monitored.template.json"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@synthesizes
def test_each_image_is_resolved_only_for_the_monitors_that_run(tmp_path: Path) -> None:
    # il-central-1 has the Model Monitor image in the SDK's tables but not the Clarify one.
    app = App(context=cdk_json_context())
    stack = Stack(app, "Israel", env=Environment(account="111111111111", region="il-central-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    artifacts = s3.Bucket(stack, "Artifacts", encryption_key=key)
    capture = DataCapture(bucket=artifacts)
    endpoint = ModelEndpoint(
        stack,
        "Churn",
        model=ModelSource.from_image(
            "111111111111.dkr.ecr.il-central-1.amazonaws.com/churn:1",
            ModelData.from_bucket(artifacts, "models/churn/output/model.tar.gz"),
        ),
        encryption_key=key,
        data_capture=capture,
    )
    common: dict[str, Any] = {
        "endpoint": endpoint,
        "data_capture": capture,
        "encryption_key": key,
        "staging_dir": tmp_path,
    }
    monitoring = EndpointMonitoring(stack, "Quality", data_quality=DATA_QUALITY, **common)
    job = monitoring.job_definitions["DataQuality"]
    assert isinstance(job, CfnDataQualityJobDefinition)
    image = stack.resolve(job.data_quality_app_specification)["imageUri"]
    assert image.endswith(".dkr.ecr.il-central-1.amazonaws.com/sagemaker-model-monitor-analyzer")
    with pytest.raises(ValueError, match=r"publishes no clarify image for region 'il-central-1'"):
        EndpointMonitoring(stack, "Fairness", bias=BIAS, **common)

"""What a SageMaker training job runs, and the CreateTrainingJob / tuning requests built from it.

The requests are plain dicts in the SageMaker API's own shape, with Step Functions paths
(`"Key.$": "$.path"`) where a value is chosen per execution. The training pipeline puts them
in its state machine verbatim, so a pull request shows a hyperparameter change as one line of
the template, and a test can check them against botocore's SageMaker model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

#: Job names are `<name>-<uuid>`: 23 + 1 + 36 characters fits CreateTrainingJob's 63.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,22}$")
#: Tuning job names are `<name>-<8 hex>`, within the 32 characters the API allows.
TUNING_SUFFIX_LENGTH = 8

InputMode = Literal["File", "Pipe", "FastFile"]


@dataclass(frozen=True, kw_only=True)
class TrainingInput:
    """One input channel: the objects under `prefix` in `bucket`.

    Attributes:
        name: the channel name the algorithm reads, e.g. `train`, `validation`.
        bucket: the bucket holding the data.
        prefix: the key prefix, e.g. `data/train/`, or one object's key.
        content_type: MIME type of the data (e.g. `text/csv`). Default: none sent.
        input_mode: how the container reads it. Default: File.
    """

    name: str
    bucket: s3.IBucket
    prefix: str
    content_type: str | None = None
    input_mode: InputMode = "File"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9\.\-_]{1,64}", self.name):
            raise ValueError(f"TrainingInput.name {self.name!r} is not a valid channel name")
        if not self.prefix or self.prefix.startswith("/"):
            raise ValueError(
                f"TrainingInput.prefix {self.prefix!r} must be a key prefix like 'data/train/' "
                "(or one object's key)"
            )

    def default_uri(self) -> str:
        return f"s3://{self.bucket.bucket_name}/{self.prefix}"


@dataclass(frozen=True, kw_only=True)
class SpotTraining:
    """Managed spot training: cheaper, interruptible; resumes from S3 checkpoints.

    Attributes:
        max_wait: how long the job may wait for spot capacity and run, in all. Must be at
            least the job's max runtime.
        checkpoint_bucket: where checkpoints are synced.
        checkpoint_prefix: key prefix for checkpoints, ending in `/`; a folder per job is
            added below it.
    """

    max_wait: Duration
    checkpoint_bucket: s3.IBucket
    checkpoint_prefix: str


@dataclass(frozen=True, kw_only=True)
class ParameterRange:
    """The range a tuning job searches for one hyperparameter.

    Give `min_value` and `max_value` for a numeric range, or `values` for a categorical one.

    Attributes:
        kind: `Integer`, `Continuous` or `Categorical`.
        min_value: lower bound (numeric ranges).
        max_value: upper bound (numeric ranges).
        values: the candidates (categorical ranges).
        scaling: `Auto`, `Linear`, `Logarithmic` or `ReverseLogarithmic`. Default: Auto.
    """

    kind: Literal["Integer", "Continuous", "Categorical"]
    min_value: float | None = None
    max_value: float | None = None
    values: tuple[str, ...] = ()
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"


@dataclass(frozen=True, kw_only=True)
class HyperparameterTuning:
    """Automatic model tuning: many training jobs, the best one becomes the model.

    Attributes:
        objective_metric: the metric to optimise, e.g. `validation:auc`.
        objective_type: `Maximize` or `Minimize`.
        ranges: hyperparameter name -> range searched.
        max_jobs: training jobs in all.
        max_parallel_jobs: training jobs at once.
        strategy: `Bayesian`, `Random`, `Hyperband` or `Grid`. Default: Bayesian.
    """

    objective_metric: str
    objective_type: Literal["Maximize", "Minimize"]
    ranges: Mapping[str, ParameterRange]
    max_jobs: int
    max_parallel_jobs: int
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"


@dataclass(frozen=True, kw_only=True)
class TrainingJob:
    """Everything a training job runs with, except the role and key (given by the pipeline).

    Attributes:
        name: short name, `[a-z][a-z0-9-]{0,22}`: prefix of every job, model and rule.
        image_uri: the training image.
        inputs: the input channels.
        output_bucket: where the model artifact goes.
        output_prefix: key prefix of model artifacts, ending in `/`.
        instance_type: e.g. `ml.m5.xlarge`.
        instance_count: more than 1 for distributed training. Default: 1.
        volume_size_gb: ML storage volume per instance. Default: 30.
        max_runtime: the job is stopped after this. Default: 1 hour.
        hyperparameters: name -> value, already rendered as strings. Default: none.
        metric_definitions: `{"Name", "Regex"}` pairs read from the job's logs. Default: none
            (built-in algorithms publish their own).
        environment: container environment variables. Default: none.
        spot: managed spot training. Default: on-demand.
        tuning: run a tuning job instead of one training job. Default: no tuning.
        network_isolation: no network access from the container. Default: true.
        vpc_subnets: run in these subnets with `security_groups`. Default: no VPC.
        security_groups: security groups for the VPC placement.
        tags: added to each job. Default: none.
    """

    name: str
    image_uri: str
    inputs: Sequence[TrainingInput]
    output_bucket: s3.IBucket
    output_prefix: str
    instance_type: str
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime: Duration = Duration.hours(1)
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    metric_definitions: Sequence[Mapping[str, str]] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    spot: SpotTraining | None = None
    tuning: HyperparameterTuning | None = None
    network_isolation: bool = True
    vpc_subnets: Sequence[ec2.ISubnet] = ()
    security_groups: Sequence[ec2.ISecurityGroup] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not NAME_PATTERN.fullmatch(self.name):
            problems.append(f"name {self.name!r} must match {NAME_PATTERN.pattern}")
        if not self.inputs:
            problems.append("inputs must name at least one channel")
        if len({i.name for i in self.inputs}) != len(self.inputs):
            problems.append("inputs must have distinct channel names")
        if self.instance_count < 1:
            problems.append(f"instance_count must be at least 1 (got {self.instance_count})")
        if not 1 <= self.volume_size_gb <= 16384:
            problems.append(f"volume_size_gb must be 1 to 16384 (got {self.volume_size_gb})")
        if self.spot and self.spot.max_wait.to_seconds() < self.max_runtime.to_seconds():
            problems.append(
                f"spot.max_wait ({self.spot.max_wait.to_seconds():g} s) must be at least "
                f"max_runtime ({self.max_runtime.to_seconds():g} s)"
            )
        if bool(self.vpc_subnets) != bool(self.security_groups):
            problems.append("vpc_subnets and security_groups go together")
        if problems:
            raise ValueError(f"TrainingJob {self.name!r}: " + "; ".join(problems))


def channel_path(channel: str) -> str:
    """Where the state machine keeps the S3 URI chosen for `channel` in this execution."""
    return f"$.data.{channel}"


def training_job_request(
    job: TrainingJob, *, role_arn: str, key_arn: str, job_name_path: str
) -> dict[str, Any]:
    """The CreateTrainingJob request, with the job name and data URIs taken from the state."""
    request: dict[str, Any] = {
        "TrainingJobName.$": job_name_path,
        **_job_body(job, role_arn=role_arn, key_arn=key_arn),
        "HyperParameters": dict(sorted(job.hyperparameters.items())),
    }
    if job.spot:
        request["CheckpointConfig"] = {
            "S3Uri.$": (
                f"States.Format('s3://{job.spot.checkpoint_bucket.bucket_name}/"
                f"{job.spot.checkpoint_prefix}{{}}/', {job_name_path})"
            )
        }
    if job.tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(job.tags.items())]
    return request


def tuning_job_request(
    job: TrainingJob, *, role_arn: str, key_arn: str, job_name_path: str
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request for `job.tuning`."""
    tuning = job.tuning
    if tuning is None:
        raise ValueError(f"TrainingJob {job.name!r} has no tuning section")
    body = _job_body(job, role_arn=role_arn, key_arn=key_arn)
    body["StaticHyperParameters"] = {
        k: v for k, v in sorted(job.hyperparameters.items()) if k not in tuning.ranges
    }
    if job.spot:
        body["CheckpointConfig"] = {
            "S3Uri": f"s3://{job.spot.checkpoint_bucket.bucket_name}/"
            f"{job.spot.checkpoint_prefix}{job.name}-tuning/"
        }
    request: dict[str, Any] = {
        "HyperParameterTuningJobName.$": job_name_path,
        "HyperParameterTuningJobConfig": {
            "Strategy": tuning.strategy,
            "HyperParameterTuningJobObjective": {
                "Type": tuning.objective_type,
                "MetricName": tuning.objective_metric,
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": tuning.max_jobs,
                "MaxParallelTrainingJobs": tuning.max_parallel_jobs,
            },
            "ParameterRanges": _parameter_ranges(tuning.ranges),
        },
        "TrainingJobDefinition": body,
    }
    if job.tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(job.tags.items())]
    return request


def _job_body(job: TrainingJob, *, role_arn: str, key_arn: str) -> dict[str, Any]:
    algorithm: dict[str, Any] = {"TrainingImage": job.image_uri, "TrainingInputMode": "File"}
    if job.metric_definitions:
        algorithm["MetricDefinitions"] = list(job.metric_definitions)
    body: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "RoleArn": role_arn,
        "InputDataConfig": [_channel(i) for i in job.inputs],
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{job.output_bucket.bucket_name}/{job.output_prefix}",
            "KmsKeyId": key_arn,
        },
        "ResourceConfig": {
            "InstanceType": job.instance_type,
            "InstanceCount": job.instance_count,
            "VolumeSizeInGB": job.volume_size_gb,
            "VolumeKmsKeyId": key_arn,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": int(job.max_runtime.to_seconds())},
        "EnableNetworkIsolation": job.network_isolation,
        "EnableInterContainerTrafficEncryption": job.instance_count > 1,
    }
    if job.environment:
        body["Environment"] = dict(sorted(job.environment.items()))
    if job.spot:
        body["EnableManagedSpotTraining"] = True
        body["StoppingCondition"]["MaxWaitTimeInSeconds"] = int(job.spot.max_wait.to_seconds())
    if job.vpc_subnets:
        body["VpcConfig"] = {
            "Subnets": [s.subnet_id for s in job.vpc_subnets],
            "SecurityGroupIds": [g.security_group_id for g in job.security_groups],
        }
    return body


def _channel(training_input: TrainingInput) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "ChannelName": training_input.name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri.$": channel_path(training_input.name),
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": training_input.input_mode,
    }
    if training_input.content_type:
        channel["ContentType"] = training_input.content_type
    return channel


def _parameter_ranges(ranges: Mapping[str, ParameterRange]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for name, spec in sorted(ranges.items()):
        if spec.kind == "Categorical":
            grouped.setdefault("CategoricalParameterRanges", []).append(
                {"Name": name, "Values": list(spec.values)}
            )
            continue
        grouped.setdefault(f"{spec.kind}ParameterRanges", []).append(
            {
                "Name": name,
                "MinValue": _number(spec.min_value),
                "MaxValue": _number(spec.max_value),
                "ScalingType": spec.scaling,
            }
        )
    return grouped


def _number(value: float | None) -> str:
    if value is None:
        raise ValueError("a numeric tuning range needs min_value and max_value")
    return str(int(value)) if float(value).is_integer() else repr(float(value))

"""What a SageMaker Autopilot (AutoML) job runs, and the CreateAutoMLJobV2 request built from it.

Autopilot explores preprocessing, algorithms and hyperparameters itself and keeps the best
candidate, an inference pipeline of two or three containers. Like `training_job`, the request is
a plain dict in the SageMaker API's own shape with Step Functions paths (`"Key.$": "$.path"`)
where a value is chosen per execution, so the training pipeline puts it in its state machine
verbatim and a test can check it against botocore's SageMaker model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from constructs_lib.training_job import NAME_PATTERN, TrainingInput, channel_path

ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]
AutoMLMode = Literal["AUTO", "ENSEMBLING", "HYPERPARAMETER_TUNING"]

#: The objective metrics Autopilot accepts for each tabular problem type, the default first
#: (SageMaker API reference, AutoMLJobObjective). LogLoss and the other metrics Autopilot
#: reports are not objectives.
OBJECTIVE_METRICS: Mapping[str, tuple[str, ...]] = {
    "BinaryClassification": ("F1", "Accuracy", "AUC", "BalancedAccuracy", "Precision", "Recall"),
    "MulticlassClassification": (
        "Accuracy",
        "BalancedAccuracy",
        "F1macro",
        "PrecisionMacro",
        "RecallMacro",
    ),
    "Regression": ("MSE", "MAE", "R2", "RMSE"),
}

#: The content types Autopilot reads tabular data in.
CSV = "text/csv;header=present"
PARQUET = "x-application/vnd.amazon+parquet"

#: Channel names, as in training definitions, and the AutoML channel type each one becomes.
CHANNEL_TYPES: Mapping[str, str] = {"train": "training", "validation": "validation"}


def objective_problem(problem_type: str, objective_metric: str) -> str | None:
    """Why `objective_metric` cannot be the objective of `problem_type`, or None if it can."""
    allowed = OBJECTIVE_METRICS.get(problem_type)
    if allowed is None:
        return (
            f"unknown problem type {problem_type!r}; Autopilot solves "
            f"{', '.join(OBJECTIVE_METRICS)}"
        )
    if objective_metric in allowed:
        return None
    fits = [
        problem for problem, metrics in OBJECTIVE_METRICS.items() if objective_metric in metrics
    ]
    hint = f" ({objective_metric} is for {' and '.join(fits)})" if fits else ""
    return (
        f"{objective_metric} is not an objective for {problem_type}{hint}; "
        f"choose one of {', '.join(allowed)} (default {allowed[0]})"
    )


@dataclass(frozen=True, kw_only=True)
class AutoMLJob:
    """An Autopilot job on tabular data: it trains candidates and keeps the best one.

    Attributes:
        name: short name, `[a-z][a-z0-9-]{0,22}`: prefix of every job and model.
        inputs: the data: a `train` channel, and optionally a `validation` channel.
            Their content type is `CSV` (with a header row) or `PARQUET`. Default type: CSV.
        target_column: the column to predict.
        problem_type: `BinaryClassification`, `MulticlassClassification` or `Regression`.
        output_bucket: where candidates, reports and model artifacts go.
        output_prefix: key prefix of the output, ending in `/`.
        objective_metric: what the best candidate maximises or minimises (see
            `OBJECTIVE_METRICS`). Default: F1, Accuracy or MSE by problem type.
        mode: `ENSEMBLING`, `HYPERPARAMETER_TUNING`, or `AUTO` (Autopilot picks by data size).
            Default: AUTO.
        max_candidates: candidates tried at most. Default: Autopilot's (250).
        max_runtime_per_candidate: each candidate's training job is stopped after this.
            Default: Autopilot's.
        max_job_runtime: the whole job is stopped after this. Default: Autopilot's (30 days).
        validation_fraction: share of `train` held out for validation, when there is no
            `validation` channel. Default: Autopilot's (0.2).
        vpc_subnets: run the jobs in these subnets with `security_groups`. Default: no VPC.
        security_groups: security groups for the VPC placement.
        tags: added to the job. Default: none.
    """

    name: str
    inputs: Sequence[TrainingInput]
    target_column: str
    problem_type: ProblemType
    output_bucket: s3.IBucket
    output_prefix: str
    objective_metric: str | None = None
    mode: AutoMLMode = "AUTO"
    max_candidates: int | None = None
    max_runtime_per_candidate: Duration | None = None
    max_job_runtime: Duration | None = None
    validation_fraction: float | None = None
    vpc_subnets: Sequence[ec2.ISubnet] = ()
    security_groups: Sequence[ec2.ISecurityGroup] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [*self._input_problems(), *self._goal_problems()]
        if not NAME_PATTERN.fullmatch(self.name):
            problems.insert(0, f"name {self.name!r} must match {NAME_PATTERN.pattern}")
        if bool(self.vpc_subnets) != bool(self.security_groups):
            problems.append("vpc_subnets and security_groups go together")
        if problems:
            raise ValueError(f"AutoMLJob {self.name!r}: " + "; ".join(problems))

    def _input_problems(self) -> list[str]:
        problems = []
        names = [i.name for i in self.inputs]
        if "train" not in names or len(set(names)) != len(names) or set(names) - {*CHANNEL_TYPES}:
            problems.append(
                f"inputs must be one 'train' channel and at most one 'validation' (got {names})"
            )
        for training_input in self.inputs:
            if training_input.content_type not in (None, CSV, PARQUET):
                problems.append(
                    f"input {training_input.name!r}: content_type must be {CSV!r} or "
                    f"{PARQUET!r} (got {training_input.content_type!r})"
                )
        if self.validation_fraction is not None:
            if not 0 < self.validation_fraction < 1:
                problems.append(
                    f"validation_fraction must be between 0 and 1 (got {self.validation_fraction})"
                )
            if "validation" in names:
                problems.append("validation_fraction and a 'validation' input exclude each other")
        return problems

    def _goal_problems(self) -> list[str]:
        problems = []
        if not self.target_column:
            problems.append("target_column must name a column")
        if self.objective_metric is not None:
            problem = objective_problem(self.problem_type, self.objective_metric)
            if problem:
                problems.append(f"objective_metric: {problem}")
        if self.max_candidates is not None and not 1 <= self.max_candidates <= 750:
            problems.append(f"max_candidates must be 1 to 750 (got {self.max_candidates})")
        per_candidate, whole = self.max_runtime_per_candidate, self.max_job_runtime
        if per_candidate and whole and per_candidate.to_seconds() > whole.to_seconds():
            problems.append(
                f"max_runtime_per_candidate ({per_candidate.to_seconds():g} s) must not exceed "
                f"max_job_runtime ({whole.to_seconds():g} s)"
            )
        return problems


def automl_job_request(
    job: AutoMLJob, *, role_arn: str, key_arn: str, job_name_path: str
) -> dict[str, Any]:
    """The CreateAutoMLJobV2 request, with the job name and data URIs taken from the state.

    The job deploys nothing (`ModelDeployConfig` is left out): the pipeline creates a model
    from the best candidate, and the endpoint construct serves it.
    """
    tabular: dict[str, Any] = {
        "ProblemType": job.problem_type,
        "TargetAttributeName": job.target_column,
        "Mode": job.mode,
    }
    criteria = _completion_criteria(job)
    if criteria:
        tabular["CompletionCriteria"] = criteria
    request: dict[str, Any] = {
        "AutoMLJobName.$": job_name_path,
        "AutoMLJobInputDataConfig": [_channel(i) for i in job.inputs],
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{job.output_bucket.bucket_name}/{job.output_prefix}",
            "KmsKeyId": key_arn,
        },
        "AutoMLProblemTypeConfig": {"TabularJobConfig": tabular},
        "RoleArn": role_arn,
        "AutoMLJobObjective": {
            "MetricName": job.objective_metric or OBJECTIVE_METRICS[job.problem_type][0]
        },
        "SecurityConfig": _security(job, key_arn),
    }
    if job.validation_fraction is not None:
        request["DataSplitConfig"] = {"ValidationFraction": job.validation_fraction}
    if job.tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(job.tags.items())]
    return request


def _completion_criteria(job: AutoMLJob) -> dict[str, int]:
    criteria = {}
    if job.max_candidates is not None:
        criteria["MaxCandidates"] = job.max_candidates
    if job.max_runtime_per_candidate is not None:
        criteria["MaxRuntimePerTrainingJobInSeconds"] = int(
            job.max_runtime_per_candidate.to_seconds()
        )
    if job.max_job_runtime is not None:
        criteria["MaxAutoMLJobRuntimeInSeconds"] = int(job.max_job_runtime.to_seconds())
    return criteria


def _security(job: AutoMLJob, key_arn: str) -> dict[str, Any]:
    security: dict[str, Any] = {
        "VolumeKmsKeyId": key_arn,
        "EnableInterContainerTrafficEncryption": True,
    }
    if job.vpc_subnets:
        security["VpcConfig"] = {
            "Subnets": [s.subnet_id for s in job.vpc_subnets],
            "SecurityGroupIds": [g.security_group_id for g in job.security_groups],
        }
    return security


def _channel(training_input: TrainingInput) -> dict[str, Any]:
    return {
        "ChannelType": CHANNEL_TYPES[training_input.name],
        "ContentType": training_input.content_type or CSV,
        "CompressionType": "None",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri.$": channel_path(training_input.name),
            }
        },
    }

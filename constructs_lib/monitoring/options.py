"""What to monitor on an endpoint: data quality, model quality, bias drift, attribution drift.

Each option is a frozen value that checks its own fields when it is made. S3 locations are keys
(or key prefixes ending in `/`) in the bucket the endpoint captures its traffic to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Duration, Token

from constructs_lib.instance_types import validate_instance_type
from constructs_lib.monitoring.schedule import MonitoringSchedule

ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]

MODEL_QUALITY_METRICS: dict[str, tuple[str, ...]] = {
    "BinaryClassification": (
        "accuracy",
        "auc",
        "f0_5",
        "f1",
        "f2",
        "false_negative_rate",
        "false_positive_rate",
        "precision",
        "recall",
        "true_negative_rate",
        "true_positive_rate",
    ),
    "MulticlassClassification": (
        "accuracy",
        "weighted_f0_5",
        "weighted_f1",
        "weighted_f2",
        "weighted_precision",
        "weighted_recall",
    ),
    "Regression": ("mae", "mse", "r2", "rmse"),
}
"""The model-quality metrics SageMaker publishes per problem type that an alarm may watch."""

LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "false_negative_rate", "false_positive_rate"})
"""Metrics whose alarm fires above the threshold; every other one fires below it."""

_ONE_HOUR = Duration.hours(1)


@dataclass(frozen=True, kw_only=True)
class MonitoringResources:
    """The processing cluster each monitoring run gets.

    Attributes:
        instance_type: a SageMaker processing instance type. Default: ml.m5.xlarge (the SDK's).
        instance_count: instances per run. Default: 1.
        volume_size_gb: storage per instance, encrypted with the key. Default: 20.
        max_runtime: the longest a run may take, at most 1 hour so that a run ends before the
            next hourly one starts. Default: 1 hour.
    """

    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int = 20
    max_runtime: Duration = _ONE_HOUR

    def __post_init__(self) -> None:
        if not self.instance_type.startswith("ml."):
            raise ValueError(
                "MonitoringResources.instance_type must be a SageMaker instance type such as "
                f"ml.m5.xlarge (got {self.instance_type!r})"
            )
        problem = (
            None
            if Token.is_unresolved(self.instance_type)
            else (validate_instance_type(self.instance_type, "processing"))
        )
        if problem:
            raise ValueError(f"MonitoringResources.instance_type: {problem}")
        _between("MonitoringResources.instance_count", self.instance_count, 1, 100)
        _between("MonitoringResources.volume_size_gb", self.volume_size_gb, 1, 16384)
        if not self.max_runtime.is_unresolved():
            seconds = self.max_runtime.to_seconds(integral=False)
            if not 1 <= seconds <= 3600:
                raise ValueError(
                    f"MonitoringResources.max_runtime must be 1 to 3600 seconds (got {seconds:g})"
                )


def alarm_metric_problem(problem_type: str, metric: str, *, name: str) -> str | None:
    """Why Model Monitor publishes no model-quality `metric` for `problem_type`, or None; the
    message calls the setting `name` (the caller's word for it)."""
    allowed = MODEL_QUALITY_METRICS.get(problem_type, ())
    if metric in allowed:
        return None
    return f"{name} must be one of {', '.join(allowed)} for {problem_type} (got {metric!r})"


@dataclass(frozen=True, kw_only=True)
class DataQualityMonitor:
    """Compare the captured requests with a baseline: statistics and constraints per feature.

    Answers: is the traffic the model sees still like the data it was trained on?

    Attributes:
        baseline_statistics: key of the baseline `statistics.json` (from a suggest-baseline
            job). Default: none (no distribution drift check).
        baseline_constraints: key of the baseline `constraints.json`. Default: none (the run
            reports statistics but checks no constraints).
        schedule: when it runs. Default: hourly.
        drift_alarm_features: features whose `feature_baseline_drift_<name>` metric gets an
            alarm. Per-feature names are only known from the data, so they are named here.
            Default: none.
        drift_threshold: the drift distance at or above which a feature alarm fires.
            Default: 0.1.
    """

    baseline_statistics: str | None = None
    baseline_constraints: str | None = None
    schedule: MonitoringSchedule = field(default_factory=MonitoringSchedule.hourly)
    drift_alarm_features: Sequence[str] = ()
    drift_threshold: float = 0.1

    def __post_init__(self) -> None:
        _key("DataQualityMonitor.baseline_statistics", self.baseline_statistics)
        _key("DataQualityMonitor.baseline_constraints", self.baseline_constraints)
        if not 0 < self.drift_threshold <= 1:
            raise ValueError(
                f"DataQualityMonitor.drift_threshold must be above 0 and at most 1 "
                f"(got {self.drift_threshold})"
            )


@dataclass(frozen=True, kw_only=True)
class ModelQualityMonitor:
    """Compare the endpoint's predictions with ground truth labels the team uploads.

    Answers: is the model still as accurate as when it was approved?

    Attributes:
        problem_type: `BinaryClassification`, `MulticlassClassification` or `Regression`.
        ground_truth_prefix: key prefix (ending `/`) where the team writes ground truth in the
            format SageMaker merges with captured data.
        inference_attribute: where the predicted label is in the response (index or JSONPath).
            Default: none (derived from `probability_attribute` and the threshold).
        probability_attribute: where the probability is in the response. Default: none.
        probability_threshold: the probability at or above which a binary prediction is
            positive. Default: none (SageMaker's 0.5).
        baseline_constraints: key of the baseline `constraints.json`. Default: none.
        schedule: when it runs. Default: hourly.
        alarm_metric: a metric of `MODEL_QUALITY_METRICS[problem_type]` to alarm on.
            Default: none.
        alarm_threshold: the value past which `alarm_metric` alarms (above for error metrics
            such as rmse, below for scores such as auc). Required with `alarm_metric`.
    """

    problem_type: ProblemType
    ground_truth_prefix: str
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    baseline_constraints: str | None = None
    schedule: MonitoringSchedule = field(default_factory=MonitoringSchedule.hourly)
    alarm_metric: str | None = None
    alarm_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.problem_type not in MODEL_QUALITY_METRICS:
            raise ValueError(
                "ModelQualityMonitor.problem_type must be BinaryClassification, "
                f"MulticlassClassification or Regression (got {self.problem_type!r})"
            )
        _prefix("ModelQualityMonitor.ground_truth_prefix", self.ground_truth_prefix)
        _key("ModelQualityMonitor.baseline_constraints", self.baseline_constraints)
        if self.problem_type != "Regression" and not (
            self.inference_attribute or self.probability_attribute
        ):
            raise ValueError(
                "ModelQualityMonitor needs inference_attribute or probability_attribute for "
                "a classification problem: where the prediction is in the response"
            )
        if self.alarm_metric is not None:
            problem = alarm_metric_problem(
                self.problem_type, self.alarm_metric, name="ModelQualityMonitor.alarm_metric"
            )
            if problem:
                raise ValueError(problem)
            if self.alarm_threshold is None:
                raise ValueError(
                    "ModelQualityMonitor.alarm_threshold is required with alarm_metric"
                )
        elif self.alarm_threshold is not None:
            raise ValueError("ModelQualityMonitor.alarm_threshold needs alarm_metric")


@dataclass(frozen=True, kw_only=True)
class BiasMonitor:
    """Clarify bias drift: post-training bias metrics of one facet against ground truth.

    Answers: does the model treat the group `facet` names differently from the others, and
    more so than at baseline? The analysis config is generated from these fields by the
    SageMaker SDK's `BiasConfig` and published as a file asset.

    Attributes:
        label: the ground-truth label column (header name or index).
        label_values: the label values (or one threshold) that mean a positive outcome.
        facet: the sensitive feature (header name or index), e.g. `age`.
        facet_values: the facet values (or one threshold) of the group checked. Default: every
            value, one at a time.
        ground_truth_prefix: key prefix (ending `/`) of the ground truth labels.
        headers: the column names of the captured data, label excluded. Default: none
            (columns by index).
        probability_attribute: where the probability is in the response. Default: none.
        probability_threshold: the probability at or above which a prediction is positive.
            Default: none (SageMaker's 0.5).
        inference_attribute: where the predicted label is in the response. Default: none.
        baseline_constraints: key of the baseline `analysis.json` constraints. Default: none.
        schedule: when it runs. Default: hourly.
    """

    label: str
    label_values: Sequence[int | float | str]
    facet: str
    ground_truth_prefix: str
    facet_values: Sequence[int | float | str] | None = None
    headers: Sequence[str] | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    inference_attribute: str | None = None
    baseline_constraints: str | None = None
    schedule: MonitoringSchedule = field(default_factory=MonitoringSchedule.hourly)

    def __post_init__(self) -> None:
        if not self.label_values:
            raise ValueError("BiasMonitor.label_values must name at least one positive value")
        _prefix("BiasMonitor.ground_truth_prefix", self.ground_truth_prefix)
        _key("BiasMonitor.baseline_constraints", self.baseline_constraints)
        if self.headers is not None and self.facet not in self.headers:
            raise ValueError(
                f"BiasMonitor.facet {self.facet!r} is not one of the headers "
                f"({', '.join(self.headers)})"
            )


@dataclass(frozen=True, kw_only=True)
class ExplainabilityMonitor:
    """Clarify feature attribution drift: SHAP values of live traffic against a SHAP baseline.

    Answers: which features drive the model's decisions, and has that changed?

    The analysis config names the model (or endpoint) Clarify asks for predictions, which is
    only known after deploy, so the team uploads it (see docs/monitoring.md) with the SHAP
    baseline rows in it.

    Attributes:
        analysis_config: key of the Clarify analysis config JSON (`methods.shap.baseline`
            and `predictor`).
        baseline_constraints: key of the baseline `analysis.json` constraints. Default: none.
        features_attribute: where the features are in a JSON request. Default: none (CSV).
        inference_attribute: where the predicted label is in the response. Default: none.
        probability_attribute: where the score is in the response. Default: none.
        schedule: when it runs. Default: daily (SHAP is costly).
    """

    analysis_config: str
    baseline_constraints: str | None = None
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    schedule: MonitoringSchedule = field(default_factory=MonitoringSchedule.daily)

    def __post_init__(self) -> None:
        _key("ExplainabilityMonitor.analysis_config", self.analysis_config)
        _key("ExplainabilityMonitor.baseline_constraints", self.baseline_constraints)


def _key(name: str, value: str | None) -> None:
    if value is not None and (not value or value.startswith("/") or value.endswith("/")):
        raise ValueError(f"{name} must be an object key like 'monitoring/x.json' (got {value!r})")


def _prefix(name: str, value: str) -> None:
    if not value.endswith("/") or value.startswith("/") or value == "/":
        raise ValueError(f"{name} must be a key prefix ending in '/' (got {value!r})")


def _between(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low} to {high} (got {value})")

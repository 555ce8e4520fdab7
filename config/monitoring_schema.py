"""The `monitoring:` section of an endpoint: Model Monitor and Clarify schedules.

Each section turns into the monitoring construct's own option (`monitor()`), so the stack and
the config checks share one set of rules. S3 locations are keys (or prefixes ending in '/') in
the stage's artifacts bucket, where the endpoint captures its traffic.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_cdk import Duration
from pydantic import Field, StringConstraints, model_validator

# config.schema imports this module just before EndpointConfig, so only the names defined above
# that point are imported by name; field_error (defined at the end) is used at run time.
from config import schema
from config.schema import Strict
from constructs_lib.instance_types import validate_instance_type
from constructs_lib.monitoring import (
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
    MonitoringSchedule,
    schedule_expression_problem,
)
from constructs_lib.monitoring.options import alarm_metric_problem

ArtifactKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*[A-Za-z0-9!_.*'()-]$"),
    Field(description="an object key in the artifacts bucket, e.g. monitoring/x/constraints.json"),
]
ArtifactPrefix = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*/$"),
    Field(description="a key prefix in the artifacts bucket, ending in '/'"),
]
MonitorSchedule = Annotated[
    str,
    Field(description="hourly, daily, or cron(0 H ? * * *) / cron(0 H/N ? * * *)"),
]
LabelValue = int | float | str


class _Scheduled(Strict):
    schedule: MonitorSchedule = "hourly"
    """hourly, daily (midnight UTC), cron(0 H ? * * *) or cron(0 H/N ? * * *)."""

    @model_validator(mode="after")
    def _accepted_schedule(self) -> _Scheduled:
        if self.schedule in ("hourly", "daily"):
            return self
        problem = schedule_expression_problem(self.schedule)
        if problem:
            raise schema.field_error("schedule", problem)
        return self

    def _schedule(self) -> MonitoringSchedule:
        return MonitoringSchedule.from_config(self.schedule)


class DriftAlarmsConfig(Strict):
    """Alarms on the per-feature baseline drift Model Monitor publishes."""

    features: list[str] = Field(min_length=1)
    """The features to watch (their names in the baseline statistics)."""
    threshold: float = Field(default=0.1, gt=0, le=1)
    """The drift distance at or above which a feature's alarm fires."""


class DataQualityConfig(_Scheduled):
    """Drift of the captured requests from the training data's baseline."""

    baseline_statistics: ArtifactKey | None = None
    baseline_constraints: ArtifactKey | None = None
    drift_alarms: DriftAlarmsConfig | None = None

    def monitor(self) -> DataQualityMonitor:
        """The construct option."""
        return DataQualityMonitor(
            baseline_statistics=self.baseline_statistics,
            baseline_constraints=self.baseline_constraints,
            schedule=self._schedule(),
            drift_alarm_features=tuple(self.drift_alarms.features) if self.drift_alarms else (),
            drift_threshold=self.drift_alarms.threshold if self.drift_alarms else 0.1,
        )


class QualityAlarmConfig(Strict):
    """An alarm on one model-quality metric."""

    metric: str
    """e.g. auc, f1, accuracy (classification) or rmse, mae (regression)."""
    threshold: float
    """Scores alarm below it, errors (rmse, mae, mse, false_*_rate) at or above it."""


class ModelQualityConfig(_Scheduled):
    """The endpoint's predictions scored against ground truth the team uploads."""

    problem_type: Literal["BinaryClassification", "MulticlassClassification", "Regression"]
    ground_truth_prefix: ArtifactPrefix
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = Field(default=None, ge=0, le=1)
    baseline_constraints: ArtifactKey | None = None
    alarm: QualityAlarmConfig | None = None

    @model_validator(mode="after")
    def _published_metric(self) -> ModelQualityConfig:
        if self.alarm is not None:
            problem = alarm_metric_problem(self.problem_type, self.alarm.metric, name="metric")
            if problem:
                raise schema.field_error("alarm.metric", problem)
        return self

    def monitor(self) -> ModelQualityMonitor:
        """The construct option."""
        return ModelQualityMonitor(
            problem_type=self.problem_type,
            ground_truth_prefix=self.ground_truth_prefix,
            inference_attribute=self.inference_attribute,
            probability_attribute=self.probability_attribute,
            probability_threshold=self.probability_threshold,
            baseline_constraints=self.baseline_constraints,
            schedule=self._schedule(),
            alarm_metric=self.alarm.metric if self.alarm else None,
            alarm_threshold=self.alarm.threshold if self.alarm else None,
        )


class BiasConfig(_Scheduled):
    """Clarify bias drift of one facet (a sensitive feature) against ground truth."""

    label: str
    """The ground-truth label column."""
    label_values: list[LabelValue] = Field(min_length=1)
    """The label values (or one threshold) that mean the positive outcome."""
    facet: str
    """The sensitive feature, e.g. age."""
    facet_values: list[LabelValue] | None = None
    """The facet values (or one threshold) of the group checked. Default: each value."""
    headers: list[str] | None = None
    """Column names of the captured requests. Default: columns by index."""
    ground_truth_prefix: ArtifactPrefix
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = Field(default=None, ge=0, le=1)
    baseline_constraints: ArtifactKey | None = None

    def monitor(self) -> BiasMonitor:
        """The construct option."""
        return BiasMonitor(
            label=self.label,
            label_values=tuple(self.label_values),
            facet=self.facet,
            facet_values=tuple(self.facet_values) if self.facet_values is not None else None,
            headers=tuple(self.headers) if self.headers is not None else None,
            ground_truth_prefix=self.ground_truth_prefix,
            inference_attribute=self.inference_attribute,
            probability_attribute=self.probability_attribute,
            probability_threshold=self.probability_threshold,
            baseline_constraints=self.baseline_constraints,
            schedule=self._schedule(),
        )


class ExplainabilityConfig(_Scheduled):
    """Clarify SHAP attribution drift against the SHAP baseline in the analysis config."""

    schedule: MonitorSchedule = "daily"
    """daily by default: SHAP asks the endpoint for many predictions per record."""
    analysis_config: ArtifactKey
    """The Clarify analysis config the team uploads (SHAP baseline, predictor)."""
    baseline_constraints: ArtifactKey | None = None
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None

    def monitor(self) -> ExplainabilityMonitor:
        """The construct option."""
        return ExplainabilityMonitor(
            analysis_config=self.analysis_config,
            baseline_constraints=self.baseline_constraints,
            features_attribute=self.features_attribute,
            inference_attribute=self.inference_attribute,
            probability_attribute=self.probability_attribute,
            schedule=self._schedule(),
        )


class MonitoringConfig(Strict):
    """Monitoring schedules on the endpoint's captured traffic (needs data_capture_percent)."""

    instance_type: str = "ml.m5.xlarge"
    """The processing instance each run uses."""
    volume_size_gb: int = Field(default=20, ge=1, le=16384)
    max_runtime_minutes: int = Field(default=60, ge=1, le=60)
    """A run stops after this; at most 60 so it ends before the next hourly run."""
    data_quality: DataQualityConfig | None = None
    model_quality: ModelQualityConfig | None = None
    bias: BiasConfig | None = None
    explainability: ExplainabilityConfig | None = None

    @model_validator(mode="after")
    def _something_to_monitor(self) -> MonitoringConfig:
        problem = validate_instance_type(self.instance_type, "processing")
        if problem:
            raise schema.field_error("instance_type", problem)
        if not (self.data_quality or self.model_quality or self.bias or self.explainability):
            raise schema.field_error(
                "data_quality",
                "monitoring needs at least one of data_quality, model_quality, bias or "
                "explainability",
            )
        return self

    def resources(self) -> MonitoringResources:
        """The construct option."""
        return MonitoringResources(
            instance_type=self.instance_type,
            volume_size_gb=self.volume_size_gb,
            max_runtime=Duration.minutes(self.max_runtime_minutes),
        )

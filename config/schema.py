"""The schema of an environment file (`config/<env>.yaml`).

Every field a human may write is declared here with its type, its allowed values and its default;
anything else in a file is an error. The models are frozen: the stacks receive them as read-only,
typed values and never see raw YAML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from config.autopilot_schema import AUTOPILOT_CHANNELS, NOT_FOR_AUTOPILOT, AutopilotConfig
from constructs_lib.schedules import eventbridge_schedule_problem
from constructs_lib.serving.options import (
    TrafficShiftingType,
    traffic_shifting_percent_problem,
)


def rule(problem: Callable[[str], str | None]) -> AfterValidator:
    """A validator from a shared rule function: `problem(value)` says why a value is refused
    (in the words the constructs use too), or None."""

    def check(value: str) -> str:
        message = problem(value)
        if message:
            raise PydanticCustomError("config_rule", message)
        return value

    return AfterValidator(check)


def _reserved_tag_key_problem(key: str) -> str | None:
    if key.lower().startswith("aws:"):
        return "is reserved: tag keys starting with 'aws:' belong to AWS; choose another prefix"
    return None


AccountId = Annotated[
    str,
    StringConstraints(pattern=r"^\d{12}$"),
    Field(description="a 12-digit AWS account id, quoted so YAML keeps it a string"),
]
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$"),
    Field(description="an AWS region code such as us-east-1"),
]
TagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\w .:/=+@-]+$"),
    Field(description="letters, digits, spaces and _ . : / = + @ - only"),
    rule(_reserved_tag_key_problem),
]
TagValue = Annotated[
    str,
    StringConstraints(max_length=256, pattern=r"^[\w .:/=+@-]*$"),
    Field(description="letters, digits, spaces and _ . : / = + @ - only"),
]


#: Text that is a number as YAML users write it: "5", "0.5", "1e-3", "-2".
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are not coerced (but a quoted
    number is a number where a number is expected), models frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _quoted_numbers(cls, data: Any) -> Any:
        """`"5"` where the setting is numeric reads as 5: YAML users quote numbers too."""
        if not isinstance(data, dict):
            return data
        converted = dict(data)
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(name, str) else None
            if field is None or not isinstance(value, str) or not _NUMBER.match(value.strip()):
                continue
            kinds = _member_types(field.annotation)
            if str in kinds or bool in kinds:
                continue
            text = value.strip()
            if int in kinds and re.fullmatch(r"[-+]?\d+", text):
                converted[name] = int(text)
            elif float in kinds:
                converted[name] = float(text)
        return converted


def _member_types(annotation: Any) -> set[Any]:
    """The plain types an annotation accepts: {int, NoneType} for `int | None`."""
    if get_origin(annotation) is Annotated:
        return _member_types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return set().union(*(_member_types(argument) for argument in get_args(annotation)))
    return {annotation}


class StorageConfig(Strict):
    """Lifecycle of the data, artifacts and access-log buckets."""

    noncurrent_version_expiration_days: int = Field(default=90, ge=1, le=3650)
    """Days a replaced or deleted object version is kept before it expires."""
    incomplete_multipart_upload_days: int = Field(default=7, ge=1, le=365)
    """Days after which an unfinished multipart upload is aborted."""
    access_log_expiration_days: int = Field(default=365, ge=1, le=3650)
    """Days server access logs are kept."""


TrainingName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,21}[a-z0-9])?$"),
    Field(
        description="lower-case letters, digits and '-', starting with a letter and ending with "
        "a letter or digit, at most 23 characters: it prefixes job, model and model package "
        "group names"
    ),
]
ChannelName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$"),
    Field(description="1 to 64 letters, digits, '.', '_' or '-'"),
]
S3Prefix = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()/-]+/$"),
    Field(description="a key prefix relative to the data bucket's datasets/ folder, ending in '/'"),
]
ScheduleExpression = Annotated[
    str,
    Field(description="an EventBridge schedule: rate(N minutes|hours|days) or cron(...)"),
    rule(eventbridge_schedule_problem),
]
HyperparameterValue = int | float | bool | str | list[int | float | str]


class ChannelConfig(Strict):
    """One input channel of a training definition."""

    prefix: S3Prefix
    """Where the data is, under `s3://<data bucket>/datasets/`."""
    content_type: str | None = None
    """MIME type the algorithm reads, e.g. text/csv. Default: the algorithm's default."""


class SpotConfig(Strict):
    """Managed spot training: up to 90% cheaper, interruptible, resumed from checkpoints."""

    max_wait_minutes: int = Field(ge=1, le=28 * 24 * 60)
    """Waiting for capacity plus running, in all; at least max_runtime_minutes."""


class TuningRangeConfig(Strict):
    """The values a tuning job tries for one hyperparameter: min/max, or values."""

    min: int | float | None = None
    max: int | float | None = None
    values: list[str] | None = None
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _one_kind(self) -> TuningRangeConfig:
        numeric = self.min is not None or self.max is not None
        if numeric == (self.values is not None):
            raise field_error("min", "give either min and max, or values")
        if numeric and (self.min is None or self.max is None):
            raise field_error("max" if self.max is None else "min", "give both min and max")
        if numeric and self.min is not None and self.max is not None and self.min >= self.max:
            raise field_error("max", f"must be greater than min ({self.min})")
        return self


class TuningConfig(Strict):
    """Automatic model tuning: the pipeline runs a tuning job and keeps the best model."""

    objective_metric: str
    objective_type: Literal["Maximize", "Minimize"]
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"
    max_jobs: int = Field(ge=1, le=500)
    max_parallel_jobs: int = Field(ge=1, le=100)
    ranges: dict[str, TuningRangeConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _parallel_within_total(self) -> TuningConfig:
        if self.max_parallel_jobs > self.max_jobs:
            raise field_error("max_parallel_jobs", f"must not exceed max_jobs ({self.max_jobs})")
        return self


class TrainingConfig(Strict):
    """One training pipeline: a built-in `algorithm`, a custom `framework` model, or an
    `autopilot` (AutoML) job."""

    algorithm: str | None = None
    """A built-in algorithm, e.g. xgboost (see docs/builtin-algorithms.md)."""
    framework: Literal["pytorch", "tensorflow"] | None = None
    """A custom model from training_code/<framework>."""
    autopilot: AutopilotConfig | None = None
    """A SageMaker Autopilot job that chooses the model itself (see docs/autopilot.md)."""
    version: str | None = None
    """Algorithm image version or framework version. Default: the newest the SDK knows
    (XGBoost: 1.7-1)."""
    code: Literal["image", "script"] = "image"
    """Custom models: an image built from training_code (image; needs Docker at deploy) or the
    AWS Deep Learning Container with the code uploaded to S3 (script)."""
    instance_type: str | None = None
    """Required for algorithm and framework definitions; Autopilot chooses its own."""
    instance_count: int = Field(default=1, ge=1, le=100)
    volume_size_gb: int = Field(default=30, ge=1, le=16384)
    max_runtime_minutes: int = Field(default=60, ge=1, le=28 * 24 * 60)
    spot: SpotConfig | None = None
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict)
    channels: dict[ChannelName, ChannelConfig] = Field(min_length=1)
    schedule: ScheduleExpression | None = None
    """Start on this EventBridge schedule, e.g. cron(0 3 ? * MON *). Default: on demand."""
    start_on_new_data: bool = False
    """Start when an object lands under the first channel's prefix."""
    tuning: TuningConfig | None = None
    register_model: bool = False
    """Register each trained model in this definition's model package group (the registry),
    pending manual approval."""

    @model_validator(mode="after")
    def _consistent(self) -> TrainingConfig:
        kinds = [self.algorithm, self.framework, self.autopilot]
        if sum(kind is not None for kind in kinds) != 1:
            raise field_error("algorithm", "give exactly one of algorithm, framework or autopilot")
        if self.autopilot is not None:
            return self._autopilot_consistent(self.autopilot)
        if self.instance_type is None:
            raise field_error("instance_type", "required setting is missing")
        if self.code == "script" and self.framework is None:
            raise field_error("code", "script mode is for framework models; remove it")
        if self.spot and self.spot.max_wait_minutes < self.max_runtime_minutes:
            raise field_error(
                "spot.max_wait_minutes",
                f"must be at least max_runtime_minutes ({self.max_runtime_minutes})",
            )
        return self

    def _autopilot_consistent(self, autopilot: AutopilotConfig) -> TrainingConfig:
        for name, reason in NOT_FOR_AUTOPILOT.items():
            if name in self.model_fields_set:
                raise field_error(name, f"does not apply to autopilot ({reason}); remove it")
        unknown = sorted(set(self.channels) - set(AUTOPILOT_CHANNELS))
        if unknown or "train" not in self.channels:
            raise field_error(
                f"channels.{unknown[0]}" if unknown else "channels",
                "an autopilot definition reads a 'train' channel and optionally a "
                "'validation' channel",
            )
        if "validation" in self.channels and autopilot.validation_fraction is not None:
            raise field_error(
                "autopilot.validation_fraction",
                "a validation channel is given; remove validation_fraction or the channel",
            )
        for name, channel in self.channels.items():
            if channel.content_type is not None:
                raise field_error(
                    f"channels.{name}.content_type",
                    "autopilot reads autopilot.content_type (csv or parquet); remove it",
                )
        return self


EndpointName = TrainingName
ModelArtifact = Annotated[
    str,
    StringConstraints(
        pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+|[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*)"
        r"\.tar\.gz$"
    ),
    Field(
        description="s3://bucket/key.tar.gz, or a key in the stage's artifacts bucket "
        "(models/<definition>/<job>/output/model.tar.gz)"
    ),
]
ModelPackageArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]+/\d+$"
    ),
    Field(
        description="a model package version ARN, "
        "arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION"
    ),
]


class EndpointModelConfig(Strict):
    """What an endpoint serves: a built-in algorithm's model, a framework model, or a package."""

    algorithm: str | None = None
    """Built-in algorithm whose inference image serves `artifact`."""
    framework: Literal["pytorch", "tensorflow"] | None = None
    """Framework whose AWS inference image serves `artifact` (script-mode models)."""
    version: str | None = None
    artifact: ModelArtifact | None = None
    """The model.tar.gz a training run wrote (see `make train`)."""
    model_package_arn: ModelPackageArn | None = None
    """An approved version from the model registry."""

    @model_validator(mode="after")
    def _one_source(self) -> EndpointModelConfig:
        if self.model_package_arn is not None:
            if self.algorithm or self.framework or self.artifact:
                raise field_error(
                    "model_package_arn",
                    "a model package brings its own image and artifact; remove algorithm, "
                    "framework and artifact",
                )
            return self
        if (self.algorithm is None) == (self.framework is None):
            raise field_error(
                "algorithm",
                "give exactly one of algorithm or framework (with artifact), or model_package_arn",
            )
        if self.artifact is None:
            raise field_error("artifact", "required with algorithm or framework")
        return self


class AutoscalingConfig(Strict):
    """Target tracking on invocations per instance."""

    min_instances: int = Field(default=1, ge=1)
    max_instances: int = Field(ge=1)
    invocations_per_instance: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> AutoscalingConfig:
        if self.min_instances > self.max_instances:
            raise field_error(
                "min_instances", f"must not exceed max_instances ({self.max_instances})"
            )
        return self


class AlarmsConfig(Strict):
    """CloudWatch alarms to the notification topic (and, with guardrails, rollback triggers)."""

    server_errors: int = Field(default=1, ge=1)
    """5XX responses per minute that count as a breach."""
    model_latency_ms: int = Field(default=1000, ge=1)
    """p90 model latency that counts as a breach."""
    evaluation_periods: int = Field(default=3, ge=1, le=60)


class DeploymentConfig(Strict):
    """Blue/green updates that shift traffic step by step and roll back on the alarms."""

    traffic_shifting: Literal["canary", "linear", "all_at_once"] = "canary"
    percent: int = 10
    """Canary size (1 to 50), or each linear step (10 to 50), in percent of capacity."""
    wait_minutes: int = Field(default=10, ge=0, le=60)

    @model_validator(mode="after")
    def _percent_sagemaker_allows(self) -> DeploymentConfig:
        if self.traffic_shifting == "all_at_once":
            # The default percent does not apply; a written one is a mistake.
            percent = self.percent if "percent" in self.model_fields_set else None
            problem = traffic_shifting_percent_problem("ALL_AT_ONCE", percent, name="all_at_once")
        else:
            kind: TrafficShiftingType = "CANARY" if self.traffic_shifting == "canary" else "LINEAR"
            name = f"a {self.traffic_shifting} percent"
            problem = traffic_shifting_percent_problem(kind, self.percent, name=name)
        if problem:
            raise field_error("percent", problem)
        return self


class ServerlessSettings(Strict):
    """Serverless inference: no instances, pay per request (dev)."""

    memory_size_mb: int = 2048
    max_concurrency: int = 5


# The monitoring section builds on Strict (above) and field_error (at run time).
from config.monitoring_schema import MonitoringConfig  # noqa: E402

ServingStackName = Annotated[
    str,
    StringConstraints(pattern=r"^serving(-[a-z0-9]+)*$"),
    Field(description="'serving', or 'serving-' and a suffix such as serving-2 or serving-fraud"),
]


class EndpointConfig(Strict):
    """A real-time endpoint serving one model."""

    model: EndpointModelConfig
    instance_type: str | None = None
    """Default: ml.m5.large (not with serverless)."""
    instance_count: int | None = Field(default=None, ge=1)
    autoscaling: AutoscalingConfig | None = None
    data_capture_percent: int | None = Field(default=None, ge=1, le=100)
    """Capture this share of requests and responses to the artifacts bucket. Default: off."""
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    deployment: DeploymentConfig | None = None
    serverless: ServerlessSettings | None = None
    monitoring: MonitoringConfig | None = None
    """Model Monitor and Clarify schedules on the captured traffic (docs/monitoring.md)."""
    stack: ServingStackName = "serving"
    """The Serving stack that holds this endpoint: `serving` (stack `Serving`), or another name
    such as `serving-2` (stack `Serving2`) when one stack would pass CloudFormation's 500
    resources. Moving an endpoint to another stack replaces it."""


# The batch section builds on the models above (Strict, S3Prefix, EndpointModelConfig).
from config.batch_schema import BatchTransformConfig, BatchTransformName  # noqa: E402


class StageConfig(Strict):
    """One deployment environment (Dev, Prod): where it goes and how it differs from the others."""

    account: AccountId
    region: Region
    production: bool = False
    """Production keeps its data: termination protection, RETAIN and no auto-delete required."""
    termination_protection: bool = False
    removal_policy: Literal["retain", "destroy"] = "retain"
    """What CloudFormation does with the key and buckets when they leave the template."""
    auto_delete_objects: bool = False
    """Empty buckets on delete (dev only). Adds a Lambda-backed custom resource per bucket."""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Tags applied to every resource of the stage."""
    storage: StorageConfig = Field(default_factory=StorageConfig)
    notification_emails: list[
        Annotated[
            str,
            StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$"),
            Field(description="an email address such as ml-team@example.com"),
        ]
    ] = Field(default_factory=list)
    """Who is told about failed trainings and alarms."""
    training: dict[TrainingName, TrainingConfig] = Field(default_factory=dict)
    """Training pipelines, by name."""
    endpoints: dict[EndpointName, EndpointConfig] = Field(default_factory=dict)
    """Real-time endpoints, by name. Promoting a model is changing its `model` here."""
    batch_transforms: dict[BatchTransformName, BatchTransformConfig] = Field(default_factory=dict)
    """Batch inference pipelines, by name: a model run over an S3 prefix when started
    (`make batch NAME=...`). See docs/batch-transform.md."""

    @model_validator(mode="after")
    def _production_keeps_data(self) -> StageConfig:
        if not self.production:
            return self
        if not self.termination_protection:
            raise field_error("termination_protection", "a production stage must set it to true")
        if self.removal_policy != "retain":
            raise field_error("removal_policy", "a production stage must use 'retain'")
        if self.auto_delete_objects:
            raise field_error("auto_delete_objects", "a production stage must leave it false")
        return self


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error found by a cross-field rule, reported against `field` (a dotted path)."""
    return PydanticCustomError("config_rule", message, {"field": field})

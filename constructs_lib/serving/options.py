"""The options of a `ModelEndpoint`: scaling, captured traffic, alarms, guardrails, serverless.

Each option is a frozen value that checks its own fields when it is made (a wrong value fails
at synth with a message naming the field and what is allowed); rules that involve the endpoint
(an instance type, another option) are checked by `ModelEndpoint`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Duration, Token
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

SERVERLESS_MEMORY_SIZES_MB: tuple[int, ...] = (1024, 2048, 3072, 4096, 5120, 6144)
"""The memory sizes SageMaker Serverless Inference offers."""

SERVERLESS_MAX_CONCURRENCY = 200
"""The most concurrent invocations one serverless endpoint may be given."""

_FIVE_MINUTES = Duration.minutes(5)
_TEN_MINUTES = Duration.minutes(10)
_ONE_MINUTE = Duration.minutes(1)
_ONE_SECOND = Duration.seconds(1)
_LATENCY_STATISTIC = re.compile(r"^(Average|Maximum|p(\d{1,2}(\.\d+)?))$")


@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """Target-tracking autoscaling of the endpoint's instance count on invocations.

    Application Auto Scaling keeps `SageMakerVariantInvocationsPerInstance` (invocations per
    instance per minute) near `invocations_per_instance`, between `min_instances` and
    `max_instances`. SageMaker does not autoscale burstable instances (ml.t2).

    Attributes:
        max_instances: the most instances the endpoint scales out to.
        min_instances: the fewest instances it scales in to (at least 1). Default: 1.
        invocations_per_instance: the target invocations per instance per minute; load-test
            the model to choose it. Default: 100.
        scale_in_cooldown: wait after a scale-in before the next one. Default: 5 minutes.
        scale_out_cooldown: wait after a scale-out before the next one. Default: 1 minute.
    """

    max_instances: int
    min_instances: int = 1
    invocations_per_instance: int = 100
    scale_in_cooldown: Duration = _FIVE_MINUTES
    scale_out_cooldown: Duration = _ONE_MINUTE

    def __post_init__(self) -> None:
        _at_least("Autoscaling.min_instances", self.min_instances, 1)
        _at_least("Autoscaling.max_instances", self.max_instances, 1)
        _at_least("Autoscaling.invocations_per_instance", self.invocations_per_instance, 1)
        if _concrete(self.min_instances, self.max_instances) and (
            self.min_instances > self.max_instances
        ):
            raise ValueError(
                f"Autoscaling.min_instances ({self.min_instances}) is greater than "
                f"max_instances ({self.max_instances})"
            )


@dataclass(frozen=True, kw_only=True)
class DataCapture:
    """Capture a sample of requests and responses to S3, KMS-encrypted, for model monitoring.

    SageMaker writes JSON Lines files under
    `s3://<bucket>/<prefix><endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/`, encrypted with the
    endpoint's key; the model role may write only under `prefix`.

    Attributes:
        bucket: the bucket that receives captured data (e.g. the artifacts bucket).
        prefix: the key prefix, ending in `/`. Default: `data-capture/`.
        sampling_percentage: the share of requests captured, 1 to 100. Default: 20 (the
            SageMaker SDK's default).
        capture_input: capture request payloads. Default: true.
        capture_output: capture response payloads. Default: true.
        csv_content_types: content types recorded as CSV text rather than base64, e.g.
            `("text/csv",)`. Default: SageMaker's (base64 unless recognised).
        json_content_types: content types recorded as JSON text, e.g. `("application/json",)`.
            Default: SageMaker's.
    """

    bucket: s3.IBucket
    prefix: str = "data-capture/"
    sampling_percentage: int = 20
    capture_input: bool = True
    capture_output: bool = True
    csv_content_types: Sequence[str] = ()
    json_content_types: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.prefix.endswith("/") or self.prefix.startswith("/") or self.prefix == "/":
            raise ValueError(
                "DataCapture.prefix must be a key prefix like 'data-capture/' "
                f"(got {self.prefix!r})"
            )
        _between("DataCapture.sampling_percentage", self.sampling_percentage, 1, 100)
        if not (self.capture_input or self.capture_output):
            raise ValueError(
                "DataCapture captures nothing: set capture_input or capture_output (or both)"
            )

    @property
    def capture_modes(self) -> list[str]:
        """`Input` and / or `Output`, as the endpoint config names them."""
        return [
            mode
            for mode, on in (("Input", self.capture_input), ("Output", self.capture_output))
            if on
        ]


@dataclass(frozen=True, kw_only=True)
class EndpointAlarms:
    """CloudWatch alarms on the endpoint's server errors and model latency, sent to a topic.

    Both alarms watch the `AWS/SageMaker` metrics of the endpoint's variant and fire when every
    one of the last `evaluation_periods` periods breaches; periods without traffic count as
    healthy. They notify `topic` when they fire and when they recover. With
    `DeploymentGuardrails`, the same alarms roll a deployment back.

    Attributes:
        topic: receives the alarm and recovery notifications.
        server_errors: the `Invocation5XXErrors` count per period at or above which the
            errors alarm fires. Default: 1.
        model_latency: the `ModelLatency` (time the model container takes to answer) at or
            above which the latency alarm fires. Default: 1 second.
        latency_statistic: the statistic compared with `model_latency`: `Average`, `Maximum`
            or a percentile such as `p90`. Default: `p90`.
        period: the length of one evaluation period, in whole minutes. Default: 1 minute.
        evaluation_periods: how many consecutive breaching periods fire an alarm. Default: 3.
    """

    topic: sns.ITopic
    server_errors: int = 1
    model_latency: Duration = _ONE_SECOND
    latency_statistic: str = "p90"
    period: Duration = _ONE_MINUTE
    evaluation_periods: int = 3

    def __post_init__(self) -> None:
        _at_least("EndpointAlarms.server_errors", self.server_errors, 1)
        _at_least("EndpointAlarms.evaluation_periods", self.evaluation_periods, 1)
        if not _LATENCY_STATISTIC.match(self.latency_statistic):
            raise ValueError(
                "EndpointAlarms.latency_statistic must be Average, Maximum or a percentile such "
                f"as p90 (got {self.latency_statistic!r})"
            )
        latency = self.model_latency
        if not latency.is_unresolved() and latency.to_milliseconds(integral=False) <= 0:
            raise ValueError("EndpointAlarms.model_latency must be longer than zero")
        period = self.period
        if not period.is_unresolved():
            seconds = period.to_seconds(integral=False)
            if seconds < 60 or seconds % 60:
                raise ValueError(
                    "EndpointAlarms.period must be a whole number of minutes: SageMaker "
                    f"publishes endpoint metrics once a minute (got {seconds:g} s)"
                )


TrafficShiftingType = Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]

#: The share of capacity SageMaker shifts in one step, in percent: (lowest, highest).
TRAFFIC_SHIFTING_PERCENT: dict[TrafficShiftingType, tuple[int, int]] = {
    "CANARY": (1, 50),
    "LINEAR": (10, 50),
}


def traffic_shifting_percent_problem(
    kind: TrafficShiftingType, percent: int | None, *, name: str
) -> str | None:
    """Why SageMaker would refuse `percent` for a `kind` deployment, or None; the message
    calls the setting `name` (the caller's word for it)."""
    if kind not in TRAFFIC_SHIFTING_PERCENT:
        return None if percent is None else f"{name} takes no percent"
    low, high = TRAFFIC_SHIFTING_PERCENT[kind]
    try:
        _between(name, percent, low, high)
    except ValueError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class TrafficShifting:
    """How a blue/green deployment moves traffic to the new fleet. Use a factory method.

    Attributes:
        type: `CANARY`, `LINEAR` or `ALL_AT_ONCE`.
        percent: the canary's or each linear step's share of the fleet's capacity; None for
            all at once.
        wait: the baking time after each step, while the alarms watch the new fleet.
    """

    type: TrafficShiftingType
    percent: int | None
    wait: Duration

    def __post_init__(self) -> None:
        name = {"CANARY": "canary", "LINEAR": "linear", "ALL_AT_ONCE": "all_at_once"}[self.type]
        setting = {"CANARY": "percent", "LINEAR": "step_percent"}.get(self.type, "")
        problem = traffic_shifting_percent_problem(
            self.type, self.percent, name=f"TrafficShifting.{name} {setting}".rstrip()
        )
        if problem:
            raise ValueError(problem)
        _seconds_between(f"TrafficShifting.{name} wait", self.wait, 0, 3600)

    @staticmethod
    def canary(percent: int = 10, wait: Duration = _TEN_MINUTES) -> TrafficShifting:
        """Send `percent` (1 to 50) of the capacity to the new fleet, bake `wait`, then the rest.

        Defaults: 10 percent, 10 minutes.
        """
        return TrafficShifting("CANARY", percent, wait)

    @staticmethod
    def linear(step_percent: int = 20, wait: Duration = _FIVE_MINUTES) -> TrafficShifting:
        """Shift `step_percent` (10 to 50) of the capacity at a time, baking `wait` after each.

        Defaults: 20 percent steps, 5 minutes.
        """
        return TrafficShifting("LINEAR", step_percent, wait)

    @staticmethod
    def all_at_once(wait: Duration = _TEN_MINUTES) -> TrafficShifting:
        """Shift all traffic in one step, then bake `wait`. Default: 10 minutes."""
        return TrafficShifting("ALL_AT_ONCE", None, wait)


@dataclass(frozen=True, kw_only=True)
class DeploymentGuardrails:
    """Blue/green updates with traffic shifting and automatic rollback on the endpoint's alarms.

    When the endpoint's config changes (a new model, instance type or count), SageMaker starts
    a new fleet, shifts traffic as `traffic_shifting` says, and rolls everything back to the old
    fleet if an `EndpointAlarms` alarm fires before the old fleet is terminated. Needs `alarms`
    on the endpoint, and an instance-based endpoint (not serverless, not ml.inf1).

    Attributes:
        traffic_shifting: how traffic moves. Default: `TrafficShifting.canary()` (10 percent,
            10 minutes).
        termination_wait: how long the old fleet is kept, and watched, after all traffic has
            moved: the final baking period (0 to 60 minutes). Default: 10 minutes.
        maximum_execution_timeout: the longest the deployment may take (10 minutes to 8
            hours). Default: SageMaker's.
    """

    traffic_shifting: TrafficShifting = field(default_factory=TrafficShifting.canary)
    termination_wait: Duration = _TEN_MINUTES
    maximum_execution_timeout: Duration | None = None

    def __post_init__(self) -> None:
        _seconds_between("DeploymentGuardrails.termination_wait", self.termination_wait, 0, 3600)
        if self.maximum_execution_timeout is not None:
            _seconds_between(
                "DeploymentGuardrails.maximum_execution_timeout",
                self.maximum_execution_timeout,
                600,
                28800,
            )


@dataclass(frozen=True, kw_only=True)
class ServerlessConfig:
    """Serverless Inference: SageMaker runs the model on demand and bills per request.

    For spiky or low traffic (dev endpoints). Cold starts add latency; no GPUs, no VPC, no
    network isolation, no data capture, no deployment guardrails (SageMaker's exclusions).

    Attributes:
        memory_size_mb: memory per concurrent invocation: 1024, 2048, 3072, 4096, 5120 or
            6144 MB (vCPUs scale with it). Default: 2048.
        max_concurrency: the most concurrent invocations, 1 to 200. Default: 20.
        provisioned_concurrency: invocations kept warm (no cold start), 1 to
            `max_concurrency`, billed while provisioned. Default: none.
    """

    memory_size_mb: int = 2048
    max_concurrency: int = 20
    provisioned_concurrency: int | None = None

    def __post_init__(self) -> None:
        if _concrete(self.memory_size_mb) and self.memory_size_mb not in SERVERLESS_MEMORY_SIZES_MB:
            sizes = ", ".join(str(size) for size in SERVERLESS_MEMORY_SIZES_MB[:-1])
            raise ValueError(
                f"ServerlessConfig.memory_size_mb must be one of {sizes} or "
                f"{SERVERLESS_MEMORY_SIZES_MB[-1]} (got {self.memory_size_mb})"
            )
        _between(
            "ServerlessConfig.max_concurrency", self.max_concurrency, 1, SERVERLESS_MAX_CONCURRENCY
        )
        if self.provisioned_concurrency is not None:
            _between(
                "ServerlessConfig.provisioned_concurrency",
                self.provisioned_concurrency,
                1,
                self.max_concurrency,
                upper_name="max_concurrency",
            )


def _concrete(*values: int) -> bool:
    return not any(Token.is_unresolved(value) for value in values)


def _at_least(name: str, value: int, low: int) -> None:
    if _concrete(value) and value < low:
        raise ValueError(f"{name} must be at least {low} (got {value})")


def _between(name: str, value: int | None, low: int, high: int, *, upper_name: str = "") -> None:
    if value is None:
        raise ValueError(f"{name} must be {low} to {high} (got None)")
    if _concrete(value, high) and not low <= value <= high:
        upper = f"{upper_name} ({high})" if upper_name else str(high)
        raise ValueError(f"{name} must be {low} to {upper} (got {value})")


def _seconds_between(name: str, duration: Duration, low: int, high: int) -> None:
    if duration.is_unresolved():
        return
    seconds = duration.to_seconds(integral=False)
    if not low <= seconds <= high or seconds != int(seconds):
        raise ValueError(f"{name} must be whole seconds from {low} to {high} (got {seconds:g} s)")

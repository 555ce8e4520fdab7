"""The serving stack: one real-time endpoint per endpoint definition of the stage, and its
monitoring schedules when the definition asks for them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Stage
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config.schema import DeploymentConfig, EndpointConfig
from constructs_lib import BucketSet
from constructs_lib.monitoring import EndpointMonitoring
from constructs_lib.serving import (
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ModelEndpoint,
    ServerlessConfig,
    TrafficShifting,
)
from stacks.model_sources import model_source
from stacks.naming import pascal_case

DATA_CAPTURE_PREFIX = "data-capture/"
MONITORING_PREFIX = "monitoring/"
"""Reports go to `monitoring/<endpoint>/reports/`; baselines and ground truth live beside them."""


def endpoint_name_parameter(stage: str, name: str) -> str:
    """The SSM parameter that publishes an endpoint's name to its consumers."""
    return f"/sagemaker-platform/{stage}/endpoints/{name}"


class ServingStack(Stack):
    """Endpoints of a stage (all of them, or those the config puts in this stack with `stack:`).
    Stateless: promoting a model updates it in place.

    Attributes:
        endpoints: the endpoints, by definition name.
        monitoring: the monitoring of the endpoints that declare it, by definition name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage_name: str,
        endpoints: Mapping[str, EndpointConfig],
        key: kms.IKey,
        buckets: BucketSet,
        notification_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SageMaker serving: real-time endpoints (stateless)",
            **kwargs,
        )
        self._artifacts = buckets.artifacts.bucket
        self.endpoints: dict[str, ModelEndpoint] = {}
        self.monitoring: dict[str, EndpointMonitoring] = {}
        for name, definition in sorted(endpoints.items()):
            data_capture = (
                DataCapture(
                    bucket=self._artifacts,
                    prefix=f"{DATA_CAPTURE_PREFIX}{name}/",
                    sampling_percentage=definition.data_capture_percent,
                )
                if definition.data_capture_percent
                else None
            )
            endpoint = ModelEndpoint(
                self,
                pascal_case(name),
                model=model_source(
                    self,
                    definition.model,
                    artifacts=self._artifacts,
                    instance_type=definition.instance_type or "ml.m5.large",
                ),
                encryption_key=key,
                instance_type=definition.instance_type,
                initial_instance_count=definition.instance_count,
                autoscaling=Autoscaling(
                    min_instances=definition.autoscaling.min_instances,
                    max_instances=definition.autoscaling.max_instances,
                    invocations_per_instance=definition.autoscaling.invocations_per_instance,
                )
                if definition.autoscaling
                else None,
                data_capture=data_capture,
                alarms=EndpointAlarms(
                    topic=notification_topic,
                    server_errors=definition.alarms.server_errors,
                    model_latency=Duration.millis(definition.alarms.model_latency_ms),
                    evaluation_periods=definition.alarms.evaluation_periods,
                ),
                deployment=_guardrails(definition.deployment),
                serverless=ServerlessConfig(
                    memory_size_mb=definition.serverless.memory_size_mb,
                    max_concurrency=definition.serverless.max_concurrency,
                )
                if definition.serverless
                else None,
            )
            self.endpoints[name] = endpoint
            monitoring = definition.monitoring
            if monitoring is not None:
                self.monitoring[name] = EndpointMonitoring(
                    self,
                    f"{pascal_case(name)}Monitoring",
                    endpoint=endpoint,
                    data_capture=data_capture,
                    encryption_key=key,
                    output_prefix=f"{MONITORING_PREFIX}{name}/reports/",
                    data_quality=monitoring.data_quality.monitor()
                    if monitoring.data_quality
                    else None,
                    model_quality=monitoring.model_quality.monitor()
                    if monitoring.model_quality
                    else None,
                    bias=monitoring.bias.monitor() if monitoring.bias else None,
                    explainability=monitoring.explainability.monitor()
                    if monitoring.explainability
                    else None,
                    resources=monitoring.resources(),
                    alarm_topic=notification_topic,
                    staging_dir=_staging_dir(self, "monitoring"),
                )
            CfnOutput(
                self,
                f"{pascal_case(name)}EndpointName",
                value=endpoint.endpoint_name,
                description=f"Invoke this endpoint to use the {name} model",
            )
            ssm.StringParameter(
                self,
                f"{pascal_case(name)}EndpointNameParameter",
                parameter_name=endpoint_name_parameter(stage_name, name),
                string_value=endpoint.endpoint_name,
                description=f"Name of the {name} endpoint of {stage_name}",
            )


def _guardrails(deployment: DeploymentConfig | None) -> DeploymentGuardrails | None:
    if deployment is None:
        return None
    wait = Duration.minutes(deployment.wait_minutes)
    shifting = {
        "canary": lambda: TrafficShifting.canary(percent=deployment.percent, wait=wait),
        "linear": lambda: TrafficShifting.linear(step_percent=deployment.percent, wait=wait),
        "all_at_once": lambda: TrafficShifting.all_at_once(wait=wait),
    }[deployment.traffic_shifting]()
    return DeploymentGuardrails(traffic_shifting=shifting)


def _staging_dir(scope: Construct, name: str) -> Path:
    """A folder of the stage's cloud assembly for files generated at synth."""
    stage = Stage.of(scope)
    assert stage is not None
    return Path(stage.asset_outdir) / name

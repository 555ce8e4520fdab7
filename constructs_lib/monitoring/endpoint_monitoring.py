"""Model Monitor and Clarify schedules for one real-time endpoint, with one scoped role."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Fn, Names, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.builtin_algorithms import sdk
from constructs_lib.monitoring.alarms import (
    DATA_METRICS_NAMESPACE,
    MODEL_METRICS_NAMESPACE,
    breaches_above,
    monitoring_alarm,
)
from constructs_lib.monitoring.jobs import (
    JobContext,
    JobDefinition,
    bias_job,
    data_quality_job,
    explainability_job,
    model_quality_job,
)
from constructs_lib.monitoring.options import (
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
)
from constructs_lib.monitoring.role import MonitoringAccess, monitoring_role_policy
from constructs_lib.monitoring.schedule import MonitoringSchedule
from constructs_lib.serving import DataCapture, ModelEndpoint

_DEFAULT_RESOURCES = MonitoringResources()


class EndpointMonitoring(Construct):
    """Monitoring schedules on one real-time endpoint's captured traffic.

    For each monitor given, an `AWS::SageMaker::<Type>JobDefinition` and an
    `AWS::SageMaker::MonitoringSchedule` that runs it; all share one role that may read only
    the endpoint's captured data, the named baselines, ground truth and analysis configs, write
    only under `output_prefix`, and use only `encryption_key`. Jobs run on volumes encrypted
    with the key, write KMS-encrypted reports, stop after `resources.max_runtime`, publish
    their metrics to CloudWatch and run without network access (except explainability, which
    asks the endpoint for predictions). Images come from the SageMaker SDK for the stack's
    region. Passes cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 rev 5) and cfn-lint.

    SageMaker requires a name for each schedule: it is derived from the construct path
    (unique per stack, stable across deploys), as alarms named for rollback are.

    Attributes:
        role: the IAM role the monitoring jobs run with.
        role_policy: its permissions (a customer-managed policy).
        job_definitions: the job definitions, by monitor (`DataQuality`, `ModelQuality`,
            `Bias`, `Explainability`).
        schedules: the `CfnMonitoringSchedule`s, by monitor.
        alarms: the violation alarms, by construct id.
        bias_analysis_config: the generated Clarify bias analysis config (a file asset),
            when `bias` is given.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: ModelEndpoint,
        data_capture: DataCapture | None,
        encryption_key: kms.IKey,
        output_prefix: str = "monitoring/",
        data_quality: DataQualityMonitor | None = None,
        model_quality: ModelQualityMonitor | None = None,
        bias: BiasMonitor | None = None,
        explainability: ExplainabilityMonitor | None = None,
        resources: MonitoringResources = _DEFAULT_RESOURCES,
        alarm_topic: sns.ITopic | None = None,
        staging_dir: Path | None = None,
    ) -> None:
        """
        Args:
            endpoint: the monitored endpoint (instance-based: serverless endpoints capture
                no data).
            data_capture: the endpoint's data capture (the same value given to it); its
                bucket also holds baselines, ground truth and reports.
            encryption_key: the key of the capture bucket; encrypts volumes and reports.
            output_prefix: where reports go, ending `/`: `<prefix><monitor>/...`.
                Default: `monitoring/`.
            data_quality: drift of the captured requests from a baseline. Default: off.
            model_quality: accuracy against ground truth. Default: off.
            bias: Clarify bias drift of one facet. Default: off.
            explainability: Clarify SHAP attribution drift. Default: off.
            resources: the processing cluster of each run. Default: one ml.m5.xlarge,
                20 GB, at most 1 hour.
            alarm_topic: receives the violation alarms and their recovery. Default: alarms
                without actions.
            staging_dir: where the generated bias analysis config is written at synth (e.g.
                the stage's asset output folder). Required with `bias`.

        Raises:
            ValueError: for monitoring SageMaker would refuse, with what is needed instead.
        """
        super().__init__(scope, construct_id)
        monitors: dict[str, object | None] = {
            "DataQuality": data_quality,
            "ModelQuality": model_quality,
            "Bias": bias,
            "Explainability": explainability,
        }
        _check(data_capture, monitors, output_prefix, staging_dir)
        assert data_capture is not None
        region = Stack.of(self).region
        if Token.is_unresolved(region):
            raise ValueError(
                "EndpointMonitoring needs a stack with a concrete region: the Model Monitor "
                "and Clarify images are regional"
            )
        bucket = data_capture.bucket

        self.bias_analysis_config: s3_assets.Asset | None = None
        if bias is not None:
            assert staging_dir is not None
            self.bias_analysis_config = _bias_analysis_config(self, bias, staging_dir)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Assumed by SageMaker to monitor one endpoint",
        )
        self.role_policy = monitoring_role_policy(
            self,
            self.role,
            MonitoringAccess(
                bucket=bucket,
                key=encryption_key,
                read_prefixes=[
                    data_capture.prefix,
                    *(m.ground_truth_prefix for m in (model_quality, bias) if m is not None),
                ],
                read_objects=_baseline_keys(data_quality, model_quality, bias, explainability),
                write_prefix=output_prefix,
                extra_objects=[
                    self.bias_analysis_config.bucket.arn_for_objects(
                        self.bias_analysis_config.s3_object_key
                    )
                ]
                if self.bias_analysis_config
                else [],
                invoke_endpoint_arn=endpoint.endpoint_arn if explainability else None,
            ),
        )
        context = JobContext(
            endpoint_name=endpoint.endpoint_name,
            role_arn=self.role.role_arn,
            bucket=bucket,
            key=encryption_key,
            output_prefix=output_prefix,
            resources=resources,
        )
        self.job_definitions: dict[str, JobDefinition] = {}
        self.schedules: dict[str, sagemaker.CfnMonitoringSchedule] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._endpoint = endpoint
        self._alarm_topic = alarm_topic
        # Each image is resolved only when used: some regions publish one and not the other.
        if data_quality is not None:
            self._add_data_quality(
                context, data_quality, sdk.monitoring_image("model-monitor", region)
            )
        if model_quality is not None:
            self._add_model_quality(
                context, model_quality, sdk.monitoring_image("model-monitor", region)
            )
        if bias is not None:
            assert self.bias_analysis_config is not None
            group = Construct(self, "Bias")
            job: JobDefinition = bias_job(
                group,
                context,
                bias,
                image_uri=sdk.monitoring_image("clarify", region),
                analysis_config_uri=self.bias_analysis_config.s3_object_url,
            )
            self._schedule(group, "ModelBias", job, bias.schedule)
        if explainability is not None:
            group = Construct(self, "Explainability")
            job = explainability_job(
                group, context, explainability, image_uri=sdk.monitoring_image("clarify", region)
            )
            self._schedule(group, "ModelExplainability", job, explainability.schedule)

    def _add_data_quality(
        self, context: JobContext, monitor: DataQualityMonitor, image_uri: str
    ) -> None:
        group = Construct(self, "DataQuality")
        job = data_quality_job(group, context, monitor, image_uri=image_uri)
        name = self._schedule(group, "DataQuality", job, monitor.schedule)
        for feature in monitor.drift_alarm_features:
            alarm_id = f"Drift{_pascal(feature)}"
            self.alarms[f"DataQuality{alarm_id}"] = monitoring_alarm(
                group,
                alarm_id,
                namespace=DATA_METRICS_NAMESPACE,
                metric_name=f"feature_baseline_drift_{feature}",
                endpoint_name=self._endpoint.endpoint_name,
                schedule_name=name,
                interval_hours=monitor.schedule.interval_hours,
                threshold=monitor.drift_threshold,
                breaches_above=True,
                topic=self._alarm_topic,
                description=f"Data quality of {self._endpoint.node.path}: feature {feature!r} "
                f"drifted {monitor.drift_threshold:g} or more from its baseline",
            )

    def _add_model_quality(
        self, context: JobContext, monitor: ModelQualityMonitor, image_uri: str
    ) -> None:
        group = Construct(self, "ModelQuality")
        job = model_quality_job(group, context, monitor, image_uri=image_uri)
        name = self._schedule(group, "ModelQuality", job, monitor.schedule)
        if monitor.alarm_metric is None:
            return
        assert monitor.alarm_threshold is not None
        above = breaches_above(monitor.alarm_metric)
        self.alarms["ModelQualityMetric"] = monitoring_alarm(
            group,
            "MetricAlarm",
            namespace=MODEL_METRICS_NAMESPACE,
            metric_name=monitor.alarm_metric,
            endpoint_name=self._endpoint.endpoint_name,
            schedule_name=name,
            interval_hours=monitor.schedule.interval_hours,
            threshold=monitor.alarm_threshold,
            breaches_above=above,
            topic=self._alarm_topic,
            description=f"Model quality of {self._endpoint.node.path}: {monitor.alarm_metric} "
            f"{'at or above' if above else 'below'} {monitor.alarm_threshold:g}",
        )

    def _schedule(
        self,
        group: Construct,
        monitoring_type: str,
        job: JobDefinition,
        schedule: MonitoringSchedule,
    ) -> str:
        job.node.add_dependency(self.role_policy)
        name = Names.unique_resource_name(group, separator="-", max_length=63)
        resource = sagemaker.CfnMonitoringSchedule(
            group,
            "Schedule",
            monitoring_schedule_name=name,
            endpoint_name=self._endpoint.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                # The name is the last part of the ARN (there is no name attribute),
                # so CloudFormation may name and replace the job definition.
                monitoring_job_definition_name=Fn.select(
                    1, Fn.split("/", job.attr_job_definition_arn)
                ),
                monitoring_type=monitoring_type,
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=schedule.expression
                ),
            ),
        )
        self.job_definitions[group.node.id] = job
        self.schedules[group.node.id] = resource
        return name


def _check(
    data_capture: DataCapture | None,
    monitors: Mapping[str, object | None],
    output_prefix: str,
    staging_dir: Path | None,
) -> None:
    given = [name for name, monitor in monitors.items() if monitor is not None]
    if not given:
        raise ValueError(
            "EndpointMonitoring needs at least one of data_quality, model_quality, bias or "
            "explainability"
        )
    if data_capture is None:
        raise ValueError(
            "EndpointMonitoring needs the endpoint's data_capture: monitoring schedules "
            "analyse captured traffic, so give the endpoint a DataCapture and pass it here"
        )
    needs_input = [n for n in given if n in {"DataQuality", "Explainability"}]
    needs_output = [n for n in given if n in {"ModelQuality", "Bias"}]
    if needs_input and not data_capture.capture_input:
        raise ValueError(
            f"{', '.join(needs_input)} monitoring needs captured requests: "
            "set DataCapture.capture_input"
        )
    if needs_output and not data_capture.capture_output:
        raise ValueError(
            f"{', '.join(needs_output)} monitoring needs captured responses: "
            "set DataCapture.capture_output"
        )
    if not output_prefix.endswith("/") or output_prefix.startswith("/"):
        raise ValueError(
            f"EndpointMonitoring.output_prefix must be a key prefix like 'monitoring/' "
            f"(got {output_prefix!r})"
        )
    if monitors["Bias"] is not None and staging_dir is None:
        raise ValueError(
            "EndpointMonitoring needs staging_dir with bias: the Clarify analysis config is "
            "written there at synth and published as a file asset"
        )


def _baseline_keys(
    data_quality: DataQualityMonitor | None,
    model_quality: ModelQualityMonitor | None,
    bias: BiasMonitor | None,
    explainability: ExplainabilityMonitor | None,
) -> list[str]:
    keys = [
        data_quality and data_quality.baseline_statistics,
        data_quality and data_quality.baseline_constraints,
        model_quality and model_quality.baseline_constraints,
        bias and bias.baseline_constraints,
        explainability and explainability.analysis_config,
        explainability and explainability.baseline_constraints,
    ]
    return [key for key in keys if key]


def _bias_analysis_config(
    scope: Construct, bias: BiasMonitor, staging_dir: Path
) -> s3_assets.Asset:
    config = sdk.bias_analysis_config(
        label=bias.label,
        label_values=list(bias.label_values),
        facet=bias.facet,
        facet_values=list(bias.facet_values) if bias.facet_values is not None else None,
        headers=list(bias.headers) if bias.headers is not None else None,
        probability_threshold=bias.probability_threshold,
    )
    data = json.dumps(config, indent=2, sort_keys=True).encode() + b"\n"
    staging_dir.mkdir(parents=True, exist_ok=True)
    path = staging_dir / f"clarify-bias-{hashlib.sha256(data).hexdigest()[:16]}.json"
    if not path.exists():
        path.write_bytes(data)
    return s3_assets.Asset(scope, "BiasAnalysisConfig", path=str(path))


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)

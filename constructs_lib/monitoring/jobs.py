"""The four SageMaker monitoring job definitions (L1), each secure by default.

Every job reads the endpoint's captured data, runs on a cluster whose volumes are encrypted
with the key, writes its report under the output prefix with the key, stops after
`max_runtime`, and runs without network access where its job type allows it (explainability
asks the endpoint for predictions, so it needs the network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.monitoring.options import (
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
)

ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_PATH = "/opt/ml/processing/output"
PUBLISH_METRICS = {"publish_cloudwatch_metrics": "Enabled"}
"""The container setting that publishes the run's metrics to CloudWatch."""

JobDefinition = (
    sagemaker.CfnDataQualityJobDefinition
    | sagemaker.CfnModelQualityJobDefinition
    | sagemaker.CfnModelBiasJobDefinition
    | sagemaker.CfnModelExplainabilityJobDefinition
)


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """What every job definition of one endpoint shares."""

    endpoint_name: str
    role_arn: str
    bucket: s3.IBucket
    key: kms.IKey
    output_prefix: str
    resources: MonitoringResources

    def uri(self, key: str) -> str:
        """`s3://<bucket>/<key>`."""
        return f"s3://{self.bucket.bucket_name}/{key}"


def data_quality_job(
    scope: Construct, context: JobContext, monitor: DataQualityMonitor, *, image_uri: str
) -> sagemaker.CfnDataQualityJobDefinition:
    """A data-quality job: statistics of the captured requests against the baseline."""
    cls = sagemaker.CfnDataQualityJobDefinition
    baseline = None
    if monitor.baseline_statistics or monitor.baseline_constraints:
        baseline = cls.DataQualityBaselineConfigProperty(
            constraints_resource=cls.ConstraintsResourceProperty(
                s3_uri=context.uri(monitor.baseline_constraints)
            )
            if monitor.baseline_constraints
            else None,
            statistics_resource=cls.StatisticsResourceProperty(
                s3_uri=context.uri(monitor.baseline_statistics)
            )
            if monitor.baseline_statistics
            else None,
        )
    return cls(
        scope,
        "JobDefinition",
        data_quality_app_specification=cls.DataQualityAppSpecificationProperty(
            image_uri=image_uri, environment=PUBLISH_METRICS
        ),
        data_quality_job_input=cls.DataQualityJobInputProperty(
            endpoint_input=cls.EndpointInputProperty(
                endpoint_name=context.endpoint_name, local_path=ENDPOINT_INPUT_PATH
            )
        ),
        data_quality_baseline_config=baseline,
        **_common(cls, context, "data_quality", "data-quality", network_isolation=True),
    )


def model_quality_job(
    scope: Construct, context: JobContext, monitor: ModelQualityMonitor, *, image_uri: str
) -> sagemaker.CfnModelQualityJobDefinition:
    """A model-quality job: the endpoint's predictions scored against ground truth."""
    cls = sagemaker.CfnModelQualityJobDefinition
    return cls(
        scope,
        "JobDefinition",
        model_quality_app_specification=cls.ModelQualityAppSpecificationProperty(
            image_uri=image_uri, problem_type=monitor.problem_type, environment=PUBLISH_METRICS
        ),
        model_quality_job_input=cls.ModelQualityJobInputProperty(
            endpoint_input=cls.EndpointInputProperty(
                endpoint_name=context.endpoint_name,
                local_path=ENDPOINT_INPUT_PATH,
                inference_attribute=monitor.inference_attribute,
                probability_attribute=monitor.probability_attribute,
                probability_threshold_attribute=monitor.probability_threshold,
            ),
            ground_truth_s3_input=cls.MonitoringGroundTruthS3InputProperty(
                s3_uri=context.uri(monitor.ground_truth_prefix)
            ),
        ),
        model_quality_baseline_config=_constraints_baseline(
            cls.ModelQualityBaselineConfigProperty, cls, context, monitor.baseline_constraints
        ),
        **_common(cls, context, "model_quality", "model-quality", network_isolation=True),
    )


def bias_job(
    scope: Construct,
    context: JobContext,
    monitor: BiasMonitor,
    *,
    image_uri: str,
    analysis_config_uri: str,
) -> sagemaker.CfnModelBiasJobDefinition:
    """A Clarify bias-drift job: post-training bias of the facet against ground truth."""
    cls = sagemaker.CfnModelBiasJobDefinition
    return cls(
        scope,
        "JobDefinition",
        model_bias_app_specification=cls.ModelBiasAppSpecificationProperty(
            image_uri=image_uri, config_uri=analysis_config_uri, environment=PUBLISH_METRICS
        ),
        model_bias_job_input=cls.ModelBiasJobInputProperty(
            endpoint_input=cls.EndpointInputProperty(
                endpoint_name=context.endpoint_name,
                local_path=ENDPOINT_INPUT_PATH,
                inference_attribute=monitor.inference_attribute,
                probability_attribute=monitor.probability_attribute,
                probability_threshold_attribute=monitor.probability_threshold,
            ),
            ground_truth_s3_input=cls.MonitoringGroundTruthS3InputProperty(
                s3_uri=context.uri(monitor.ground_truth_prefix)
            ),
        ),
        model_bias_baseline_config=_constraints_baseline(
            cls.ModelBiasBaselineConfigProperty, cls, context, monitor.baseline_constraints
        ),
        **_common(cls, context, "model_bias", "bias", network_isolation=True),
    )


def explainability_job(
    scope: Construct, context: JobContext, monitor: ExplainabilityMonitor, *, image_uri: str
) -> sagemaker.CfnModelExplainabilityJobDefinition:
    """A Clarify attribution-drift job: SHAP values of captured requests against the baseline."""
    cls = sagemaker.CfnModelExplainabilityJobDefinition
    return cls(
        scope,
        "JobDefinition",
        model_explainability_app_specification=cls.ModelExplainabilityAppSpecificationProperty(
            image_uri=image_uri,
            config_uri=context.uri(monitor.analysis_config),
            environment=PUBLISH_METRICS,
        ),
        model_explainability_job_input=cls.ModelExplainabilityJobInputProperty(
            endpoint_input=cls.EndpointInputProperty(
                endpoint_name=context.endpoint_name,
                local_path=ENDPOINT_INPUT_PATH,
                features_attribute=monitor.features_attribute,
                inference_attribute=monitor.inference_attribute,
                probability_attribute=monitor.probability_attribute,
            )
        ),
        model_explainability_baseline_config=_constraints_baseline(
            cls.ModelExplainabilityBaselineConfigProperty,
            cls,
            context,
            monitor.baseline_constraints,
        ),
        # Clarify computes SHAP values by asking the endpoint for predictions.
        **_common(cls, context, "model_explainability", "explainability", network_isolation=False),
    )


def _constraints_baseline(
    property_class: Any, cls: Any, context: JobContext, key: str | None
) -> Any:
    if key is None:
        return None
    return property_class(
        constraints_resource=cls.ConstraintsResourceProperty(s3_uri=context.uri(key))
    )


def _common(
    cls: Any, context: JobContext, prefix: str, folder: str, *, network_isolation: bool
) -> dict[str, Any]:
    resources = context.resources
    return {
        "role_arn": context.role_arn,
        "job_resources": cls.MonitoringResourcesProperty(
            cluster_config=cls.ClusterConfigProperty(
                instance_count=resources.instance_count,
                instance_type=resources.instance_type,
                volume_size_in_gb=resources.volume_size_gb,
                volume_kms_key_id=context.key.key_arn,
            )
        ),
        f"{prefix}_job_output_config": cls.MonitoringOutputConfigProperty(
            kms_key_id=context.key.key_arn,
            monitoring_outputs=[
                cls.MonitoringOutputProperty(
                    s3_output=cls.S3OutputProperty(
                        local_path=OUTPUT_PATH,
                        s3_uri=context.uri(f"{context.output_prefix}{folder}"),
                        s3_upload_mode="EndOfJob",
                    )
                )
            ],
        ),
        "network_config": cls.NetworkConfigProperty(
            enable_network_isolation=network_isolation,
            enable_inter_container_traffic_encryption=True,
        ),
        "stopping_condition": cls.StoppingConditionProperty(
            max_runtime_in_seconds=int(resources.max_runtime.to_seconds())
        ),
    }

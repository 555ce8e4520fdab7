"""Alarms on the violation metrics Model Monitor publishes, sent to a topic.

Model Monitor publishes one data point per run, with the dimensions `Endpoint` and
`MonitoringSchedule`: data quality per feature in `aws/sagemaker/Endpoints/data-metrics`
(`feature_baseline_drift_<feature>`), model quality per metric in
`aws/sagemaker/Endpoints/model-metrics` (e.g. `auc`, `rmse`). Feature names are only known
from the data, so the caller names the features to watch.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.monitoring.options import LOWER_IS_BETTER

DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"


def monitoring_alarm(
    scope: Construct,
    construct_id: str,
    *,
    namespace: str,
    metric_name: str,
    endpoint_name: str,
    schedule_name: str,
    interval_hours: int,
    threshold: float,
    breaches_above: bool,
    topic: sns.ITopic | None,
    description: str,
) -> cloudwatch.Alarm:
    """An alarm on one metric of one monitoring schedule, over one schedule interval.

    A period without a run (no traffic captured) is not a breach.
    """
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name},
            statistic="Maximum" if breaches_above else "Minimum",
            period=Duration.hours(interval_hours),
        ),
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        if breaches_above
        else cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if topic is not None:
        notify = cloudwatch_actions.SnsAction(topic)
        alarm.add_alarm_action(notify)
        alarm.add_ok_action(notify)
    return alarm


def breaches_above(metric_name: str) -> bool:
    """Whether a model-quality metric is an error (alarm above) rather than a score."""
    return metric_name in LOWER_IS_BETTER

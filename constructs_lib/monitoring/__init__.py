"""Monitoring: Model Monitor and Clarify schedules on a real-time endpoint's captured traffic.

>>> EndpointMonitoring(
...     stack,
...     "ChurnMonitoring",
...     endpoint=endpoint,
...     data_capture=capture,
...     encryption_key=key,
...     data_quality=DataQualityMonitor(
...         baseline_statistics="monitoring/churn/baseline/statistics.json",
...         baseline_constraints="monitoring/churn/baseline/constraints.json",
...         schedule=MonitoringSchedule.hourly(),
...     ),
... )  # doctest: +SKIP
"""

from constructs_lib.monitoring.endpoint_monitoring import EndpointMonitoring
from constructs_lib.monitoring.options import (
    MODEL_QUALITY_METRICS,
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
)
from constructs_lib.monitoring.schedule import (
    ACCEPTED_FORMS,
    DAILY,
    HOURLY,
    MonitoringSchedule,
    schedule_expression_problem,
)

__all__ = [
    "ACCEPTED_FORMS",
    "DAILY",
    "HOURLY",
    "MODEL_QUALITY_METRICS",
    "BiasMonitor",
    "DataQualityMonitor",
    "EndpointMonitoring",
    "ExplainabilityMonitor",
    "ModelQualityMonitor",
    "MonitoringResources",
    "MonitoringSchedule",
    "schedule_expression_problem",
]

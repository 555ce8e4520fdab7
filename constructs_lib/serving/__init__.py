"""Serving: a SageMaker endpoint for a trained model, and what it serves.

>>> endpoint = ModelEndpoint(
...     stack,
...     "ChurnEndpoint",
...     model=ModelSource.from_builtin_algorithm(
...         "xgboost",
...         ModelData.from_bucket(artifacts, "models/churn-1/output/model.tar.gz"),
...         version="1.7-1",
...     ),
...     encryption_key=key,
... )  # doctest: +SKIP
"""

from constructs_lib.serving.endpoint import VARIANT_NAME, ModelEndpoint
from constructs_lib.serving.hosting import DEFAULT_INSTANCE_TYPE, INSTANCE_STORE_FAMILIES
from constructs_lib.serving.model_source import ModelBinding, ModelData, ModelSource
from constructs_lib.serving.options import (
    SERVERLESS_MAX_CONCURRENCY,
    SERVERLESS_MEMORY_SIZES_MB,
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ServerlessConfig,
    TrafficShifting,
)

__all__ = [
    "DEFAULT_INSTANCE_TYPE",
    "INSTANCE_STORE_FAMILIES",
    "SERVERLESS_MAX_CONCURRENCY",
    "SERVERLESS_MEMORY_SIZES_MB",
    "VARIANT_NAME",
    "Autoscaling",
    "DataCapture",
    "DeploymentGuardrails",
    "EndpointAlarms",
    "ModelBinding",
    "ModelData",
    "ModelEndpoint",
    "ModelSource",
    "ServerlessConfig",
    "TrafficShifting",
]

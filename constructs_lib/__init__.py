"""Reusable CDK constructs for Amazon SageMaker: storage, IAM, training, serving and batch.

Every construct takes typed, keyword-only props, reads no files, environment variables or CDK
context, and is secure by default: used with no options it passes cdk-nag and cfn-lint.
"""

from constructs_lib.automl_job import AutoMLJob
from constructs_lib.batch_transform import (
    BatchTransformInput,
    BatchTransformOutput,
    BatchTransformPipeline,
)
from constructs_lib.custom_code import SourceBundle, TrainingImage
from constructs_lib.encryption import EncryptionKey
from constructs_lib.execution_role import BucketPrefixes, SageMakerExecutionRole
from constructs_lib.model_registry import ModelPackageGroup
from constructs_lib.monitoring import (
    BiasMonitor,
    DataQualityMonitor,
    EndpointMonitoring,
    ExplainabilityMonitor,
    ModelQualityMonitor,
    MonitoringResources,
    MonitoringSchedule,
)
from constructs_lib.notifications import NotificationTopic
from constructs_lib.serving import (
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ModelData,
    ModelEndpoint,
    ModelSource,
    ServerlessConfig,
    TrafficShifting,
)
from constructs_lib.storage import AccessLogBucket, BucketLifecycle, BucketSet, EncryptedBucket
from constructs_lib.training_job import (
    HyperparameterTuning,
    ParameterRange,
    SpotTraining,
    TrainingInput,
    TrainingJob,
)
from constructs_lib.training_pipeline import TrainingPipeline

__version__ = "0.1.0"

__all__ = [
    "AccessLogBucket",
    "AutoMLJob",
    "Autoscaling",
    "BatchTransformInput",
    "BatchTransformOutput",
    "BatchTransformPipeline",
    "BiasMonitor",
    "BucketLifecycle",
    "BucketPrefixes",
    "BucketSet",
    "DataCapture",
    "DataQualityMonitor",
    "DeploymentGuardrails",
    "EncryptedBucket",
    "EncryptionKey",
    "EndpointAlarms",
    "EndpointMonitoring",
    "ExplainabilityMonitor",
    "HyperparameterTuning",
    "ModelData",
    "ModelEndpoint",
    "ModelPackageGroup",
    "ModelQualityMonitor",
    "ModelSource",
    "MonitoringResources",
    "MonitoringSchedule",
    "NotificationTopic",
    "ParameterRange",
    "SageMakerExecutionRole",
    "ServerlessConfig",
    "SourceBundle",
    "SpotTraining",
    "TrafficShifting",
    "TrainingImage",
    "TrainingInput",
    "TrainingJob",
    "TrainingPipeline",
]

"""The training stack: the SageMaker execution role for training and the training pipelines."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib import BucketPrefixes, BucketSet, SageMakerExecutionRole

#: Where training reads its data (data bucket) and writes models and checkpoints (artifacts).
TRAINING_DATA_PREFIX = "datasets/"
MODEL_OUTPUT_PREFIX = "models/"
CHECKPOINT_PREFIX = "checkpoints/"


class TrainingStack(Stack):
    """Everything that trains models. Stateless: it can be destroyed and redeployed at will.

    Attributes:
        execution_role: the role SageMaker training jobs run with.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        buckets: BucketSet,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SageMaker training: execution role and training pipelines (stateless)",
            **kwargs,
        )
        self.execution_role = SageMakerExecutionRole(
            self,
            "ExecutionRole",
            encryption_key=key,
            read=[BucketPrefixes(buckets.data.bucket, (TRAINING_DATA_PREFIX,))],
            write=[
                BucketPrefixes(buckets.artifacts.bucket, (MODEL_OUTPUT_PREFIX, CHECKPOINT_PREFIX))
            ],
            description="Assumed by SageMaker training jobs of this stage",
        )
        CfnOutput(self, "ExecutionRoleArn", value=self.execution_role.role.role_arn)

"""The batch stack: one batch inference pipeline per `batch_transforms:` entry of the stage."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import StageConfig
from config.batch_schema import BatchTransformConfig
from constructs_lib import BucketSet
from constructs_lib.batch_transform import (
    BatchTransformInput,
    BatchTransformOutput,
    BatchTransformPipeline,
)
from stacks.model_sources import model_source
from stacks.naming import pascal_case, state_machine_output
from stacks.training_stack import TRAINING_DATA_PREFIX

#: Where batch results go in the artifacts bucket: `batch/<name>/<job name>/`.
BATCH_OUTPUT_PREFIX = "batch/"


class BatchStack(Stack):
    """Everything that runs batch inference. Stateless: models and pipelines only.

    Attributes:
        pipelines: the batch transform pipelines, by definition name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        buckets: BucketSet,
        notification_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SageMaker batch inference: models and transform pipelines (stateless)",
            **kwargs,
        )
        self.pipelines: dict[str, BatchTransformPipeline] = {}
        for name, definition in sorted(config.batch_transforms.items()):
            self.pipelines[name] = BatchTransformPipeline(
                self,
                pascal_case(name),
                name=name,
                model=model_source(
                    self,
                    definition.model,
                    artifacts=buckets.artifacts.bucket,
                    instance_type=definition.instance_type,
                ),
                input_data=_input(definition, buckets),
                output=BatchTransformOutput(
                    bucket=buckets.artifacts.bucket,
                    prefix=f"{BATCH_OUTPUT_PREFIX}{name}/",
                    accept=definition.output.accept,
                    assemble_with=definition.output.assemble_with,
                ),
                encryption_key=key,
                notification_topic=notification_topic,
                instance_type=definition.instance_type,
                instance_count=definition.instance_count,
                max_runtime=Duration.minutes(definition.max_runtime_minutes),
                batch_strategy=definition.batch_strategy,
                max_payload_mb=definition.max_payload_mb,
                max_concurrent_transforms=definition.max_concurrent_transforms,
                environment=definition.environment,
                tags={"batch-transform": name},
                log_retention=logs.RetentionDays.ONE_YEAR
                if config.production
                else logs.RetentionDays.ONE_MONTH,
                log_removal_policy=RemovalPolicy(config.removal_policy.upper()),
            )
            CfnOutput(
                self,
                state_machine_output(name),
                value=self.pipelines[name].state_machine.state_machine_arn,
                description=f"Start this state machine to run the {name} batch transform",
            )


def _input(definition: BatchTransformConfig, buckets: BucketSet) -> BatchTransformInput:
    """The definition's input under `datasets/`; an execution may name any prefix there."""
    return BatchTransformInput(
        bucket=buckets.data.bucket,
        prefix=f"{TRAINING_DATA_PREFIX}{definition.input.prefix}",
        content_type=definition.input.content_type,
        split_type=definition.input.split_type,
        compression=definition.input.compression,
        allowed_prefixes=[TRAINING_DATA_PREFIX],
    )

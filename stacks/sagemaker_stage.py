"""One environment of the SageMaker platform: the same Stage class for Dev and Prod."""

from __future__ import annotations

import sys
from typing import Any

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from config import StageConfig
from config.schema import EndpointConfig
from stacks.batch_stack import BatchStack
from stacks.data_stack import DataStack
from stacks.naming import pascal_case
from stacks.serving_stack import ServingStack
from stacks.training_stack import TrainingStack

#: The Serving stack of endpoints that do not name one.
DEFAULT_SERVING_STACK = "serving"


class SageMakerStage(Stage):
    """The stacks of one environment, configured only by its `StageConfig`.

    Stacks: `Data` (stateful: key, buckets, registry, topic), `Training`, and when the config
    declares them, `Serving` (endpoints; more Serving stacks where endpoints name one with
    `stack:`) and `Batch` (batch transforms), all stateless. A
    change to training, serving or batch can never replace a bucket, because buckets live in
    another stack.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=config.region),
            **kwargs,
        )
        for key, value in sorted(config.tags.items()):
            Tags.of(self).add(key, value)
        self.data = DataStack(self, "Data", config=config)
        self.training = TrainingStack(
            self,
            "Training",
            config=config,
            key=self.data.key,
            buckets=self.data.buckets,
            notification_topic=self.data.notifications,
            model_groups=self.data.model_groups,
        )
        self.serving_stacks: dict[str, ServingStack] = {}
        for stack_name, endpoints in sorted(_by_serving_stack(config).items()):
            self.serving_stacks[stack_name] = ServingStack(
                self,
                pascal_case(stack_name),
                stage_name=construct_id,
                endpoints=endpoints,
                key=self.data.key,
                buckets=self.data.buckets,
                notification_topic=self.data.notifications,
            )
        self.serving = self.serving_stacks.get(DEFAULT_SERVING_STACK)
        if not config.endpoints:
            print(f"{construct_id}: no endpoints declared, so no Serving stack", file=sys.stderr)
        self.batch: BatchStack | None = None
        if config.batch_transforms:
            self.batch = BatchStack(
                self,
                "Batch",
                config=config,
                key=self.data.key,
                buckets=self.data.buckets,
                notification_topic=self.data.notifications,
            )


def _by_serving_stack(config: StageConfig) -> dict[str, dict[str, EndpointConfig]]:
    """The endpoints of each Serving stack (`stack:` of each endpoint), by stack name."""
    stacks: dict[str, dict[str, EndpointConfig]] = {}
    for name, endpoint in config.endpoints.items():
        stacks.setdefault(endpoint.stack, {})[name] = endpoint
    return stacks

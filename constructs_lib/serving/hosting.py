"""The hosting settings of an endpoint, checked together: what SageMaker accepts.

Each rule raises one `ValueError` that names the prop and says what is allowed instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2

from constructs_lib.instance_types import parse_instance_type, validate_instance_type
from constructs_lib.serving.model_source import ModelBinding, ModelSource
from constructs_lib.serving.options import (
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ServerlessConfig,
)

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
"""The instance type of an instance-based endpoint when none is given."""

INSTANCE_STORE_FAMILIES = frozenset(
    {
        "c5d", "c6gd", "m5d", "m6gd", "r5d", "r6gd", "r7gd",
        "g4dn", "g5", "g6", "g6e", "g7", "g7e",
        "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200",
        "dl1", "trn1", "trn1n", "trn2",
    }
)  # fmt: skip
"""Hosting families whose instances have local NVMe storage (EC2 instance store volumes).

SageMaker encrypts those volumes with a hardware key and refuses an endpoint config with a
`KmsKeyId` for them ("If you specify a value for KmsKeyId when using any nitro-based instances
with local storage, the call to CreateEndpointConfig fails", CreateEndpointConfig API).
"""


@dataclass(frozen=True)
class Hosting:
    """The checked hosting settings of an endpoint.

    Attributes:
        instance_type: the instance type; None for a serverless endpoint.
        initial_instance_count: instances at creation; None for a serverless endpoint.
        network_isolation: whether the model container gets no network.
    """

    instance_type: str | None
    initial_instance_count: int | None
    network_isolation: bool

    @property
    def instance_store(self) -> bool:
        """Whether the instances have local NVMe storage (and so take no `KmsKeyId`)."""
        return (
            self.instance_type is not None
            and parse_instance_type(self.instance_type).family in INSTANCE_STORE_FAMILIES
        )

    @classmethod
    def check(
        cls,
        *,
        instance_type: str | None,
        initial_instance_count: int | None,
        autoscaling: Autoscaling | None,
        data_capture: DataCapture | None,
        alarms: EndpointAlarms | None,
        deployment: DeploymentGuardrails | None,
        serverless: ServerlessConfig | None,
        network_isolation: bool | None,
        vpc: ec2.IVpc | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> Hosting:
        """Check the props of `ModelEndpoint` that decide how it is hosted; apply defaults.

        Raises:
            ValueError: naming the first prop SageMaker would refuse and what it accepts.
        """
        if vpc is None and (vpc_subnets is not None or security_groups):
            raise ValueError("vpc_subnets and security_groups need vpc: pass vpc=<the VPC>")
        if serverless is not None:
            given = {
                "instance_type": instance_type is not None,
                "initial_instance_count": initial_instance_count is not None,
                "autoscaling": autoscaling is not None,
                "data_capture": data_capture is not None,
                "deployment": deployment is not None,
                "vpc": vpc is not None,
                "network_isolation=True": network_isolation is True,
            }
            conflicts = [name for name, present in given.items() if present]
            if conflicts:
                raise ValueError(
                    f"serverless cannot be combined with {', '.join(conflicts)}: SageMaker "
                    "Serverless Inference has no instances to choose or scale, and no VPC, "
                    "network isolation, data capture or deployment guardrails"
                )
            return cls(None, None, network_isolation=False)

        instance_type = instance_type or DEFAULT_INSTANCE_TYPE
        problem = validate_instance_type(instance_type, "hosting")
        if problem is not None:
            raise ValueError(f"instance_type: {problem}")
        count = 1 if initial_instance_count is None else initial_instance_count
        if not Token.is_unresolved(count) and count < 1:
            raise ValueError(f"initial_instance_count must be at least 1 (got {count})")
        instance = parse_instance_type(instance_type)
        if autoscaling is not None:
            if instance.is_burstable:
                raise ValueError(
                    f"autoscaling: SageMaker does not autoscale burstable instances "
                    f"({instance_type}); choose a non-burstable type such as "
                    f"{DEFAULT_INSTANCE_TYPE}, or remove autoscaling"
                )
            bounds = (autoscaling.min_instances, count, autoscaling.max_instances)
            concrete = not any(Token.is_unresolved(value) for value in bounds)
            if concrete and not autoscaling.min_instances <= count <= autoscaling.max_instances:
                raise ValueError(
                    f"initial_instance_count ({count}) must be within autoscaling's "
                    f"min_instances..max_instances ({autoscaling.min_instances}.."
                    f"{autoscaling.max_instances})"
                )
        if deployment is not None:
            if alarms is None:
                raise ValueError(
                    "deployment: guardrails roll back when the endpoint's alarms fire; "
                    "pass alarms=EndpointAlarms(...) as well"
                )
            if instance.family == "inf1":
                raise ValueError(
                    f"deployment: SageMaker applies no deployment guardrails to ml.inf1 "
                    f"endpoints ({instance_type}) and would update them all at once without "
                    "rollback; remove deployment or choose another family"
                )
        isolation = True if network_isolation is None else network_isolation
        return cls(
            instance_type=instance_type, initial_instance_count=count, network_isolation=isolation
        )


def check_model(model: object) -> None:
    """Refuse a `model` that is not a `ModelSource` (e.g. a URI string from a config file)."""
    if not isinstance(model, ModelSource):
        raise ValueError(
            "model must be a ModelSource: an inference image with its model artifact "
            "(ModelSource.from_builtin_algorithm, from_image, from_asset) or a model package "
            f"version (ModelSource.from_model_package); got {type(model).__name__}"
        )


def check_image_architecture(binding: ModelBinding, instance_type: str | None) -> None:
    """Refuse a built-in algorithm (x86_64 images only) on a Graviton instance."""
    if binding.builtin_algorithm is None or instance_type is None:
        return
    problem = builtin_image_architecture_problem(binding.builtin_algorithm, instance_type)
    if problem:
        raise ValueError(f"model: {problem}")


def builtin_image_architecture_problem(algorithm: str, instance_type: str) -> str | None:
    """Why a built-in `algorithm`'s image (x86_64 only) cannot run on `instance_type`, or None."""
    if Token.is_unresolved(instance_type) or not parse_instance_type(instance_type).is_graviton:
        return None
    return (
        f"the {algorithm} image is x86_64 and cannot run on {instance_type} (Graviton, arm64); "
        f"choose an x86 instance such as {DEFAULT_INSTANCE_TYPE}"
    )

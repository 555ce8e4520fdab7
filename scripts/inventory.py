"""What a deploy created, read back from the account (emulated or real) with boto3.

`collect` walks the resources CloudFormation reports for the deployed stacks and describes the
ones a SageMaker user cares about; `skipped_resources` lists the template resources that the
emulator does not create, with the reason. Both feed the report `scripts/deploy.py` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assembly import StackArtifact
from botocore.exceptions import ClientError

#: Why a resource type the emulator skips is missing. Other skipped types get a generic reason.
SKIP_REASONS = {
    "AWS::S3::BucketPolicy": "moto's CloudFormation skips bucket policies: the TLS-only policies "
    "exist on real AWS only",
    "AWS::CDK::Metadata": "the CDK's version report; nothing to create",
    "AWS::SageMaker::ModelPackageGroup": "moto's CloudFormation skips model package groups",
    "AWS::SageMaker::Pipeline": "moto's CloudFormation skips SageMaker pipelines",
}
GENERIC_SKIP_REASON = "moto's CloudFormation does not implement this type and skips it"


@dataclass(frozen=True)
class Role:
    name: str
    trusted_services: tuple[str, ...]
    managed_policies: int


@dataclass(frozen=True)
class Bucket:
    name: str
    encryption: str
    kms_key: str | None
    versioning: str


@dataclass(frozen=True)
class Key:
    arn: str
    state: str
    rotation: bool


@dataclass(frozen=True)
class StateMachine:
    name: str
    arn: str


@dataclass(frozen=True)
class Endpoint:
    name: str
    status: str


@dataclass
class Inventory:
    """The deployed resources, by kind."""

    roles: list[Role] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    state_machines: list[StateMachine] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Resources these credentials may not describe, as `type id: error code`."""


@dataclass(frozen=True)
class Skipped:
    """Resources of one type that the emulator did not create."""

    resource_type: str
    count: int
    stacks: tuple[str, ...]
    reason: str


def collect(session: Any, stack_names: Iterable[str]) -> Inventory:
    """Describe the roles, buckets, keys, state machines and endpoints of the given stacks.

    Args:
        session: a boto3 session whose clients reach the account (and endpoint) deployed to.
        stack_names: CloudFormation stack names.
    """
    cloudformation = session.client("cloudformation")
    inventory = Inventory()
    for stack_name in stack_names:
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                try:
                    _describe(session, inventory, summary)
                except ClientError as error:
                    code = error.response.get("Error", {}).get("Code", "error")
                    inventory.unreadable.append(
                        f"{summary.get('ResourceType')} {summary.get('PhysicalResourceId')}: {code}"
                    )
    return inventory


def skipped_resources(
    stacks: Iterable[StackArtifact], supported_types: frozenset[str]
) -> list[Skipped]:
    """Template resources whose type the emulator's CloudFormation does not create."""
    counts: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for stack in stacks:
        for resource_type in stack.resource_types():
            if resource_type in supported_types or resource_type.startswith("Custom::"):
                continue
            counts[resource_type] += 1
            if stack.path not in where.setdefault(resource_type, []):
                where[resource_type].append(stack.path)
    return [
        Skipped(
            resource_type=resource_type,
            count=count,
            stacks=tuple(where[resource_type]),
            reason=SKIP_REASONS.get(resource_type, GENERIC_SKIP_REASON),
        )
        for resource_type, count in sorted(counts.items())
    ]


def _describe(session: Any, inventory: Inventory, summary: dict[str, Any]) -> None:
    physical_id = summary.get("PhysicalResourceId")
    resource_type = summary.get("ResourceType")
    if not physical_id:
        return
    if resource_type == "AWS::IAM::Role":
        inventory.roles.append(_role(session.client("iam"), physical_id))
    elif resource_type == "AWS::S3::Bucket":
        inventory.buckets.append(_bucket(session.client("s3"), physical_id))
    elif resource_type == "AWS::KMS::Key":
        inventory.keys.append(_key(session.client("kms"), physical_id))
    elif resource_type == "AWS::StepFunctions::StateMachine":
        description = session.client("stepfunctions").describe_state_machine(
            stateMachineArn=physical_id
        )
        inventory.state_machines.append(StateMachine(description["name"], physical_id))
    elif resource_type == "AWS::SageMaker::Endpoint":
        name = physical_id.rsplit("/", 1)[-1]
        description = session.client("sagemaker").describe_endpoint(EndpointName=name)
        inventory.endpoints.append(Endpoint(name, description["EndpointStatus"]))


def _role(iam: Any, name: str) -> Role:
    role = iam.get_role(RoleName=name)["Role"]
    services: list[str] = []
    for statement in role["AssumeRolePolicyDocument"].get("Statement", []):
        service = statement.get("Principal", {}).get("Service", [])
        services += [service] if isinstance(service, str) else list(service)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    return Role(name=name, trusted_services=tuple(services), managed_policies=len(attached))


def _bucket(s3: Any, name: str) -> Bucket:
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        encryption, kms_key = default["SSEAlgorithm"], default.get("KMSMasterKeyID")
    except ClientError:
        encryption, kms_key = "none", None
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "off")
    return Bucket(name=name, encryption=encryption, kms_key=kms_key, versioning=versioning)


def _key(kms: Any, key_id: str) -> Key:
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    return Key(arn=metadata["Arn"], state=metadata["KeyState"], rotation=bool(rotation))

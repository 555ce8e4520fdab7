"""What a deploy created, read back from the account (emulated or real) with boto3.

`collect` walks the resources CloudFormation reports for the deployed stacks and describes the
ones a SageMaker user cares about; `skipped_resources` lists the template resources that the
emulator does not create, with the reason. Both feed the report `scripts/deploy.py` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
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
    **{
        f"AWS::SageMaker::{kind}": "moto's CloudFormation skips Model Monitor and Clarify "
        "resources: monitoring runs on real AWS only (docs/monitoring.md)"
        for kind in (
            "DataQualityJobDefinition",
            "ModelQualityJobDefinition",
            "ModelBiasJobDefinition",
            "ModelExplainabilityJobDefinition",
            "MonitoringSchedule",
        )
    },
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


# --- after a destroy: is each resource gone? -----------------------------------------------


@dataclass(frozen=True)
class StackResource:
    """One resource a stack created, as CloudFormation lists it."""

    stack: str
    logical_id: str
    resource_type: str
    physical_id: str


@dataclass(frozen=True)
class Leftover:
    """A resource that still exists after its stack was deleted, and what to do about it."""

    resource: StackResource
    state: str


@dataclass(frozen=True)
class _Probe:
    """How to look up one resource type in `service`: `look_up(client, physical_id)` says what
    is left of the resource, and returns None or fails with one of `gone_codes` once it is gone."""

    service: str
    look_up: Callable[[Any, str], str | None]
    gone_codes: tuple[str, ...]


def _sagemaker_name(physical_id: str) -> str:
    return physical_id.rsplit("/", 1)[-1]


def _bucket_state(s3: Any, name: str) -> str:
    s3.head_bucket(Bucket=name)
    objects = s3.list_object_versions(Bucket=name, MaxKeys=1000)
    count = len(objects.get("Versions", [])) + len(objects.get("DeleteMarkers", []))
    if not count:
        return "exists, empty"
    more = "+" if objects.get("IsTruncated") else ""
    return (
        f"holds {count}{more} object version(s): CloudFormation deletes only empty buckets "
        f"(Dev: removal_policy destroy, auto_delete_objects false). Empty it (`aws s3 rm "
        f"s3://{name} --recursive`, and every object version when versioning is on), then "
        "destroy again"
    )


def _key_state(kms: Any, key_id: str) -> str | None:
    state = str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])
    return None if state == "PendingDeletion" else state


def _snake(name: str) -> str:
    """`ModelBias` -> `model_bias`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _job_definition_probe(kind: str) -> _Probe:
    """The probe of a Model Monitor job definition (`DataQuality`, `ModelBias`, ...)."""
    operation = f"describe_{_snake(kind)}_job_definition"

    def look_up(sagemaker: Any, arn: str) -> str:
        return _found(getattr(sagemaker, operation)(JobDefinitionName=_sagemaker_name(arn)))

    return _Probe("sagemaker", look_up, ("ResourceNotFound",))


def _found(response: Any) -> str:
    """What is left of a resource whose description call answered (with `response`)."""
    return "exists"


#: Resource type -> how to tell whether it still exists. A type of a deployed stage that is
#: neither here nor in `NOT_LOOKED_UP` is not looked up, and a destroy says so (the end-to-end
#: test fails on it): add it to one of them.
PROBES: dict[str, _Probe] = {
    "AWS::S3::Bucket": _Probe("s3", _bucket_state, ("404", "NoSuchBucket")),
    "AWS::KMS::Key": _Probe("kms", _key_state, ("NotFoundException",)),
    "AWS::KMS::Alias": _Probe(
        "kms",
        lambda kms, name: _found(kms.describe_key(KeyId=name)),
        ("NotFoundException",),
    ),
    "AWS::IAM::Role": _Probe(
        "iam", lambda iam, name: _found(iam.get_role(RoleName=name)), ("NoSuchEntity",)
    ),
    "AWS::IAM::ManagedPolicy": _Probe(
        "iam", lambda iam, arn: _found(iam.get_policy(PolicyArn=arn)), ("NoSuchEntity",)
    ),
    "AWS::SNS::Topic": _Probe(
        "sns", lambda sns, arn: _found(sns.get_topic_attributes(TopicArn=arn)), ("NotFound",)
    ),
    "AWS::SSM::Parameter": _Probe(
        "ssm", lambda ssm, name: _found(ssm.get_parameter(Name=name)), ("ParameterNotFound",)
    ),
    "AWS::Logs::LogGroup": _Probe(
        "logs",
        lambda logs, name: (
            "exists"
            if any(
                group["logGroupName"] == name
                for group in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            )
            else None
        ),
        ("ResourceNotFoundException",),
    ),
    "AWS::StepFunctions::StateMachine": _Probe(
        "stepfunctions",
        lambda sfn, arn: _found(sfn.describe_state_machine(stateMachineArn=arn)),
        ("StateMachineDoesNotExist",),
    ),
    "AWS::Events::Rule": _Probe(
        "events",
        lambda events, name: _found(events.describe_rule(Name=name.rsplit("|", 1)[-1])),
        ("ResourceNotFoundException",),
    ),
    "AWS::Lambda::Function": _Probe(
        "lambda",
        lambda lambda_, name: _found(lambda_.get_function(FunctionName=name)),
        ("ResourceNotFoundException",),
    ),
    "AWS::CloudWatch::Alarm": _Probe(
        "cloudwatch",
        lambda cloudwatch, name: (
            "exists" if cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] else None
        ),
        (),
    ),
    # SageMaker answers a missing resource with ValidationException ("Could not find ...").
    "AWS::SageMaker::Model": _Probe(
        "sagemaker",
        lambda sm, arn: _found(sm.describe_model(ModelName=_sagemaker_name(arn))),
        ("ValidationException",),
    ),
    "AWS::SageMaker::EndpointConfig": _Probe(
        "sagemaker",
        lambda sm, arn: _found(
            sm.describe_endpoint_config(EndpointConfigName=_sagemaker_name(arn))
        ),
        ("ValidationException",),
    ),
    "AWS::SageMaker::Endpoint": _Probe(
        "sagemaker",
        lambda sm, arn: str(
            sm.describe_endpoint(EndpointName=_sagemaker_name(arn))["EndpointStatus"]
        ),
        ("ValidationException",),
    ),
    "AWS::SageMaker::MonitoringSchedule": _Probe(
        "sagemaker",
        lambda sm, arn: str(
            sm.describe_monitoring_schedule(MonitoringScheduleName=_sagemaker_name(arn))[
                "MonitoringScheduleStatus"
            ]
        ),
        ("ResourceNotFound",),
    ),
    **{
        f"AWS::SageMaker::{kind}JobDefinition": _job_definition_probe(kind)
        for kind in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
    },
    "AWS::SageMaker::ModelPackageGroup": _Probe(
        "sagemaker",
        lambda sm, arn: _found(
            sm.describe_model_package_group(ModelPackageGroupName=_sagemaker_name(arn))
        ),
        ("ValidationException",),
    ),
}

#: Resource types whose deletion is not looked up, and why.
NOT_LOOKED_UP = {
    "AWS::CDK::Metadata": "the CDK's version report; nothing is created",
    "AWS::IAM::Policy": "an inline policy of a role: it is deleted with its role, which is "
    "looked up",
    "AWS::S3::BucketPolicy": "part of its bucket, which is looked up",
    "AWS::SNS::TopicPolicy": "part of its topic, which is looked up",
}


def stack_resources(session: Any, stack_names: Iterable[str]) -> list[StackResource]:
    """Every resource the stacks created (with a physical id), in the stacks' order.

    A stack that does not exist contributes nothing.
    """
    cloudformation = session.client("cloudformation")
    found: list[StackResource] = []
    for stack_name in stack_names:
        paginator = cloudformation.get_paginator("list_stack_resources")
        try:
            for page in paginator.paginate(StackName=stack_name):
                found += [
                    StackResource(
                        stack=stack_name,
                        logical_id=summary["LogicalResourceId"],
                        resource_type=summary["ResourceType"],
                        physical_id=summary["PhysicalResourceId"],
                    )
                    for summary in page["StackResourceSummaries"]
                    if summary.get("PhysicalResourceId")
                ]
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
    return found


def unknown_types(resources: Iterable[StackResource]) -> list[str]:
    """Types of `resources` that `leftovers` cannot look up (neither probed nor excused)."""
    return sorted({r.resource_type for r in resources} - set(PROBES) - set(NOT_LOOKED_UP))


def leftovers(session: Any, resources: Iterable[StackResource]) -> list[Leftover]:
    """The resources of `resources` that still exist, each with what is left of it.

    Resources of the types `unknown_types` names are not looked up (they cannot be).
    """
    remaining = []
    for resource in resources:
        probe = PROBES.get(resource.resource_type)
        if probe is None:
            continue
        try:
            state = probe.look_up(session.client(probe.service), resource.physical_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in probe.gone_codes:
                continue
            raise
        if state is not None:
            remaining.append(Leftover(resource, state))
    return remaining

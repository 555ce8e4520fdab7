"""Per-finding cdk-nag acknowledgements for findings whose text is only known after synthesis.

cdk-nag (v3) names an IAM wildcard finding after the flattened resource, e.g.
`AwsSolutions-IAM5[Resource::Dev-Data:ExportsOutput...Arn/datasets/*]`. A cross-stack reference
only takes that form once CDK has resolved references, after every construct was built, so the
acknowledgement is added by a construct validation, which CDK runs after reference resolution
and before the validation plugins. Only findings that match the declared suffixes are
acknowledged; any other wildcard in the same policy still fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import IValidation

PolicyResource = iam.CfnManagedPolicy | iam.CfnPolicy


def acknowledge_inline_policy(resource: iam.CfnPolicy, reason: str) -> None:
    """Acknowledge the HIPAA and NIST "no inline policy" findings on one inline policy.

    For policies CDK generates inline on roles it creates for a service (state machines,
    EventBridge targets): `reason` says why an inline policy is right there.
    """
    Validations.of(resource).acknowledge(
        Acknowledgment(id="HIPAA.Security-IAMNoInlinePolicy", reason=reason),
        Acknowledgment(id="NIST.800.53.R5-IAMNoInlinePolicy", reason=reason),
    )


def acknowledge_state_machine_policy(
    state_machine: sfn.StateMachine, *, names: str, suffixes: Sequence[str], reason: str
) -> None:
    """Acknowledge what cdk-nag finds in the task policy CDK generates for a state machine.

    The policy is inline (CDK writes it for this one state machine), holds the X-Ray and log
    delivery actions that have no resource-level permissions, and names per-execution jobs with
    wildcards: only those ending in one of `suffixes` are acknowledged, for `reason`.

    Args:
        state_machine: the state machine whose role's `DefaultPolicy` is acknowledged.
        names: what its statements name, e.g. "this pipeline's transform jobs, key or log group".
        suffixes: the wildcard resources allowed, e.g. `[":transform-job/churn-*"]`.
        reason: why those wildcards are needed.
    """
    policy = state_machine.role.node.try_find_child("DefaultPolicy")
    if policy is None:
        return
    resource = cast(iam.CfnPolicy, policy.node.default_child)
    acknowledge_inline_policy(
        resource,
        "Step Functions task permissions that CDK generates for this state machine alone; "
        f"every statement names {names}.",
    )
    Validations.of(resource).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="X-Ray tracing and CloudWatch Logs delivery (PutTraceSegments, "
            "CreateLogDelivery and friends) have no resource-level permissions.",
        )
    )
    acknowledge_wildcard_resources(resource, suffixes=suffixes, reason=reason)


def acknowledge_wildcard_resources(
    resource: PolicyResource, *, suffixes: Sequence[str], reason: str
) -> None:
    """Acknowledge `AwsSolutions-IAM5[Resource::...]` for each wildcard ending in a suffix.

    Args:
        resource: an `AWS::IAM::ManagedPolicy` or `AWS::IAM::Policy`.
        suffixes: e.g. `["/datasets/*"]`: the only wildcard resources acknowledged.
        reason: why these wildcards are needed; recorded with each acknowledgement.
    """
    resource.node.add_validation(_WildcardAcknowledger(resource, tuple(suffixes), reason))


@jsii.implements(IValidation)
class _WildcardAcknowledger:
    def __init__(self, resource: PolicyResource, suffixes: tuple[str, ...], reason: str) -> None:
        self._resource = resource
        self._suffixes = suffixes
        self._reason = reason

    def validate(self) -> list[str]:
        document = Stack.of(self._resource).resolve(self._resource.policy_document)
        acknowledgments = [
            Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{text}]", reason=self._reason)
            for text in sorted(_wildcard_resources(document))
            if text.endswith(self._suffixes)
        ]
        if acknowledgments:
            Validations.of(self._resource).acknowledge(*acknowledgments)
        return []


def _wildcard_resources(document: Any) -> set[str]:
    found: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        resources = statement.get("Resource", [])
        for value in resources if isinstance(resources, list) else [resources]:
            text = flatten_reference(value)
            if "*" in text:
                found.add(text)
    return found


def flatten_reference(node: Any) -> str:  # noqa: PLR0911 (one return per intrinsic)
    """Flatten a CloudFormation value as cdk-nag does (utils/flatten-cfn-reference)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(flatten_reference(item) for item in items)
    if "Fn::Sub" in node:
        return flatten_reference(node["Fn::Sub"])
    if "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return f"<{flatten_reference(logical_id)}.{flatten_reference(attribute)}>"
    if "Fn::ImportValue" in node:
        return flatten_reference(node["Fn::ImportValue"])
    if "Ref" in node:
        return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))

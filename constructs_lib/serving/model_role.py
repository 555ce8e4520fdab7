"""The IAM policy of the role SageMaker assumes to host one model: nothing more than it needs."""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.execution_role import sagemaker_logs_statement
from constructs_lib.nag import acknowledge_wildcard_resources
from constructs_lib.serving.model_source import ModelBinding
from constructs_lib.serving.options import DataCapture


def model_role_policy(
    scope: Construct,
    role: iam.Role,
    binding: ModelBinding,
    key: kms.IKey,
    data_capture: DataCapture | None,
    *,
    in_vpc: bool,
) -> iam.ManagedPolicy:
    """The customer-managed policy of `role`, the role SageMaker hosts one model with.

    It may read the model's artifact (or the model package's artifact prefixes) and decrypt
    it, pull the model's image, write captured data under its prefix with `key`, manage the
    model's network interfaces when it is in a VPC, and write logs and metrics only under
    SageMaker's names. Each unavoidable wildcard is acknowledged to cdk-nag with its reason.
    """
    statements: list[iam.PolicyStatement] = []
    wildcard_suffixes: list[str] = []
    if binding.readable_objects:
        statements.append(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=list(binding.readable_objects))
        )
    for access in binding.readable_prefixes:
        statements.append(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=access.object_arns())
        )
        wildcard_suffixes.extend(f"/{prefix}*" for prefix in access.prefixes)
    if data_capture is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[data_capture.bucket.arn_for_objects(f"{data_capture.prefix}*")],
            )
        )
        wildcard_suffixes.append(f"/{data_capture.prefix}*")
    keys = [key.key_arn, *(other.key_arn for other in binding.keys if other is not key)]
    statements.append(iam.PolicyStatement(actions=["kms:Decrypt"], resources=keys))
    if data_capture is not None:
        statements.append(
            iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[key.key_arn])
        )
    if binding.repository_arns:
        statements.append(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=list(dict.fromkeys(binding.repository_arns)),
            )
        )
        statements.append(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
    statements.append(sagemaker_logs_statement(scope, "/aws/sagemaker/Endpoints/*"))
    wildcard_suffixes.extend(["log-group:/aws/sagemaker/Endpoints/*", ":log-stream:*"])
    statements.append(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}},
        )
    )
    if in_vpc:
        statements.append(
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            )
        )
    policy = iam.ManagedPolicy(
        scope,
        "RolePolicy",
        description="Hosts one SageMaker model: its artifact, image, key, logs and metrics",
        statements=statements,
        roles=[role],
    )
    cfn_policy = cast(iam.CfnManagedPolicy, policy.node.default_child)
    acknowledge_wildcard_resources(
        cfn_policy,
        suffixes=wildcard_suffixes,
        reason="SageMaker names endpoint log streams and captured-data objects at run time, "
        "under the fixed log group prefix /aws/sagemaker/Endpoints/ and the fixed key "
        "prefixes granted; registered model artifacts are numbered per training job.",
    )
    resource_star = (
        "cloudwatch:PutMetricData and ecr:GetAuthorizationToken have no resource-level "
        "permissions (metrics are limited to SageMaker namespaces by condition, image pulls to "
        "the named repositories)"
    )
    if in_vpc:
        resource_star += (
            "; SageMaker creates and deletes the model's network interfaces at run time, and "
            "the EC2 Describe actions have no resource-level permissions"
        )
    Validations.of(cfn_policy).acknowledge(
        Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=resource_star + ".")
    )
    return policy

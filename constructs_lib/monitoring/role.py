"""The IAM policy of the role SageMaker runs one endpoint's monitoring jobs with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.execution_role import sagemaker_logs_statement
from constructs_lib.nag import acknowledge_wildcard_resources

METRICS_NAMESPACES = "aws/sagemaker/Endpoints/*"
"""The CloudWatch namespaces monitoring jobs of real-time endpoints publish to."""


@dataclass(frozen=True, kw_only=True)
class MonitoringAccess:
    """What one endpoint's monitoring jobs read and write.

    Attributes:
        bucket: the bucket of captured data, baselines, ground truth and reports.
        key: encrypts everything in `bucket`, the job volumes and the reports.
        read_prefixes: key prefixes read (captured data, ground truth), each ending `/`.
        read_objects: single keys read (baseline statistics and constraints, analysis configs).
        write_prefix: where the reports go.
        extra_objects: object ARNs elsewhere that the jobs read (a generated analysis config).
        invoke_endpoint_arn: the endpoint Clarify asks for predictions (explainability).
    """

    bucket: s3.IBucket
    key: kms.IKey
    read_prefixes: Sequence[str]
    read_objects: Sequence[str]
    write_prefix: str
    extra_objects: Sequence[str] = ()
    invoke_endpoint_arn: str | None = None


def monitoring_role_policy(
    scope: Construct, role: iam.Role, access: MonitoringAccess
) -> iam.ManagedPolicy:
    """The customer-managed policy of `role`: only the prefixes, objects and key it is given.

    Each unavoidable wildcard (run-time object names under fixed prefixes, SageMaker's log
    group names, metrics limited by namespace) is acknowledged to cdk-nag with its reason.
    """
    bucket = access.bucket
    read_prefixes = sorted(set(access.read_prefixes))
    statements = [
        iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[
                *(bucket.arn_for_objects(f"{prefix}*") for prefix in read_prefixes),
                *(bucket.arn_for_objects(key) for key in sorted(set(access.read_objects))),
                *access.extra_objects,
            ],
        ),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in read_prefixes]}},
        ),
        iam.PolicyStatement(
            actions=["s3:PutObject", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects(f"{access.write_prefix}*")],
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[access.key.key_arn],
        ),
        iam.PolicyStatement(
            actions=["kms:CreateGrant"],
            resources=[access.key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
    if access.invoke_endpoint_arn is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint"], resources=[access.invoke_endpoint_arn]
            )
        )
    statements.extend(
        [
            sagemaker_logs_statement(scope, "/aws/sagemaker/ProcessingJobs"),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": [METRICS_NAMESPACES]}},
            ),
        ]
    )
    policy = iam.ManagedPolicy(
        scope,
        "RolePolicy",
        description="Monitors one SageMaker endpoint: its captured data, baselines and reports",
        statements=statements,
        roles=[role],
    )
    cfn_policy = cast(iam.CfnManagedPolicy, policy.node.default_child)
    acknowledge_wildcard_resources(
        cfn_policy,
        suffixes=[
            *(f"/{prefix}*" for prefix in [*read_prefixes, access.write_prefix]),
            ":log-stream:*",
        ],
        reason="SageMaker names captured-data files, ground-truth files and monitoring reports "
        "at run time under the fixed key prefixes granted, and processing-job log streams under "
        "the fixed log group /aws/sagemaker/ProcessingJobs.",
    )
    Validations.of(cfn_policy).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudwatch:PutMetricData has no resource-level permissions; the condition "
            f"limits it to the namespaces {METRICS_NAMESPACES} that Model Monitor and Clarify "
            "publish endpoint metrics to.",
        )
    )
    return policy

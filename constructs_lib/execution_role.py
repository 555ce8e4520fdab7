"""A SageMaker execution role scoped to named bucket prefixes, one KMS key and ECR repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.nag import acknowledge_wildcard_resources


@dataclass(frozen=True)
class BucketPrefixes:
    """Part of a bucket: the objects under each prefix.

    Attributes:
        bucket: the bucket.
        prefixes: key prefixes ending in `/`, e.g. `("datasets/",)`.
    """

    bucket: s3.IBucket
    prefixes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.prefixes:
            raise ValueError("BucketPrefixes.prefixes must name at least one prefix")
        for prefix in self.prefixes:
            if not prefix.endswith("/") or prefix.startswith("/"):
                raise ValueError(
                    f"BucketPrefixes.prefixes: {prefix!r} must be a key prefix like 'datasets/'"
                )

    def object_arns(self) -> list[str]:
        return [self.bucket.arn_for_objects(f"{prefix}*") for prefix in self.prefixes]


class SageMakerExecutionRole(Construct):
    """The IAM role that SageMaker assumes to run training jobs, models and endpoints.

    Least privilege by construction: it reads only the `read` prefixes, writes only the `write`
    prefixes, uses only `encryption_key`, pulls only the ECR repositories granted with
    `grant_pull`, and writes logs and metrics only under SageMaker's own names. It never gets
    `AmazonSageMakerFullAccess` or an `s3:*` action. Its permissions are customer-managed
    policies (no inline policy), so auditors see them as reviewable documents.

    Attributes:
        role: the IAM role.
        s3_policy: the S3 permissions; only object ARNs under the named prefixes.
        service_policy: KMS, CloudWatch Logs and metrics, and ECR permissions.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        read: Sequence[BucketPrefixes] = (),
        write: Sequence[BucketPrefixes] = (),
        description: str = "Assumed by SageMaker to run jobs and host models",
    ) -> None:
        """
        Args:
            encryption_key: the key of the buckets, training volumes and endpoint storage;
                the role may encrypt and decrypt with it and let SageMaker create grants on it.
            read: prefixes whose objects the role may list and read (training data, models).
            write: prefixes the role may write and read back (model output, checkpoints,
                captured data).
            description: shown in the IAM console.
        """
        super().__init__(scope, construct_id)
        if not read and not write:
            raise ValueError("SageMakerExecutionRole needs at least one `read` or `write` prefix")
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description,
        )
        self.s3_policy = iam.ManagedPolicy(
            self,
            "S3Access",
            description="Objects under named prefixes only",
            statements=_s3_statements(read, write),
            roles=[self.role],
        )
        acknowledge_wildcard_resources(
            _cfn_policy(self.s3_policy),
            suffixes=[f"/{p}*" for access in [*read, *write] for p in access.prefixes],
            reason="Objects under a fixed prefix: SageMaker names the keys (job names, part "
            "files) at run time.",
        )
        self.service_policy = iam.ManagedPolicy(
            self,
            "ServiceAccess",
            description="KMS key, SageMaker logs and metrics, granted ECR repositories",
            statements=[*_key_statements(encryption_key), *_logs_and_metrics_statements(self)],
            roles=[self.role],
        )
        acknowledge_wildcard_resources(
            _cfn_policy(self.service_policy),
            suffixes=["log-group:/aws/sagemaker/*", ":log-stream:*"],
            reason="SageMaker names its log groups and streams per job and endpoint under "
            "/aws/sagemaker/.",
        )
        self._acknowledge(
            "Resource::*",
            "cloudwatch:PutMetricData and ecr:GetAuthorizationToken have no resource-level "
            "permissions; metrics are limited to SageMaker namespaces by condition and image "
            "pulls to the granted repositories.",
        )

    def grant_pull(self, repository: ecr.IRepository) -> None:
        """Let SageMaker pull images from `repository` with this role."""
        self.service_policy.add_statements(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[repository.repository_arn],
            )
        )
        if not self._can_authenticate_to_ecr:
            self.service_policy.add_statements(
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
            )
            self._can_authenticate_to_ecr = True

    _can_authenticate_to_ecr = False

    def grant_read_object(self, bucket: s3.IBucket, key: str) -> None:
        """Let SageMaker read one object, e.g. a code bundle in the CDK assets bucket."""
        self.s3_policy.add_statements(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(key)])
        )

    def grant_pass_role(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` (e.g. a Step Functions state machine) hand this role to SageMaker."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["iam:PassRole"],
            resource_arns=[self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )

    def _acknowledge(self, finding: str, reason: str) -> None:
        Validations.of(self.service_policy).acknowledge(
            Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
        )


def _cfn_policy(policy: iam.ManagedPolicy) -> iam.CfnManagedPolicy:
    return cast(iam.CfnManagedPolicy, policy.node.default_child)


def _s3_statements(
    read: Sequence[BucketPrefixes], write: Sequence[BucketPrefixes]
) -> list[iam.PolicyStatement]:
    statements = []
    for access in [*read, *write]:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[access.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in access.prefixes]}},
            )
        )
        statements.append(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=access.object_arns())
        )
    for access in write:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=access.object_arns(),
            )
        )
    return statements


def _key_statements(key: kms.IKey) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[key.key_arn],
        ),
        iam.PolicyStatement(
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def sagemaker_logs_statement(scope: Construct, log_groups: str) -> iam.PolicyStatement:
    """Let a SageMaker role create and write the log groups `log_groups` names (a name or a
    pattern, e.g. `/aws/sagemaker/Endpoints/*`) and their streams, in `scope`'s stack."""
    arn = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_groups,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return iam.PolicyStatement(
        actions=[
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        ],
        resources=[arn, f"{arn}:log-stream:*"],
    )


def _logs_and_metrics_statements(scope: Construct) -> list[iam.PolicyStatement]:
    return [
        sagemaker_logs_statement(scope, "/aws/sagemaker/*"),
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}},
        ),
    ]

"""The customer-managed KMS key that encrypts a stage's data at rest."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class EncryptionKey(Construct):
    """A symmetric customer-managed KMS key with yearly automatic rotation.

    The key policy is CDK's default (the account administers the key and IAM policies decide who
    may use it), so grants stay in the grantee's IAM policy and no key-policy edit couples stacks.
    Two service statements are added: CloudWatch Logs may encrypt this account's log groups,
    and EventBridge and CloudWatch alarms may publish to topics encrypted with the key.

    Attributes:
        key: the KMS key.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str = "Encrypts SageMaker data, models and endpoint storage",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        pending_window: Duration = Duration.days(30),
    ) -> None:
        """
        Args:
            description: shown in the KMS console.
            removal_policy: what happens to the key when it leaves the template. Default: RETAIN.
                With DESTROY the key is scheduled for deletion after `pending_window`.
            pending_window: waiting period (7 to 30 days) before a deleted key is gone.
                Default: 30 days.
        """
        super().__init__(scope, construct_id)
        days = pending_window.to_days()
        if not 7 <= days <= 30:
            raise ValueError(f"pending_window must be 7 to 30 days (got {days:g})")
        self.key = kms.Key(
            self,
            "Resource",
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=pending_window,
        )
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventsAndAlarmsPublishToEncryptedTopics",
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

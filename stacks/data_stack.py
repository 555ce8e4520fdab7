"""The stateful stack: the KMS key and the buckets. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from config import StageConfig
from constructs_lib import (
    BucketLifecycle,
    BucketSet,
    EncryptionKey,
    ModelPackageGroup,
    NotificationTopic,
)
from stacks.naming import pascal_case


class DataStack(Stack):
    """Key and buckets of a stage. Serving and training changes never touch this stack.

    Attributes:
        key: the stage's customer-managed KMS key.
        buckets: the data, artifacts and access-log buckets.
        model_groups: model package group names, by the training definition they serve.
        notifications: the topic told about failed trainings and alarms (its subscriptions
            are confirmed by people, so it lives with the other stateful resources).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SageMaker data: KMS key and encrypted buckets (stateful)",
            termination_protection=config.termination_protection,
            **kwargs,
        )
        removal_policy = RemovalPolicy(config.removal_policy.upper())
        self.key = EncryptionKey(
            self,
            "Key",
            removal_policy=removal_policy,
            pending_window=Duration.days(30 if config.production else 7),
        ).key
        storage = config.storage
        self.buckets = BucketSet(
            self,
            "Buckets",
            encryption_key=self.key,
            lifecycle=BucketLifecycle(
                noncurrent_version_expiration=Duration.days(
                    storage.noncurrent_version_expiration_days
                ),
                incomplete_multipart_upload_expiration=Duration.days(
                    storage.incomplete_multipart_upload_days
                ),
            ),
            access_log_expiration=Duration.days(storage.access_log_expiration_days),
            removal_policy=removal_policy,
            auto_delete_objects=config.auto_delete_objects,
            data_events=any(t.start_on_new_data for t in config.training.values()),
        )
        self.model_groups = {
            name: ModelPackageGroup(
                self,
                f"{pascal_case(name)}Models",
                group_name=f"{self.stack_name}-{name}",
                description=f"Versions of the {name} model, trained by its pipeline",
                removal_policy=removal_policy,
            ).group_name
            for name, training in sorted(config.training.items())
            if training.register_model
        }
        self.notifications = NotificationTopic(
            self, "Notifications", encryption_key=self.key, emails=config.notification_emails
        ).topic
        CfnOutput(self, "DataBucketName", value=self.buckets.data.bucket.bucket_name)
        CfnOutput(self, "ArtifactsBucketName", value=self.buckets.artifacts.bucket.bucket_name)
        CfnOutput(self, "KeyArn", value=self.key.key_arn)
        CfnOutput(self, "NotificationTopicArn", value=self.notifications.topic_arn)

"""Encrypted S3 buckets: one secure bucket, and the data / artifacts / access-log set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class BucketLifecycle:
    """How long superseded data is kept.

    Attributes:
        noncurrent_version_expiration: replaced or deleted object versions expire after this.
            Default: 90 days.
        incomplete_multipart_upload_expiration: unfinished multipart uploads are aborted after
            this. Default: 7 days.
    """

    noncurrent_version_expiration: Duration = Duration.days(90)
    incomplete_multipart_upload_expiration: Duration = Duration.days(7)


#: The feature flag under which CDK grants S3 log delivery by bucket policy instead of an ACL.
ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class EncryptedBucket(Construct):
    """An S3 bucket encrypted with a customer-managed KMS key, private and TLS-only.

    Versioning, block public access, bucket-owner-enforced ownership, a TLS-only bucket policy
    (TLS 1.2 minimum), server access logs and lifecycle rules for old versions and incomplete
    uploads are always on: none of them is an option.

    Attributes:
        bucket: the bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs: s3.IBucket,
        access_logs_prefix: str,
        lifecycle: BucketLifecycle | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        auto_delete_objects: bool = False,
        event_bridge: bool = False,
    ) -> None:
        """
        Args:
            encryption_key: the KMS key for SSE-KMS (with an S3 bucket key, to limit KMS calls).
            access_logs: the bucket that receives server access logs.
            access_logs_prefix: key prefix of this bucket's logs, e.g. `data/`. Must end in `/`.
            lifecycle: expiry of old versions and incomplete uploads. Default: `BucketLifecycle()`.
            removal_policy: what happens to the bucket when it leaves the template.
                Default: RETAIN.
            auto_delete_objects: empty the bucket when it is deleted. Needs DESTROY and adds a
                Lambda-backed custom resource. Default: false.
            event_bridge: send object events to EventBridge (to start pipelines on new data).
                Set on the bucket itself, with no custom resource. Default: false.
        """
        super().__init__(scope, construct_id)
        _check_prefix("access_logs_prefix", access_logs_prefix)
        _check_auto_delete(removal_policy, auto_delete_objects)
        lifecycle = lifecycle or BucketLifecycle()
        self.bucket = s3.Bucket(
            self,
            "Resource",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldVersionsAndIncompleteUploads",
                    noncurrent_version_expiration=lifecycle.noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=(
                        lifecycle.incomplete_multipart_upload_expiration
                    ),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete_objects,
        )
        if event_bridge:
            cfn_bucket = cast(s3.CfnBucket, self.bucket.node.default_child)
            cfn_bucket.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        _acknowledge_replication(self.bucket)


class AccessLogBucket(Construct):
    """The bucket that receives S3 server access logs of the other buckets.

    S3 log delivery cannot write to a bucket encrypted with a customer-managed KMS key, so this
    bucket uses SSE-S3; it holds request logs only, never data. It does not log itself.

    Attributes:
        bucket: the bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiration: Duration = Duration.days(365),
        lifecycle: BucketLifecycle | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        auto_delete_objects: bool = False,
    ) -> None:
        """
        Args:
            expiration: logs are deleted after this. Default: 365 days.
            lifecycle: expiry of old versions and incomplete uploads. Default: `BucketLifecycle()`.
            removal_policy: what happens to the bucket when it leaves the template.
                Default: RETAIN.
            auto_delete_objects: empty the bucket when it is deleted (needs DESTROY).
                Default: false.
        """
        super().__init__(scope, construct_id)
        # Log delivery is granted by this bucket's policy, not an ACL (ACLs are disabled here),
        # whatever the app's cdk.json says.
        self.node.set_context(ACCESS_LOGS_USE_BUCKET_POLICY, True)
        _check_auto_delete(removal_policy, auto_delete_objects)
        lifecycle = lifecycle or BucketLifecycle()
        self.bucket = s3.Bucket(
            self,
            "Resource",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireLogs",
                    expiration=expiration,
                    noncurrent_version_expiration=lifecycle.noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=(
                        lifecycle.incomplete_multipart_upload_expiration
                    ),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete_objects,
        )
        validations = Validations.of(self.bucket)
        validations.acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log destination; logging it into itself would loop.",
            ),
            Acknowledgment(
                id="HIPAA.Security-S3BucketLoggingEnabled",
                reason="This is the access-log destination; logging it into itself would loop.",
            ),
            Acknowledgment(
                id="NIST.800.53.R5-S3BucketLoggingEnabled",
                reason="This is the access-log destination; logging it into itself would loop.",
            ),
            Acknowledgment(
                id="HIPAA.Security-S3DefaultEncryptionKMS",
                reason="S3 server access log delivery supports only SSE-S3 on the target bucket.",
            ),
            Acknowledgment(
                id="NIST.800.53.R5-S3DefaultEncryptionKMS",
                reason="S3 server access log delivery supports only SSE-S3 on the target bucket.",
            ),
        )
        _acknowledge_replication(self.bucket)


class BucketSet(Construct):
    """The buckets of one stage: training data, model artifacts, and their access logs.

    Attributes:
        data: training and inference input data (`EncryptedBucket`).
        artifacts: model artifacts, checkpoints and captured endpoint traffic (`EncryptedBucket`).
        access_logs: server access logs of both (`AccessLogBucket`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        lifecycle: BucketLifecycle | None = None,
        access_log_expiration: Duration = Duration.days(365),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        auto_delete_objects: bool = False,
        data_events: bool = False,
    ) -> None:
        """
        Args:
            encryption_key: encrypts the data and artifacts buckets.
            lifecycle: expiry of old versions and incomplete uploads, for all three buckets.
                Default: `BucketLifecycle()`.
            access_log_expiration: access logs are deleted after this. Default: 365 days.
            removal_policy: for all three buckets. Default: RETAIN.
            auto_delete_objects: empty the buckets when they are deleted (needs DESTROY).
                Default: false.
            data_events: send the data bucket's object events to EventBridge. Default: false.
        """
        super().__init__(scope, construct_id)
        self.access_logs = AccessLogBucket(
            self,
            "AccessLogs",
            expiration=access_log_expiration,
            lifecycle=lifecycle,
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete_objects,
        )

        def encrypted(bucket_id: str, *, event_bridge: bool = False) -> EncryptedBucket:
            return EncryptedBucket(
                self,
                bucket_id,
                encryption_key=encryption_key,
                access_logs=self.access_logs.bucket,
                access_logs_prefix=f"{bucket_id.lower()}/",
                lifecycle=lifecycle,
                removal_policy=removal_policy,
                auto_delete_objects=auto_delete_objects,
                event_bridge=event_bridge,
            )

        self.data = encrypted("Data", event_bridge=data_events)
        self.artifacts = encrypted("Artifacts")


def _acknowledge_replication(bucket: s3.Bucket) -> None:
    reason = (
        "Cross-region replication is a disaster-recovery decision per deployment (it needs a "
        "second region, key and bucket); versioning keeps every object recoverable meanwhile."
    )
    Validations.of(bucket).acknowledge(
        Acknowledgment(id="HIPAA.Security-S3BucketReplicationEnabled", reason=reason),
        Acknowledgment(id="NIST.800.53.R5-S3BucketReplicationEnabled", reason=reason),
    )


def _check_prefix(prop: str, prefix: str) -> None:
    if not prefix or not prefix.endswith("/") or prefix.startswith("/"):
        raise ValueError(f"{prop} must be a key prefix like 'data/' (got {prefix!r})")


def _check_auto_delete(removal_policy: RemovalPolicy, auto_delete_objects: bool) -> None:
    if auto_delete_objects and removal_policy != RemovalPolicy.DESTROY:
        raise ValueError(
            "auto_delete_objects=True needs removal_policy=RemovalPolicy.DESTROY: "
            "a retained bucket must keep its objects"
        )

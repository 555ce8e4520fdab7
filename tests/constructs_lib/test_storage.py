"""Storage constructs need nothing from the app's cdk.json: log delivery is by bucket policy."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk.assertions import Template

from constructs_lib import AccessLogBucket, EncryptedBucket, EncryptionKey


def test_access_logs_are_delivered_by_bucket_policy_without_the_apps_feature_flag() -> None:
    app = cdk.App()  # no context at all: the flag is not set by the app
    stack = cdk.Stack(app, "Storage")
    key = EncryptionKey(stack, "Key")
    logs = AccessLogBucket(stack, "Logs")
    EncryptedBucket(
        stack, "Data", encryption_key=key.key, access_logs=logs.bucket, access_logs_prefix="data/"
    )

    template = Template.from_stack(stack)

    buckets = template.find_resources("AWS::S3::Bucket")
    assert [b["Properties"].get("AccessControl") for b in buckets.values()] == [None, None]
    statements = [
        statement
        for policy in template.find_resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert len(statements) == 1
    assert statements[0]["Action"] == "s3:PutObject"
    assert "/data/*" in json.dumps(statements[0]["Resource"])

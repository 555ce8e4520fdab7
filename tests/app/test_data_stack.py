"""The stateful stack: key and buckets, secure in every stage, protected in production."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

STAGES = ["Dev", "Prod"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_key_rotates(synthesized: SynthesizedApp, stage: str) -> None:
    template = synthesized.template(f"{stage}/Data")
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "KeySpec": Match.absent()}
    )


@pytest.mark.parametrize("stage", STAGES)
def test_data_and_artifacts_buckets_use_the_stage_key(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template(f"{stage}/Data")
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    kms_buckets = template.find_resources(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                            },
                        }
                    ]
                }
            }
        },
    )
    assert len(kms_buckets) == 2


@pytest.mark.parametrize("stage", STAGES)
def test_every_bucket_is_private_versioned_and_logged(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template(f"{stage}/Data")
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert properties["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
        }, logical_id
        rules = properties["LifecycleConfiguration"]["Rules"]
        assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
        assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1
    logged = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert sorted(b["Properties"]["LoggingConfiguration"]["LogFilePrefix"] for b in logged) == [
        "artifacts/",
        "data/",
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_every_bucket_refuses_plain_http_and_old_tls(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template(f"{stage}/Data")
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        denies = [
            s["Condition"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s["Action"] == "s3:*" and s["Principal"] == {"AWS": "*"}
        ]
        assert denies == [
            {"Bool": {"aws:SecureTransport": "false"}},
            {"NumericLessThan": {"s3:TlsVersion": 1.2}},
        ]


def test_dev_data_is_disposable(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("Dev/Data")
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        for resource in template.find_resources(resource_type).values():
            assert resource["DeletionPolicy"] == "Delete"
            assert resource["UpdateReplacePolicy"] == "Delete"
    template.has_resource_properties("AWS::KMS::Key", {"PendingWindowInDays": 7})
    assert synthesized.stacks["Dev/Data"].termination_protection is False


def test_prod_data_is_retained_and_protected(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("Prod/Data")
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        for resource in template.find_resources(resource_type).values():
            assert resource["DeletionPolicy"] == "Retain"
            assert resource["UpdateReplacePolicy"] == "Retain"
    template.has_resource_properties("AWS::KMS::Key", {"PendingWindowInDays": 30})
    assert synthesized.stacks["Prod/Data"].termination_protection is True


def test_prod_keeps_old_versions_longer_than_dev(synthesized: SynthesizedApp) -> None:
    def noncurrent_days(stage: str) -> set[int]:
        buckets = synthesized.template(f"{stage}/Data").find_resources("AWS::S3::Bucket")
        return {
            b["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"][
                "NoncurrentDays"
            ]
            for b in buckets.values()
        }

    assert noncurrent_days("Dev") == {7}
    assert noncurrent_days("Prod") == {90}


@pytest.mark.parametrize("stage", STAGES)
def test_stages_deploy_to_their_configured_account(synthesized: SynthesizedApp, stage: str) -> None:
    accounts = {"Dev": "123456789012", "Prod": "210987654321"}
    for path, stack in synthesized.stacks.items():
        if path.startswith(f"{stage}/"):
            assert stack.account == accounts[stage]
            assert stack.region == "us-east-1"

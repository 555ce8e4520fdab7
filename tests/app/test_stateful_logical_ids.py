"""Logical ids of stateful resources are pinned: a changed id means CloudFormation replaces
(deletes) the key or a bucket. If this test fails, the change would destroy data: restore the
construct ids instead of updating the list."""

from __future__ import annotations

import pytest

from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

STATEFUL_TYPES = ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::SageMaker::ModelPackageGroup")

PINNED = {
    "AWS::KMS::Key": ["KeyE447D366"],
    "AWS::S3::Bucket": [
        "BucketsAccessLogs0C4EFE68",
        "BucketsArtifacts7910A7AB",
        "BucketsData2BA7BAFB",
    ],
    "AWS::SageMaker::ModelPackageGroup": ["ChurnXgboostModels1B888C10"],
}


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_stateful_logical_ids_are_pinned(synthesized: SynthesizedApp, stage: str) -> None:
    template = synthesized.template(f"{stage}/Data")
    found = {
        resource_type: sorted(template.find_resources(resource_type))
        for resource_type in STATEFUL_TYPES
        if template.find_resources(resource_type)
    }
    assert found == PINNED


def test_stateful_resources_live_only_in_the_data_stacks(synthesized: SynthesizedApp) -> None:
    for path in synthesized.stacks:
        if path.endswith("/Data"):
            continue
        template = synthesized.template(path)
        for resource_type in STATEFUL_TYPES:
            assert not template.find_resources(resource_type), f"{resource_type} in {path}"

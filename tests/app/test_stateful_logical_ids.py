"""Logical ids of stateful resources are pinned: a changed id means CloudFormation replaces
(deletes) the key or a bucket. If this test fails, the change would destroy data: restore the
construct ids instead of updating the list."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config import DEFAULT_CONFIG_DIR
from tests.conftest import SynthesizedApp, synthesize

pytestmark = pytest.mark.xdist_group("app")

STATEFUL_TYPES = ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::SageMaker::ModelPackageGroup")

SHARED = {
    "AWS::KMS::Key": ["KeyE447D366"],
    "AWS::S3::Bucket": [
        "BucketsAccessLogs0C4EFE68",
        "BucketsArtifacts7910A7AB",
        "BucketsData2BA7BAFB",
    ],
}
PINNED = {
    "Dev": {
        **SHARED,
        "AWS::SageMaker::ModelPackageGroup": [
            "ChurnAutopilotModelsEF777E75",
            "ChurnXgboostModels1B888C10",
        ],
    },
    "Prod": {**SHARED, "AWS::SageMaker::ModelPackageGroup": ["ChurnXgboostModels1B888C10"]},
}


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_stateful_logical_ids_are_pinned(synthesized: SynthesizedApp, stage: str) -> None:
    template = synthesized.template(f"{stage}/Data")
    found = {
        resource_type: sorted(template.find_resources(resource_type))
        for resource_type in STATEFUL_TYPES
        if template.find_resources(resource_type)
    }
    assert found == PINNED[stage]


def test_stateful_resources_live_only_in_the_data_stacks(synthesized: SynthesizedApp) -> None:
    for path in synthesized.stacks:
        if path.endswith("/Data"):
            continue
        template = synthesized.template(path)
        for resource_type in STATEFUL_TYPES:
            assert not template.find_resources(resource_type), f"{resource_type} in {path}"


def test_training_and_serving_changes_move_no_stateful_resource(
    synthesized: SynthesizedApp, tmp_path: Path
) -> None:
    """Edit training and serving in both files: the Data stacks' stateful ids stay put."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for name in ("dev.yaml", "prod.yaml"):
        text = (DEFAULT_CONFIG_DIR / name).read_text()
        document = yaml.safe_load(text)
        for training in document["training"].values():
            if "autopilot" in training:
                continue  # Autopilot chooses its own instances and runtimes
            training["instance_type"] = "ml.c5.2xlarge"
            training["max_runtime_minutes"] = 45
            training.pop("spot", None)
        document["training"]["churn-xgboost"]["hyperparameters"]["max_depth"] = 8
        document["endpoints"].pop("churn-pytorch", None)
        document["endpoints"]["churn-xgboost"]["instance_type"] = "ml.c5.xlarge"
        (config_dir / name).write_text(yaml.safe_dump(document, sort_keys=False))

    changed = synthesize(tmp_path / "cdk.out", config_dir=str(config_dir))

    for stage in ("Dev", "Prod"):
        before, after = (
            {
                resource_type: sorted(app.template(f"{stage}/Data").find_resources(resource_type))
                for resource_type in STATEFUL_TYPES
            }
            for app in (synthesized, changed)
        )
        assert after == before
    assert changed.template_json("Dev/Training") != synthesized.template_json("Dev/Training")

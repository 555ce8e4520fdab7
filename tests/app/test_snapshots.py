"""Committed snapshots of every synthesized template: a pull request shows each infrastructure
change as a diff of `tests/app/__snapshots__/`. CI compares and never updates them; update
deliberately with `pytest tests/app/test_snapshots.py --snapshot-update` and review the diff.

JSON held in a string (state machine definitions, rendered as `Fn::Join`) is stored decoded,
as sorted, indented JSON (scripts/template_json.py), so that a changed hyperparameter is one
diff line naming its key rather than a changed 1,000-character line."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from scripts.template_json import readable
from tests.conftest import REPO_ROOT, SynthesizedApp, scrub_asset_hashes, synthesize

pytestmark = pytest.mark.xdist_group("app")

STACKS = [
    f"{stage}/{stack}"
    for stage in ("Dev", "Prod")
    for stack in ("Data", "Training", "Serving", "Batch")
]


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_stack_has_a_snapshot(synthesized: SynthesizedApp) -> None:
    assert sorted(synthesized.stacks) == sorted(STACKS)


@pytest.mark.parametrize("path", STACKS, ids=lambda path: path.replace("/", "-"))
def test_template_matches_snapshot(
    synthesized: SynthesizedApp, json_snapshot: SnapshotAssertion, path: str
) -> None:
    assert readable(scrub_asset_hashes(synthesized.template_json(path))) == json_snapshot


def test_a_changed_hyperparameter_is_one_line_of_the_snapshot_diff(
    synthesized: SynthesizedApp, tmp_path: Path
) -> None:
    """Edit `num_round` in a copy of config/dev.yaml, synthesize, and diff the serialized
    snapshots as `git diff` would: one line out, one line in, naming the hyperparameter."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for name in ("dev.yaml", "prod.yaml"):
        shutil.copy(REPO_ROOT / "config" / name, config_dir / name)
    dev = config_dir / "dev.yaml"
    assert "      num_round: 50\n" in dev.read_text()
    dev.write_text(dev.read_text().replace("      num_round: 50\n", "      num_round: 60\n", 1))
    changed = synthesize(tmp_path / "cdk.out", config_dir=str(config_dir))

    def snapshot_lines(app: SynthesizedApp) -> list[str]:
        template = readable(scrub_asset_hashes(app.template_json("Dev/Training")))
        return str(JSONSnapshotExtension().serialize(template)).splitlines()

    diff = [
        line
        for line in difflib.unified_diff(snapshot_lines(synthesized), snapshot_lines(changed))
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert diff == [
        '-                    "num_round": "50",',
        '+                    "num_round": "60",',
    ]

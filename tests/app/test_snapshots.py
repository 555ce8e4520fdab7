"""Committed snapshots of every synthesized template: a pull request shows each infrastructure
change as a diff of `tests/app/__snapshots__/`. CI compares and never updates them; update
deliberately with `pytest tests/app/test_snapshots.py --snapshot-update` and review the diff."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import SynthesizedApp, scrub_asset_hashes

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
    assert scrub_asset_hashes(synthesized.template_json(path)) == json_snapshot

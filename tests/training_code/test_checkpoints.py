"""Epoch checkpoints are written whole or not at all, and resume picks the newest usable one."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sagemaker_contract.checkpoints import Checkpoint, CheckpointStore
from sagemaker_contract.errors import ContractError

ARCHITECTURE = {"n_features": 4, "hidden_sizes": (8,), "num_classes": 2}


def save(store: CheckpointStore, epoch: int, payload: str = "weights") -> Path:
    return store.save(epoch, ARCHITECTURE, lambda d: (d / "state").write_text(f"{payload}{epoch}"))


def test_keeps_the_newest_and_never_shows_a_partial_one(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, keep=2)
    for epoch in (1, 2, 3):
        save(store, epoch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-00002", "epoch-00003"]
    (tmp_path / ".partial-epoch-00004-99").mkdir()  # a writer killed mid-way
    (tmp_path / "epoch-00009").mkdir()  # no metadata: an incomplete copy from S3
    assert [c.epoch for c in store.checkpoints()] == [3, 2]
    save(store, 4)
    assert not (tmp_path / ".partial-epoch-00004-99").exists()


def test_restore_loads_the_newest_and_returns_its_epoch(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store, 1)
    save(store, 2)
    loaded: list[str] = []

    def load(checkpoint: Checkpoint) -> None:
        loaded.append((checkpoint.directory / "state").read_text())

    assert store.restore(ARCHITECTURE, load) == 2
    assert loaded == ["weights2"]


def test_nothing_to_restore_starts_at_zero(tmp_path: Path) -> None:
    assert CheckpointStore(tmp_path / "absent").restore(ARCHITECTURE, lambda _: None) == 0


def test_an_unloadable_checkpoint_falls_back_to_an_older_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CheckpointStore(tmp_path)
    save(store, 1)
    save(store, 2)
    (tmp_path / "epoch-00002" / "state").unlink()

    def load(checkpoint: Checkpoint) -> None:
        (checkpoint.directory / "state").read_text()

    with caplog.at_level(logging.WARNING):
        assert store.restore(ARCHITECTURE, load) == 1
    assert "epoch-00002" in caplog.text
    assert "trying an older one" in caplog.text
    (tmp_path / "epoch-00001" / "state").unlink()
    with pytest.raises(ContractError, match=r"none of the 2 checkpoints in .* could be loaded"):
        store.restore(ARCHITECTURE, load)


def test_a_checkpoint_of_another_model_is_refused_by_name(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store, 1)
    changed = {**ARCHITECTURE, "hidden_sizes": (16, 8)}
    with pytest.raises(ContractError) as error:
        store.restore(changed, lambda _: None)
    assert str(error.value) == (
        f"the checkpoint in {tmp_path}/epoch-00001 does not match this job "
        "(hidden_sizes: [8] -> [16, 8]); use the job's original hyperparameters, or a new "
        "checkpoint location"
    )


def test_saving_an_epoch_again_replaces_it(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store, 1, "old")
    save(store, 1, "new")
    assert (tmp_path / "epoch-00001" / "state").read_text() == "new1"

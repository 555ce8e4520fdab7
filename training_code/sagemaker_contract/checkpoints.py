"""Checkpoints for managed spot training and restarts.

SageMaker syncs the checkpoint directory (``/opt/ml/checkpoints`` by default) with S3 both ways:
restored before the container starts, uploaded while it runs. Each completed epoch is written as
its own directory, ``epoch-00003/``, filled under a hidden temporary name and renamed into place,
so a kill at any moment leaves either the whole checkpoint or none. Resuming takes the newest one
that loads; an older one is the fallback when the newest arrived from S3 incomplete.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_contract.errors import ContractError

METADATA_FILE = "checkpoint.json"
_NAME = re.compile(r"^epoch-(\d+)$")
_PARTIAL_PREFIX = ".partial-"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """One saved epoch: its number, its directory and the metadata written with it."""

    epoch: int
    directory: Path
    metadata: Mapping[str, Any]


class CheckpointStore:
    """Writes, lists and restores epoch checkpoints in one directory; keeps the newest ``keep``."""

    def __init__(self, directory: Path, keep: int = 2) -> None:
        self.directory = directory
        self.keep = keep

    def save(self, epoch: int, metadata: Mapping[str, Any], write: Callable[[Path], None]) -> Path:
        """Let ``write`` fill a fresh directory, add the metadata, then move it into place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(f"{_PARTIAL_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = self.directory / f"{_PARTIAL_PREFIX}epoch-{epoch:05d}-{os.getpid()}"
        partial.mkdir()
        write(partial)
        (partial / METADATA_FILE).write_text(
            json.dumps({"epoch": epoch, **metadata}, sort_keys=True), encoding="utf-8"
        )
        final = self.directory / f"epoch-{epoch:05d}"
        if final.exists():  # the same epoch again, after resuming from an older checkpoint
            shutil.rmtree(final)
        partial.rename(final)
        for old in self.checkpoints()[self.keep :]:
            shutil.rmtree(old.directory, ignore_errors=True)
        return final

    def checkpoints(self) -> list[Checkpoint]:
        """Complete checkpoints, newest first (a directory without metadata is skipped)."""
        found = []
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                match = _NAME.match(entry.name)
                if match and (entry / METADATA_FILE).is_file():
                    try:
                        metadata = json.loads((entry / METADATA_FILE).read_text(encoding="utf-8"))
                    except (OSError, json.JSONDecodeError) as error:
                        log.warning(
                            "ignoring checkpoint %s: unreadable metadata (%s)", entry, error
                        )
                        continue
                    found.append(Checkpoint(int(match.group(1)), entry, metadata))
        return sorted(found, key=lambda checkpoint: checkpoint.epoch, reverse=True)

    def restore(self, expected: Mapping[str, Any], load: Callable[[Checkpoint], None]) -> int:
        """Load the newest usable checkpoint with ``load``; return its epoch, or 0 if none.

        ``expected`` is metadata that must match (the model's shape): resuming a job whose
        hyperparameters changed the model would fail obscurely, so it fails here by name.
        """
        candidates = self.checkpoints()
        wanted = json.loads(json.dumps(expected))  # compare as JSON: tuples become lists
        for checkpoint in candidates:
            changed = {
                key: (checkpoint.metadata.get(key), value)
                for key, value in wanted.items()
                if checkpoint.metadata.get(key) != value
            }
            if changed:
                details = "; ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
                raise ContractError(
                    f"the checkpoint in {checkpoint.directory} does not match this job "
                    f"({details}); use the job's original hyperparameters, or a new checkpoint "
                    "location"
                )
            try:
                load(checkpoint)
            except Exception as error:  # a broken checkpoint must not end the job
                log.warning(
                    "cannot load checkpoint %s (%s); trying an older one", checkpoint, error
                )
                continue
            log.info("resuming from %s (epoch %d)", checkpoint.directory, checkpoint.epoch)
            return checkpoint.epoch
        if candidates:
            raise ContractError(
                f"none of the {len(candidates)} checkpoints in {self.directory} could be loaded; "
                "see the log for each error, or remove them to start afresh"
            )
        return 0

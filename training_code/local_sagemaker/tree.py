"""A SageMaker ``/opt/ml`` tree under any directory, as SageMaker lays it out for a container."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Variables that must not leak from the caller's shell into a container run.
_CONTAINER_PREFIXES = ("SM_", "SAGEMAKER_", "TF_CONFIG", "CHECKPOINT_LOCAL_PATH")


@dataclass(frozen=True)
class SageMakerTree:
    """``base`` plays the part of ``/opt/ml`` (the code reads it from SAGEMAKER_BASE_DIR)."""

    base: Path

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        return self.base / "checkpoints"

    def write_config(
        self,
        hyperparameters: Mapping[str, object],
        *,
        channels: Iterable[str] = ("train", "validation"),
        hosts: tuple[str, ...] = ("algo-1",),
        current_host: str = "algo-1",
    ) -> None:
        """Write hyperparameters.json (every value a string), resourceconfig.json and
        inputdataconfig.json as SageMaker does before it starts the container."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "hyperparameters.json": {name: str(value) for name, value in hyperparameters.items()},
            "resourceconfig.json": {
                "current_host": current_host,
                "hosts": list(hosts),
                "network_interface_name": "eth0",
            },
            "inputdataconfig.json": {
                channel: {
                    "ContentType": "text/csv",
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                }
                for channel in channels
            },
        }
        for name, content in files.items():
            (self.config_dir / name).write_text(json.dumps(content, indent=2), encoding="utf-8")

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The caller's environment without container variables, pointed at this tree."""
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(_CONTAINER_PREFIXES)
        }
        environment.update(
            SAGEMAKER_BASE_DIR=str(self.base), PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2"
        )
        environment.update(extra or {})
        return environment

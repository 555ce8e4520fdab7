"""Where SageMaker puts a job's inputs and expects its outputs.

SageMaker itself only provides the ``/opt/ml`` tree. The ``SM_*`` variables come from the
sagemaker-training toolkit, which runs in script mode (an AWS Deep Learning Container running our
code) but not in our own image. So every path is read from its ``SM_*`` variable when present and
otherwise derived from the base directory, ``/opt/ml`` or ``SAGEMAKER_BASE_DIR`` (the toolkit's
own override, which the tests and the local loop use).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_contract.errors import ContractError

DEFAULT_BASE_DIR = Path("/opt/ml")
DEFAULT_HOST = "algo-1"
#: Not a toolkit variable: SageMaker does not tell the container its CheckpointConfig.LocalPath,
#: so a job that sets a non-default LocalPath passes it in its Environment under this name.
CHECKPOINT_DIR_VARIABLE = "CHECKPOINT_LOCAL_PATH"


def base_dir(environ: Mapping[str, str]) -> Path:
    """The root of the SageMaker tree: ``SAGEMAKER_BASE_DIR`` or ``/opt/ml``."""
    return Path(environ.get("SAGEMAKER_BASE_DIR") or DEFAULT_BASE_DIR)


def output_dir(environ: Mapping[str, str]) -> Path:
    """Where the failure file goes (``SM_OUTPUT_DIR`` or ``<base>/output``); never fails."""
    return Path(environ.get("SM_OUTPUT_DIR") or base_dir(environ) / "output")


def model_dir(environ: Mapping[str, str]) -> Path:
    """Where the model is written and read: ``SM_MODEL_DIR`` or ``<base>/model``."""
    return Path(environ.get("SM_MODEL_DIR") or base_dir(environ) / "model")


def read_json_file(path: Path, what: str) -> Any:
    """Parse a JSON file, turning a syntax error into a message that names the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ContractError(f"{what} {path} is not valid JSON: {error}") from error


def read_json_variable(environ: Mapping[str, str], name: str) -> Any:
    """Parse a JSON environment variable, turning a syntax error into a message naming it."""
    try:
        return json.loads(environ[name])
    except json.JSONDecodeError as error:
        raise ContractError(f"environment variable {name} is not valid JSON: {error}") from error


@dataclass(frozen=True)
class TrainingEnvironment:
    """The paths and cluster layout of one training container."""

    model_dir: Path
    input_dir: Path
    config_dir: Path
    output_dir: Path
    output_data_dir: Path
    checkpoint_dir: Path
    hosts: tuple[str, ...]
    current_host: str
    num_gpus: int | None
    channel_overrides: Mapping[str, Path]
    input_data_config: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> TrainingEnvironment:
        """Read the toolkit's variables, falling back to the /opt/ml tree under the base dir."""
        base = base_dir(environ)
        input_dir = Path(environ.get("SM_INPUT_DIR") or base / "input")
        config_dir = Path(environ.get("SM_INPUT_CONFIG_DIR") or input_dir / "config")
        hosts, current_host = _cluster(environ, config_dir)
        return cls(
            model_dir=model_dir(environ),
            input_dir=input_dir,
            config_dir=config_dir,
            output_dir=output_dir(environ),
            output_data_dir=Path(environ.get("SM_OUTPUT_DATA_DIR") or base / "output" / "data"),
            checkpoint_dir=Path(environ.get(CHECKPOINT_DIR_VARIABLE) or base / "checkpoints"),
            hosts=hosts,
            current_host=current_host,
            num_gpus=_num_gpus(environ),
            channel_overrides={
                name.removeprefix("SM_CHANNEL_").lower(): Path(value)
                for name, value in environ.items()
                if name.startswith("SM_CHANNEL_") and value
            },
            input_data_config=_input_data_config(environ, config_dir),
        )

    def channel_dir(self, channel: str) -> Path:
        """``SM_CHANNEL_<NAME>`` or ``<input>/data/<channel>``."""
        return self.channel_overrides.get(channel, self.input_dir / "data" / channel)

    @property
    def host_rank(self) -> int:
        """This host's position in the sorted hosts list; host 0 is the leader."""
        return self.hosts.index(self.current_host)


def _cluster(environ: Mapping[str, str], config_dir: Path) -> tuple[tuple[str, ...], str]:
    resource_config_path = config_dir / "resourceconfig.json"
    resource_config: dict[str, Any] = {}
    if resource_config_path.is_file():
        resource_config = read_json_file(resource_config_path, "resource config")
    hosts = (
        read_json_variable(environ, "SM_HOSTS")
        if environ.get("SM_HOSTS")
        else resource_config.get("hosts", [DEFAULT_HOST])
    )
    if not (isinstance(hosts, list) and hosts and all(isinstance(h, str) for h in hosts)):
        raise ContractError(f"the hosts list must be a non-empty list of names, got {hosts!r}")
    current_host = str(
        environ.get("SM_CURRENT_HOST") or resource_config.get("current_host", hosts[0])
    )
    if current_host not in hosts:
        raise ContractError(f"current host {current_host!r} is not in the hosts list {hosts}")
    return tuple(sorted(hosts)), current_host


def _input_data_config(
    environ: Mapping[str, str], config_dir: Path
) -> Mapping[str, Mapping[str, Any]]:
    if environ.get("SM_INPUT_DATA_CONFIG"):
        config = read_json_variable(environ, "SM_INPUT_DATA_CONFIG")
    elif (config_dir / "inputdataconfig.json").is_file():
        config = read_json_file(config_dir / "inputdataconfig.json", "input data config")
    else:
        config = {}
    if not isinstance(config, dict):
        raise ContractError(f"the input data config must be a JSON object, got {config!r}")
    return config


def _num_gpus(environ: Mapping[str, str]) -> int | None:
    value = environ.get("SM_NUM_GPUS")
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ContractError(f"SM_NUM_GPUS must be a whole number >= 0, got {value!r}")
    return count

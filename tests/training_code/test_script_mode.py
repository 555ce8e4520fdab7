"""Script mode: an AWS Deep Learning Container runs our code from /opt/ml/code.

The training toolkit extracts the source dir (``training_code/``) to /opt/ml/code, runs
``python <sagemaker_program>`` there (``pytorch/train.py`` or ``tensorflow/train.py``) with
hyperparameters as ``--name value`` flags, and describes the job in ``SM_*`` variables.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import FRAMEWORKS, QUIET_THREADS, SAFETY_TIMEOUT_S, TRAINING_CODE, metric_lines


def run_script_mode(
    framework: str, tmp_path: Path, flags: list[str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Lay out /opt/ml/code and the toolkit's variables under ``tmp_path``, run the program."""
    code = tmp_path / "opt" / "ml" / "code"
    shutil.copytree(
        TRAINING_CODE, code, ignore=shutil.ignore_patterns("__pycache__", "local_sagemaker")
    )
    channels = write_channels(tmp_path / "data", train_rows=300, validation_rows=100)
    variables = {
        "SM_CHANNEL_TRAIN": str(channels["train"].parent),
        "SM_CHANNEL_VALIDATION": str(channels["validation"].parent),
        "SM_CHANNELS": json.dumps(["train", "validation"]),
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DIR": str(tmp_path / "output"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output" / "data"),
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_CURRENT_HOST": "algo-1",
        "SM_NUM_GPUS": "0",
        "SM_HPS": json.dumps({"epochs": 1}),
        "CHECKPOINT_LOCAL_PATH": str(tmp_path / "checkpoints"),
        **QUIET_THREADS,
    }
    # SAGEMAKER_BASE_DIR points at a directory that must stay unused: SM_* say where things are.
    environment = SageMakerTree(tmp_path / "unused").environment(variables)
    result = subprocess.run(
        [sys.executable, f"{framework}/train.py", *flags],
        cwd=code,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=SAFETY_TIMEOUT_S,
    )
    return result, variables


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_trains_from_the_source_dir_with_the_toolkit_variables(
    framework: str, tmp_path: Path
) -> None:
    flags = ["--epochs", "2", "--hidden_sizes", "[16, 8]", "--batch_size", "32"]
    result, variables = run_script_mode(framework, tmp_path, flags)
    assert result.returncode == 0, result.stderr
    assert len(metric_lines(result.stdout)) == 2  # the flags win over SM_HPS
    assert any(Path(variables["SM_MODEL_DIR"]).iterdir())
    assert (Path(variables["CHECKPOINT_LOCAL_PATH"]) / "epoch-00002").is_dir()
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_bad_flag_fails_into_sm_output_dir(framework: str, tmp_path: Path) -> None:
    result, variables = run_script_mode(framework, tmp_path, ["--batch_size", "zero"])
    assert result.returncode == 1
    failure = (Path(variables["SM_OUTPUT_DIR"]) / "failure").read_text()
    assert failure == (
        "hyperparameter batch_size='zero' is invalid: must be auto or a whole number >= 1\n"
    )
    assert result.stderr.endswith(failure)  # the toolkit builds its own failure reason from stderr

"""The saved PyTorch model under the torch of AWS's newest PyTorch inference container (2.6).

Script-mode serving runs in ``pytorch-inference`` 2.6 (the newest the pinned SageMaker SDK knows),
while training uses torch 2.13. The model is saved as plain tensors (``model.pth``, loaded with
``weights_only=True``) plus its architecture as JSON (``model_spec.json``): no pickled classes.
This test loads it with ``code/inference.py`` under an older torch and compares the predictions
with torch 2.13's. PyPI has no CPU-only torch 2.6 wheel for Linux, and the CUDA one needs its
CUDA wheels to import (5.3 GB installed). So this check is not part of the suite (its file name
does not start with ``test_``); run it by naming the file, with that folder:

    pip install --target /tmp/torch-2.6 torch==2.6.0 numpy
    OLDER_TORCH_PATH=/tmp/torch-2.6 pytest -n 0 tests/aws_toolkits/check_older_torch.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training_code.local_sagemaker.containers import pack_model, run_training, unpack_model
from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import QUIET_THREADS

OLDER_TORCH_PATH = os.environ.get("OLDER_TORCH_PATH")
#: Runs in the serving process: the model.tar.gz's code/ first, as the containers put it.
_PREDICT = """
import json, sys, torch
sys.path.insert(0, sys.argv[1] + "/code")
import inference
model = inference.model_fn(sys.argv[1])
body, content_type = inference.transform_fn(model, sys.stdin.read(), "text/csv", "application/json")
print(json.dumps({"torch": torch.__version__, "answer": json.loads(body)}))
"""


def predict(model_dir: Path, rows: str, python_path: str | None) -> dict[str, object]:
    environment = {**os.environ, **QUIET_THREADS}
    executable = sys.executable
    if python_path is not None:  # the older torch alone: no project venv on the path
        environment["PYTHONPATH"] = python_path
        executable = sys._base_executable  # type: ignore[attr-defined]  # venv's base Python
    result = subprocess.run(
        [executable, "-c", _PREDICT, str(model_dir)],
        input=rows,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_the_saved_model_predicts_the_same_under_torch_2_6(tmp_path: Path) -> None:
    assert OLDER_TORCH_PATH, "set OLDER_TORCH_PATH to a folder with torch 2.6 (see the docstring)"
    tree = SageMakerTree(tmp_path / "training")
    channels = write_channels(tree.data_dir, train_rows=300, validation_rows=20)
    tree.write_config({"epochs": "3", "hidden_sizes": "[16, 8]", "batch_size": "32"})
    result = run_training("pytorch", tree, extra_env=QUIET_THREADS, timeout=300)
    assert result.returncode == 0, result.stderr
    model_dir = unpack_model(
        pack_model(tree.model_dir, tmp_path / "model.tar.gz"), tmp_path / "serving"
    )
    rows = "".join(
        line.split(",", 1)[1] + "\n" for line in channels["validation"].read_text().splitlines()
    )
    newer = predict(model_dir, rows, None)
    older = predict(model_dir, rows, OLDER_TORCH_PATH)
    assert str(older["torch"]).startswith("2.6."), older["torch"]
    old, new = (answer["answer"]["predictions"] for answer in (older, newer))  # type: ignore[index]
    assert [p["predicted_label"] for p in old] == [p["predicted_label"] for p in new]
    for old_row, new_row in zip(old, new, strict=True):
        assert old_row["probabilities"] == pytest.approx(new_row["probabilities"], abs=2e-6)

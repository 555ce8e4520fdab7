"""Script mode under AWS's training toolkits, started as the Deep Learning Containers start it.

The DLCs run ``train`` (``sagemaker-training``), which imports the module named by
``SAGEMAKER_TRAINING_MODULE`` (``sagemaker_pytorch_container.training:main`` in the PyTorch
images, ``sagemaker_tensorflow_container.training:main`` in the TensorFlow ones); that module
extracts ``sagemaker_submit_directory`` into /opt/ml/code and runs ``sagemaker_program`` with the
hyperparameters as flags. Here ``SAGEMAKER_BASE_DIR`` stands for /opt/ml, and the ``code``
channel holds the source bundle the app really ships: the tarball that synthesizing the app
writes into its cloud assembly for the Dev ``churn-pytorch`` definition, with the
hyperparameters of that definition's state machine. The app has no TensorFlow script-mode
definition; the TensorFlow run uses the same bundle with the program such a definition gets
(``tensorflow/train.py``, ``stacks/custom_models.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SynthesizedApp
from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import toolkit_environment

pytestmark = pytest.mark.xdist_group("app")  # shares the session's synthesized app

DEFINITION = "ChurnPytorch"  # the Dev Training stack's state machine of churn-pytorch
TRAINING_MODULES = {
    "pytorch": "sagemaker_pytorch_container.training:main",
    "tensorflow": "sagemaker_tensorflow_container.training:main",
}
CONTAINER_BASE = "/opt/ml"


@dataclass(frozen=True)
class ShippedCode:
    """What the app gives a script-mode training job: the bundle and the hyperparameters."""

    bundle: Path
    object_key: str
    hyperparameters: dict[str, str]


@pytest.fixture(scope="module")
def shipped(synthesized: SynthesizedApp) -> ShippedCode:
    manifest_path = next(synthesized.outdir.rglob("DevTraining*.assets.json"))
    files = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    (bundle,) = [
        (manifest_path.parent / entry["source"]["path"]).resolve()
        for entry in files.values()
        if entry["source"]["path"].endswith(".tar.gz")
    ]
    (object_key,) = [
        destination["objectKey"]
        for entry in files.values()
        if entry["source"]["path"].endswith(".tar.gz")
        for destination in entry["destinations"].values()
    ]
    hyperparameters = _training_hyperparameters(synthesized.template_json("Dev/Training"))
    return ShippedCode(bundle, object_key, hyperparameters)


def _training_hyperparameters(template: dict[str, Any]) -> dict[str, str]:
    """The CreateTrainingJob HyperParameters in the definition's state machine."""
    (machine,) = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and logical_id.startswith(DEFINITION)
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
    found: list[dict[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("HyperParameters"), dict):
                found.append(node["HyperParameters"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    (hyperparameters,) = found
    return hyperparameters


def run_train(
    framework: str,
    shipped: ShippedCode,
    base: Path,
    toolkits: Path,
    **overrides: str,
) -> tuple[subprocess.CompletedProcess[str], SageMakerTree]:
    """SageMaker's /opt/ml under ``base``, then ``train`` as the framework's DLC runs it."""
    tree = SageMakerTree(base)
    code_channel = tree.data_dir / "code"
    code_channel.mkdir(parents=True)
    shutil.copyfile(shipped.bundle, code_channel / shipped.object_key)  # the S3 object
    write_channels(tree.data_dir, train_rows=300, validation_rows=100)
    hyperparameters = {**shipped.hyperparameters, **overrides}
    hyperparameters["sagemaker_program"] = json.dumps(f"{framework}/train.py")
    submit_directory = json.loads(hyperparameters["sagemaker_submit_directory"])
    assert submit_directory == f"{CONTAINER_BASE}/input/data/code/{shipped.object_key}"
    hyperparameters["sagemaker_submit_directory"] = json.dumps(
        str(base) + submit_directory.removeprefix(CONTAINER_BASE)
    )
    # The PyTorch toolkit waits until every host name resolves; SageMaker's algo-1 resolves
    # only inside a training cluster, so the one host is named localhost here.
    tree.write_config(
        hyperparameters,
        channels=("train", "validation", "code"),
        hosts=("localhost",),
        current_host="localhost",
    )
    environment = toolkit_environment(
        toolkits,
        SAGEMAKER_BASE_DIR=str(base),
        SAGEMAKER_TRAINING_MODULE=TRAINING_MODULES[framework],
    )
    result = subprocess.run(
        [sys.executable, str(toolkits / "bin" / "train")],
        env=environment,
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return result, tree


def test_the_shipped_definition_is_script_mode_with_its_bundle(shipped: ShippedCode) -> None:
    assert json.loads(shipped.hyperparameters["sagemaker_program"]) == "pytorch/train.py"
    assert shipped.bundle.is_file()


@pytest.mark.parametrize("framework", TRAINING_MODULES)
def test_train_writes_the_model_and_prints_metrics(
    framework: str, shipped: ShippedCode, toolkits: Path, tmp_path: Path
) -> None:
    result, tree = run_train(framework, shipped, tmp_path, toolkits, epochs="2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tree.base / "code" / framework / "train.py").is_file()  # extracted by the toolkit
    metrics = [line for line in result.stdout.splitlines() if line.startswith("metric epoch=")]
    assert [line.split()[1] for line in metrics] == ["epoch=1", "epoch=2"]
    assert "validation_accuracy=" in metrics[-1]
    saved = {path.relative_to(tree.model_dir).as_posix() for path in tree.model_dir.rglob("*")}
    if framework == "pytorch":
        assert {"model.pth", "model_spec.json", "code/inference.py"} <= saved
    else:
        assert {"1/saved_model.pb", "1/variables"} <= saved
    assert not tree.failure_file.exists()


@pytest.mark.parametrize("framework", TRAINING_MODULES)
def test_a_bad_hyperparameter_ends_as_the_failure_file_with_our_message(
    framework: str, shipped: ShippedCode, toolkits: Path, tmp_path: Path
) -> None:
    result, tree = run_train(framework, shipped, tmp_path, toolkits, batch_size="zero")
    assert result.returncode != 0
    assert tree.failure_file.read_text(encoding="utf-8") == (
        "hyperparameter batch_size='zero' is invalid: must be auto or a whole number >= 1\n"
    )

"""The training entry points honour SageMaker's training contract, run as SageMaker runs them.

``docker run IMAGE train`` is the image's ENTRYPOINT, ``entrypoint.py <framework> train``, run
here as a process against a SageMaker tree in a temporary directory.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sagemaker_contract.metrics import METRIC_NAMES

from training_code.local_sagemaker.containers import container_command
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import (
    FAST,
    FRAMEWORKS,
    QUIET_THREADS,
    SAFETY_TIMEOUT_S,
    TRAINING_CODE,
    TrainedModel,
    Trainings,
    make_tree,
    metric_lines,
    train,
)


def serving_files(model_dir: Path) -> set[str]:
    return {str(p.relative_to(model_dir)) for p in model_dir.rglob("*") if p.is_file()}


def test_model_is_saved_in_the_serving_layout(trained: TrainedModel) -> None:
    files = serving_files(trained.tree.model_dir)
    if trained.framework == "pytorch":
        # The PyTorch inference toolkit's layout: model.pth + code/inference.py (+ imports).
        assert {"model.pth", "model_spec.json", "code/inference.py", "code/torch_model.py"} <= files
        assert "code/sagemaker_contract/payloads.py" in files
        spec = json.loads((trained.tree.model_dir / "model_spec.json").read_text())
        assert spec == {"n_features": 8, "hidden_sizes": [16, 8], "dropout": 0.1, "num_classes": 3}
    else:
        # TensorFlow Serving's layout: <model>/<version>/saved_model.pb + variables/.
        assert {"1/saved_model.pb", "1/variables/variables.index"} <= files
    assert not trained.tree.failure_file.exists()


def test_a_checkpoint_per_epoch(trained: TrainedModel) -> None:
    checkpoints = sorted(p.name for p in trained.tree.checkpoint_dir.iterdir())
    assert checkpoints == ["epoch-00001", "epoch-00002"]


def test_one_metric_line_per_epoch(trained: TrainedModel) -> None:
    lines = metric_lines(trained.result.stdout)
    assert [line.split()[1] for line in lines] == ["epoch=1", "epoch=2"]
    for line in lines:
        assert [field.split("=")[0] for field in line.split()[2:]] == list(METRIC_NAMES)


def test_metric_definitions_capture_every_metric_from_real_output(trained: TrainedModel) -> None:
    definitions = json.loads((TRAINING_CODE / "metric_definitions.json").read_text())
    covered = set()
    for definition in definitions:
        assert set(definition) == {"Name", "Regex"}
        key = re.search(r"(\w+)=\(", definition["Regex"])
        assert key, definition
        covered.add(key.group(1))
        for line in metric_lines(trained.result.stdout):
            printed = dict(field.split("=") for field in line.split()[1:])
            match = re.search(definition["Regex"], line)
            assert match, (definition, line)
            assert float(match.group(1)) == float(printed[key.group(1)])
    assert covered == {"epoch", *METRIC_NAMES}


@pytest.mark.xdist_group("pytorch-model")
def test_a_changed_architecture_does_not_resume_from_old_checkpoints(
    trainings: Trainings, tmp_path: Path
) -> None:
    trained = trainings.get("pytorch")  # the check is shared; one framework suffices
    tree = make_tree(tmp_path, {**FAST, "hidden_sizes": "[32]"})
    shutil.copytree(trained.tree.checkpoint_dir, tree.checkpoint_dir)
    result = train(trained.framework, tree)
    assert result.returncode == 1
    assert tree.failure_file.read_text().startswith(
        f"the checkpoint in {tree.checkpoint_dir}/epoch-00002 does not match this job "
        "(hidden_sizes: [16, 8] -> [32]); use the job's original hyperparameters"
    )


def missing_channel(tree: SageMakerTree) -> str:
    shutil.rmtree(tree.data_dir / "train")
    return f"channel 'train' is missing: {tree.data_dir}/train is not a directory"


def empty_file(tree: SageMakerTree) -> str:
    (tree.data_dir / "validation" / "validation.csv").write_text("")
    return f"{tree.data_dir}/validation/validation.csv is empty; a CSV file needs at least one row"


def non_numeric_cell(tree: SageMakerTree) -> str:
    path = tree.data_dir / "train" / "train.csv"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0] + ",n/a"
    path.write_text("\n".join(lines) + "\n")
    return f"{path}: row 5, column 9: 'n/a' is not a number"


def bad_hyperparameter(tree: SageMakerTree) -> str:
    tree.write_config({**FAST, "dropout": "1.5"})
    return "hyperparameter dropout='1.5' is invalid: must be a number >= 0 and < 1"


def unknown_hyperparameter(tree: SageMakerTree) -> str:
    tree.write_config({**FAST, "epoch": "3"})
    return "unknown hyperparameter(s) epoch; accepted: epochs, batch_size, learning_rate,"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    "break_job",
    [missing_channel, empty_file, non_numeric_cell, bad_hyperparameter, unknown_hyperparameter],
)
def test_user_errors_write_the_failure_file_and_exit_non_zero(
    framework: str, break_job: Callable[[SageMakerTree], str], tmp_path: Path
) -> None:
    tree = make_tree(tmp_path)
    expected = break_job(tree)
    result = train(framework, tree)
    assert result.returncode == 1
    failure = tree.failure_file.read_text()
    assert failure.startswith(expected)
    assert len(failure.splitlines()[0]) <= 1024
    assert result.stderr.rstrip().endswith(failure.rstrip())  # what script mode's toolkit reads
    assert not tree.model_dir.exists()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_diverging_loss_fails_the_job(framework: str, tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {**FAST, "learning_rate": "1e30"})
    result = train(framework, tree)
    assert result.returncode == 1
    assert tree.failure_file.read_text() == (
        "training diverged: train_loss is nan at epoch 1; lower learning_rate (now 1e+30) or "
        "check the data for extreme values\n"
    )


def wait_for_a_checkpoint(directory: Path, process: subprocess.Popen[str]) -> None:
    """Wait until some epoch's checkpoint is complete (its metadata is written last). Any epoch:
    the store keeps only the newest, so on a busy machine epoch 1's may be gone before this looks.
    The time limit is a safety net for a loaded machine only."""
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while not any(directory.glob("epoch-*/checkpoint.json")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no checkpoint in {directory} in {SAFETY_TIMEOUT_S} s"
        time.sleep(0.05)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sigterm_keeps_completed_epochs_and_the_next_run_resumes(
    framework: str, tmp_path: Path
) -> None:
    # Long enough to be stopped mid-way: 1000 epochs and no early stopping.
    long_run = {
        "epochs": "1000",
        "batch_size": "8",
        "hidden_sizes": "[16]",
        "early_stopping_patience": "0",
    }
    tree = make_tree(tmp_path, long_run, train_rows=400)
    process = subprocess.Popen(
        container_command(framework, "train"),
        env=tree.environment(QUIET_THREADS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_a_checkpoint(tree.checkpoint_dir, process)
    process.send_signal(signal.SIGTERM)  # spot interruption or StopTrainingJob
    _, stderr = process.communicate(timeout=SAFETY_TIMEOUT_S)
    assert process.returncode == 0, stderr
    assert "received SIGTERM: stopping after the current batch" in stderr
    assert not tree.failure_file.exists()
    assert any(tree.model_dir.iterdir())  # the model so far is kept, as StopTrainingJob allows
    saved = max(int(p.name.removeprefix("epoch-")) for p in tree.checkpoint_dir.iterdir())
    assert 1 <= saved < 1000

    # SageMaker restarts the job with the checkpoints restored; this run asks for two more epochs.
    tree.write_config({**long_run, "epochs": str(saved + 2)})
    result = train(framework, tree)
    assert result.returncode == 0, result.stderr
    assert f"resuming from {tree.checkpoint_dir}/epoch-{saved:05d} (epoch {saved})" in result.stderr
    epochs = [line.split()[1] for line in metric_lines(result.stdout)]
    assert epochs == [f"epoch={saved + 1}", f"epoch={saved + 2}"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_without_a_validation_channel_rows_are_held_out_and_the_best_epoch_is_saved(
    framework: str, tmp_path: Path
) -> None:
    settings = {"epochs": "60", "batch_size": "8", "hidden_sizes": "[16]"}
    tree = make_tree(tmp_path, {**settings, "early_stopping_patience": "2"}, channels=("train",))
    result = train(framework, tree)
    assert result.returncode == 0, result.stderr
    held_out = re.search(r"train: (\d+) rows .* validation: (\d+) rows held out", result.stderr)
    assert held_out, result.stderr
    assert int(held_out.group(1)) + int(held_out.group(2)) == 300
    assert int(held_out.group(2)) == pytest.approx(60, abs=2)  # 20 % of each class
    lines = metric_lines(result.stdout)
    losses = [float(line.split("validation_loss=")[1].split()[0]) for line in lines]
    best = losses.index(min(losses)) + 1
    assert len(losses) == best + 2 < 60  # stopped two epochs after the best one
    assert f"model of epoch {best} (of {best + 2}) saved" in result.stderr


def test_pytorch_starts_torchrun_for_several_processes(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {**FAST, "processes_per_host": "2"})
    result = train("pytorch", tree)
    assert result.returncode == 0, result.stderr
    assert "torch.distributed.run --nproc-per-node=2 --standalone" in result.stderr
    assert "processes=2" in result.stderr
    assert len(metric_lines(result.stdout)) == 2  # only rank 0 reports
    assert (tree.model_dir / "model.pth").is_file()


def test_pytorch_refuses_more_processes_than_batch_rows_before_launching(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {**FAST, "processes_per_host": "4", "batch_size": "2"})
    result = train("pytorch", tree)
    assert result.returncode == 1
    assert "launching" not in result.stderr
    assert tree.failure_file.read_text().startswith(
        "batch_size=2 and the 300 train rows must each be at least the number of training "
        "replicas (4)"
    )


def test_entrypoint_usage(tmp_path: Path) -> None:
    result = subprocess.run(
        container_command("pytorch", "fit"),
        env=SageMakerTree(tmp_path).environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr == "usage: entrypoint.py FRAMEWORK_DIR {train [--name value ...] | serve}\n"
    )

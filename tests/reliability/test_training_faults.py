"""Training faults the training-code tests do not cover yet, through the real `train` entry point.

Already covered in tests/training_code/test_training.py, for both frameworks: a missing channel,
an empty CSV file, a non-numeric cell, a bad or unknown hyperparameter (all
`test_user_errors_write_the_failure_file_and_exit_non_zero`), a loss made NaN by an absurd
learning rate (`test_a_diverging_loss_fails_the_job`), and SIGTERM then a restart that resumes
from the saved epoch (`test_sigterm_keeps_completed_epochs_and_the_next_run_resumes`).

Here: a channel with no files; data that would make the loss NaN at the default learning rate
(refused before training, on every CPU); a layer too large for memory; and the epoch accounting
across an interruption, for SIGTERM (spot interruption, StopTrainingJob) and SIGKILL (no grace:
the host is gone or the 120 s ran out): every epoch the stopped run completed is kept, the
restart continues right after the newest checkpoint, and no more than the epoch in progress is
redone.

Nothing here depends on the CPU or on the machine's load: faults are provoked where our own code
sees them (not by hoping a kernel overflows), failures are asserted in our own words (not an
allocator's), and interruptions wait for a checkpoint file, with time limits only as a safety net.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from training_code.local_sagemaker.containers import FRAMEWORKS, container_command, run_training
from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import with_memory_limit

#: A few seconds of training per run.
FAST = {"epochs": "2", "hidden_sizes": "[16, 8]", "batch_size": "32"}
#: One thread per process: the tests run in parallel on few cores.
THREADS = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
#: Address space for the out-of-memory case: training this small model fits easily (both
#: frameworks train under it), a 32 TB layer cannot, whatever the kernel's overcommit setting.
MEMORY_LIMIT_BYTES = 8 << 30
FLOAT32_NEAR_MAX = "3.4e38"  # finite in float32 (max 3.4028e38), so the cell checks accept it
#: Safety net only, for a loaded machine: every wait below ends on an event long before.
SAFETY_TIMEOUT_S = 900


def make_tree(base: Path, hyperparameters: Mapping[str, str] = FAST) -> SageMakerTree:
    tree = SageMakerTree(base)
    write_channels(tree.data_dir, train_rows=300, validation_rows=100)
    tree.write_config(hyperparameters)
    return tree


def train(framework: str, tree: SageMakerTree) -> subprocess.CompletedProcess[str]:
    return run_training(framework, tree, extra_env=THREADS, timeout=SAFETY_TIMEOUT_S)


def metric_epochs(stdout: str) -> list[int]:
    """The epoch of every metric line, in order (one line per completed epoch)."""
    return [
        int(line.split()[1].removeprefix("epoch="))
        for line in stdout.splitlines()
        if line.startswith("metric ")
    ]


def checkpoint_epochs(tree: SageMakerTree) -> list[int]:
    """The epochs of the complete checkpoints (those with their metadata written)."""
    return sorted(
        int(path.parent.name.removeprefix("epoch-"))
        for path in tree.checkpoint_dir.glob("epoch-*/checkpoint.json")
    )


def assert_failed_with(result: subprocess.CompletedProcess[str], tree: SageMakerTree) -> str:
    """Exit 1, the reason in the failure file and last on stderr, no model; returns the reason."""
    assert result.returncode == 1, result.stderr[-3000:]
    failure = tree.failure_file.read_text(encoding="utf-8")
    assert result.stderr.rstrip().endswith(failure.rstrip())  # what script mode's toolkit reads
    assert not tree.model_dir.exists() or not any(tree.model_dir.iterdir())
    return failure


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_channel_without_files_fails_the_job(framework: str, tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tree.data_dir / "train" / "train.csv").unlink()  # the channel exists, but holds nothing

    failure = assert_failed_with(train(framework, tree), tree)

    assert failure.startswith(f"channel 'train' has no files in {tree.data_dir}/train")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_data_that_would_make_the_loss_nan_fails_the_job_before_training(
    framework: str, tmp_path: Path
) -> None:
    """Each value is a finite float32, but standardising the column overflows float32. Whether
    the model's kernels would then produce a NaN loss depends on the CPU (oneDNN on AVX-512 and
    AMX computes it without overflowing), so the job checks the data itself, on every CPU."""
    tree = make_tree(tmp_path)
    path = tree.data_dir / "train" / "train.csv"
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    for number, cells in enumerate(rows):
        cells[1] = FLOAT32_NEAR_MAX if number % 3 else f"-{FLOAT32_NEAR_MAX}"
    path.write_text("".join(",".join(cells) + "\n" for cells in rows), encoding="utf-8")

    result = train(framework, tree)

    failure = assert_failed_with(result, tree)
    assert failure == (
        f"{path}: row 1, column 2: -3.4e+38 is too far from its column's train mean (1.13333e+38):"
        " standardising it overflows float32 and training would diverge; rescale that column so "
        "that its values differ by less than 3.4e38\n"
    )
    assert metric_epochs(result.stdout) == []
    assert checkpoint_epochs(tree) == []  # a resumed job never starts from NaN weights


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_layer_too_large_for_memory_fails_the_job_with_what_to_change(
    framework: str, tmp_path: Path
) -> None:
    """Whichever allocator fails (its name and wording vary by build and CPU), the reason starts
    with our advice; the framework's own detail and the traceback follow it."""
    tree = make_tree(tmp_path, {**FAST, "hidden_sizes": "[1000000000000]"})  # 8 x 10**12 floats

    result = subprocess.run(
        with_memory_limit(container_command(framework, "train"), "RLIMIT_AS", MEMORY_LIMIT_BYTES),
        env=tree.environment(THREADS),
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT_S,
        check=False,
    )

    failure = assert_failed_with(result, tree)
    first_line, _, trace = failure.partition("\n")
    assert first_line.startswith(
        "out of memory: lower hidden_sizes or batch_size, or choose an instance type with more "
        "memory ("
    )
    assert len(first_line) <= 1024  # SageMaker's FailureReason is the first 1024 characters
    assert "Traceback (most recent call last)" in trace


def start_long_run(framework: str, tree: SageMakerTree) -> subprocess.Popen[str]:
    return subprocess.Popen(
        container_command(framework, "train"),
        env=tree.environment(THREADS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_checkpoint(tree: SageMakerTree, epoch: int, process: subprocess.Popen[str]) -> None:
    """Wait until a checkpoint of ``epoch`` or later is complete (its metadata is written last).

    Any later one will do: the store keeps only the newest checkpoints, so on a busy machine the
    one of ``epoch`` itself may be gone before this loop looks."""
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while not any(kept >= epoch for kept in checkpoint_epochs(tree)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, (
            f"no checkpoint of epoch {epoch} or later within {SAFETY_TIMEOUT_S} s"
        )
        time.sleep(0.05)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"]
)
def test_an_interrupted_run_resumes_after_its_last_completed_epoch(
    framework: str, stop_signal: signal.Signals, tmp_path: Path
) -> None:
    # Long enough to be stopped mid-way: 1000 epochs and no early stopping.
    long_run = {
        "epochs": "1000",
        "batch_size": "8",
        "hidden_sizes": "[16]",
        "early_stopping_patience": "0",
    }
    tree = make_tree(tmp_path, long_run)
    process = start_long_run(framework, tree)
    wait_for_checkpoint(tree, 2, process)  # mid-way: two epochs done, the third under way

    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=SAFETY_TIMEOUT_S)

    completed = metric_epochs(stdout)
    kept = checkpoint_epochs(tree)
    assert completed == list(range(1, len(completed) + 1))
    assert kept and kept[-1] >= 2
    if stop_signal == signal.SIGTERM:  # stops between batches: every completed epoch is kept
        assert process.returncode == 0, stderr[-3000:]
        assert not tree.failure_file.exists()
        assert kept[-1] == completed[-1]
    else:  # no grace: the epoch whose checkpoint was being written may be lost too
        assert process.returncode == -signal.SIGKILL
        assert completed[-1] - 1 <= kept[-1] <= completed[-1]

    # SageMaker restarts the job with the checkpoints restored; two more epochs are asked for.
    resumed = kept[-1]
    tree.write_config({**long_run, "epochs": str(resumed + 2)})
    result = train(framework, tree)

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming from {tree.checkpoint_dir}/epoch-{resumed:05d} (epoch {resumed})" in (
        result.stderr
    )
    assert metric_epochs(result.stdout) == [resumed + 1, resumed + 2]
    assert checkpoint_epochs(tree)[-1] == resumed + 2

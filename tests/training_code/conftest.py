"""Fixtures for the training code's tests: SageMaker trees, real training runs, real servers.

Training and serving run the containers' real entry points as processes (``local_sagemaker``),
against a SageMaker directory tree in a temporary directory. Tests that share a trained model
carry an ``xdist_group`` per framework, so each worker trains a framework's model at most once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from training_code.local_sagemaker.containers import (
    ModelServer,
    free_port,
    pack_model,
    run_training,
    unpack_model,
)
from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree

# The containers import the shared package as top-level ``sagemaker_contract``; so do the unit
# tests (appended, so that ``training_code/tensorflow`` never shadows the real package).
TRAINING_CODE = Path(__file__).resolve().parents[2] / "training_code"
if str(TRAINING_CODE) not in sys.path:
    sys.path.append(str(TRAINING_CODE))

FRAMEWORKS = ("pytorch", "tensorflow")
#: Small and quick: a few seconds of training.
FAST = {"epochs": "2", "hidden_sizes": "[16, 8]", "batch_size": "32"}
#: One thread per process: the tests run in parallel on few cores.
QUIET_THREADS = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}
#: Every test that shares a framework's trained model runs on one worker.
FRAMEWORK_GROUPS = [
    pytest.param(framework, marks=pytest.mark.xdist_group(f"{framework}-model"))
    for framework in FRAMEWORKS
]


def make_tree(
    base: Path,
    hyperparameters: Mapping[str, object] = FAST,
    *,
    channels: tuple[str, ...] = ("train", "validation"),
    train_rows: int = 300,
    validation_rows: int = 100,
) -> SageMakerTree:
    """A SageMaker tree with sample data and config, as SageMaker prepares it for ``train``."""
    tree = SageMakerTree(base)
    write_channels(
        tree.data_dir,
        train_rows=train_rows,
        validation_rows=validation_rows if "validation" in channels else 0,
    )
    tree.write_config(hyperparameters, channels=channels)
    return tree


def train(
    framework: str, tree: SageMakerTree, *, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``docker run IMAGE train`` against ``tree``."""
    return run_training(framework, tree, args=args, extra_env=QUIET_THREADS, timeout=300)


def metric_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("metric ")]


@dataclass(frozen=True)
class TrainedModel:
    """A finished training run: its framework, its tree and what it printed."""

    framework: str
    tree: SageMakerTree
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session", params=FRAMEWORK_GROUPS)
def trained(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> TrainedModel:
    """One successful training run per framework (per worker), with train and validation."""
    framework: str = request.param
    tree = make_tree(tmp_path_factory.mktemp(f"{framework}-training"))
    result = train(framework, tree)
    assert result.returncode == 0, result.stderr
    return TrainedModel(framework, tree, result)


@pytest.fixture(scope="session")
def served(
    trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModelServer]:
    """The trained model, packed to model.tar.gz, extracted and served by ``serve``."""
    tarball = pack_model(trained.tree.model_dir, trained.tree.output_dir / "model.tar.gz")
    tree = SageMakerTree(tmp_path_factory.mktemp(f"{trained.framework}-serving"))
    unpack_model(tarball, tree.model_dir)
    with ModelServer(trained.framework, tree, free_port(), QUIET_THREADS) as server:
        yield server

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
#: Tests that share a framework's trained model run on one worker (``--dist loadgroup``).
FRAMEWORK_GROUPS = [
    pytest.param(framework, marks=pytest.mark.xdist_group(f"{framework}-model"))
    for framework in FRAMEWORKS
]
#: Safety net only, for a loaded machine: runs and waits end on their own long before.
SAFETY_TIMEOUT_S = 900
#: Small and quick: a few seconds of training.
FAST = {"epochs": "2", "hidden_sizes": "[16, 8]", "batch_size": "32"}
#: One thread per process: the tests run in parallel on few cores.
QUIET_THREADS = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


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
    return run_training(
        framework, tree, args=args, extra_env=QUIET_THREADS, timeout=SAFETY_TIMEOUT_S
    )


def metric_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("metric ")]


@dataclass(frozen=True)
class TrainedModel:
    """A finished training run: its framework, its tree and what it printed."""

    framework: str
    tree: SageMakerTree
    result: subprocess.CompletedProcess[str]


class Trainings:
    """Trains each framework's model once per worker, on first use, with both channels."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._models: dict[str, TrainedModel] = {}

    def get(self, framework: str) -> TrainedModel:
        if framework not in self._models:
            tree = make_tree(self._factory.mktemp(f"{framework}-training"))
            result = train(framework, tree)
            assert result.returncode == 0, result.stderr
            self._models[framework] = TrainedModel(framework, tree, result)
        return self._models[framework]


class Servers:
    """Serves each framework's trained model once per worker, from an extracted model.tar.gz."""

    def __init__(self, factory: pytest.TempPathFactory, trainings: Trainings) -> None:
        self._factory = factory
        self._trainings = trainings
        self._servers: dict[str, ModelServer] = {}

    def get(self, framework: str) -> ModelServer:
        if framework not in self._servers:
            model = self._trainings.get(framework)
            tarball = pack_model(model.tree.model_dir, model.tree.output_dir / "model.tar.gz")
            tree = SageMakerTree(self._factory.mktemp(f"{framework}-serving"))
            unpack_model(tarball, tree.model_dir)
            server = ModelServer(framework, tree, free_port(), QUIET_THREADS)
            self._servers[framework] = server.start()
            server.wait_until_healthy(SAFETY_TIMEOUT_S)
        return self._servers[framework]

    def stop_all(self) -> None:
        for server in self._servers.values():
            assert server.stop() == 0, server.log_text()


@pytest.fixture(scope="session")
def trainings(tmp_path_factory: pytest.TempPathFactory) -> Trainings:
    return Trainings(tmp_path_factory)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory, trainings: Trainings) -> Iterator[Servers]:
    started = Servers(tmp_path_factory, trainings)
    yield started
    started.stop_all()


@pytest.fixture(params=FRAMEWORK_GROUPS)
def framework_model(request: pytest.FixtureRequest) -> str:
    """The framework of a test that shares its trained model (grouped on one worker)."""
    framework: str = request.param
    return framework


@pytest.fixture
def trained(framework_model: str, trainings: Trainings) -> TrainedModel:
    """The framework's trained model (trained on first use)."""
    return trainings.get(framework_model)


@pytest.fixture
def served(framework_model: str, servers: Servers) -> ModelServer:
    """``serve`` running on the framework's trained model (started on first use)."""
    return servers.get(framework_model)

"""Both sides of `make compare` on this machine's CPU, on the same split, seeded.

The built-in side trains XGBoost's own library with the definition's hyperparameters
(scripts/compare_xgboost.py) and predicts with the saved booster, as the serving container does.
The custom side is the local loop (training_code/local_sagemaker): the image's real ``train``
entry point against a SageMaker ``/opt/ml`` tree, model.tar.gz packed and extracted, then the
real ``serve`` answering ``POST /invocations`` over HTTP. Training times are whole processes,
Python start and imports included, on both sides.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from compare_data import CompareError, Split
from compare_report import (
    Latency,
    Measurement,
    SideResult,
    classification_metrics,
    csv_body,
    regression_metrics,
    time_requests,
)
from compare_xgboost import Predictor, container_hyperparameters

from config.schema import TrainingConfig
from constructs_lib.builtin_algorithms import get_algorithm
from training_code.local_sagemaker.containers import (
    ModelServer,
    free_port,
    pack_model,
    run_training,
    unpack_model,
)
from training_code.local_sagemaker.tree import SageMakerTree

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = REPO_ROOT / "scripts"
TRAINING_CODE = REPO_ROOT / "training_code"
#: Rows per POST /invocations when scoring the validation set (well under the 6 MB payload limit).
SCORING_CHUNK = 1000


@dataclass(frozen=True)
class Problem:
    """What the data and the built-in's objective make of the task."""

    kind: str  # classification or regression
    num_classes: int  # 0 for regression


def run_builtin(
    name: str,
    definition: TrainingConfig,
    split: Split,
    problem: Problem,
    scratch: Path,
    *,
    seed: int,
    measurement: Measurement,
) -> SideResult:
    """Train and score the built-in definition with XGBoost's library."""
    import xgboost

    rendered = container_hyperparameters(
        name,
        definition.hyperparameters,
        instance_type=definition.instance_type or "ml.m5.large",
        version=definition.version,
        seed=seed,
    )
    hyperparameters = scratch / "builtin-hyperparameters.json"
    hyperparameters.write_text(json.dumps(rendered), encoding="utf-8")
    model_dir = scratch / "builtin" / "model"
    command = [
        sys.executable,
        str(SCRIPTS / "compare_xgboost.py"),
        str(model_dir),
        str(split.train_file),
        str(split.validation_file),
        str(hyperparameters),
    ]
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "-"
        raise CompareError(f"built-in {name!r} training failed: {reason.removeprefix('error: ')}")
    tarball = pack_model(model_dir, scratch / "builtin" / "model.tar.gz")
    predictor = Predictor(model_dir, rendered["objective"], problem.num_classes)
    validation = split.validation
    metrics = _score(
        problem,
        validation.labels,
        predictor.predictions(validation.features),
        predictor.probabilities(validation.features),
    )
    latency = time_requests(
        predictor.answer_csv,
        validation.features,
        measurement,
        "in process, one thread: CSV body parsed, Booster.predict, CSV answer written",
    )
    return SideResult(
        role="built-in",
        name=name,
        description=f"xgboost {xgboost.__version__} (the library of SageMaker's xgboost "
        f"{definition.version or 'default'} container)",
        metrics=metrics,
        training_seconds=seconds,
        model_bytes=tarball.stat().st_size,
        owned_code_lines=0,
        distributed_training=get_algorithm("xgboost").supports_distributed_training,
        latency=latency,
        instance_type=definition.instance_type,
        notes=[f"latency, both sides: {latency.basis} (an endpoint adds its HTTP layer)"],
    )


def run_custom(
    name: str,
    definition: TrainingConfig,
    split: Split,
    problem: Problem,
    scratch: Path,
    *,
    seed: int,
    measurement: Measurement,
) -> SideResult:
    """Train the custom definition through the real entry point and score it over HTTP."""
    framework = str(definition.framework)
    training = SageMakerTree(scratch / "custom" / "training" / "opt" / "ml")
    for channel, source in (("train", split.train_file), ("validation", split.validation_file)):
        target = training.data_dir / channel / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    training.write_config({"seed": seed, **definition.hyperparameters})
    started = time.perf_counter()
    result = run_training(framework, training, timeout=3600)
    seconds = time.perf_counter() - started
    (scratch / "custom" / "train.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        failure = training.failure_file
        reason = failure.read_text().strip() if failure.exists() else result.stderr[-500:]
        raise CompareError(f"custom {name!r} training failed: {reason}")
    tarball = pack_model(training.model_dir, training.output_dir / "model.tar.gz")
    serving = SageMakerTree(scratch / "custom" / "serving" / "opt" / "ml")
    unpack_model(tarball, serving.model_dir)
    validation = split.validation
    with ModelServer(framework, serving, free_port()) as server:

        def invoke(body: str) -> np.ndarray:
            response = server.invoke(body.encode(), "text/csv", "text/csv")
            if response.status != 200:
                raise CompareError(
                    f"custom {name!r} endpoint answered {response.status}: {response.text.strip()}"
                )
            return np.loadtxt(response.text.splitlines(), delimiter=",", ndmin=2)

        answers = np.concatenate(
            [
                invoke(csv_body(validation.features[begin : begin + SCORING_CHUNK]))
                for begin in range(0, len(validation), SCORING_CHUNK)
            ]
        )
        over_http = time_requests(
            invoke, validation.features, measurement, "HTTP POST /invocations to the real serve"
        )
    latency = _in_process_latency(framework, serving.model_dir, split, measurement)
    probabilities = _columns(answers[:, 1:], problem.num_classes)
    metrics = _score(problem, validation.labels, answers[:, 0], probabilities)
    return SideResult(
        role="custom",
        name=name,
        description=f"{framework} training_code/{framework} (local loop)",
        metrics=metrics,
        training_seconds=seconds,
        model_bytes=tarball.stat().st_size,
        owned_code_lines=owned_code_lines(framework),
        distributed_training=True,
        latency=latency,
        instance_type=definition.instance_type,
        notes=[
            f"custom over HTTP to the real serve: p50 {over_http.single_p50_ms:.2f} ms for one "
            f"row, {over_http.batch_ms:.1f} ms for {over_http.batch_rows} rows"
        ],
    )


def _in_process_latency(
    framework: str, model_dir: Path, split: Split, measurement: Measurement
) -> Latency:
    """The custom model's own inference hooks timed in their own process (compare_serving.py)."""
    command = [
        sys.executable,
        str(SCRIPTS / "compare_serving.py"),
        framework,
        str(model_dir),
        str(split.validation_file),
        json.dumps(dataclasses.asdict(measurement)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        raise CompareError(
            f"timing the custom model's inference hooks failed: {result.stderr[-500:]}"
        )
    return Latency(**json.loads(result.stdout.strip().splitlines()[-1]))


def _score(
    problem: Problem, labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray | None
) -> dict[str, float]:
    if problem.kind == "regression":
        return regression_metrics(labels, predicted)
    return classification_metrics(labels, predicted, probabilities, problem.num_classes)


def _columns(probabilities: np.ndarray, num_classes: int) -> np.ndarray:
    """Pad with zero columns when the custom model saw fewer classes than the data has."""
    missing = num_classes - probabilities.shape[1]
    return np.pad(probabilities, ((0, 0), (0, missing))) if missing > 0 else probabilities


def owned_code_lines(framework: str) -> int:
    """Non-blank, non-comment Python lines of the custom model's code and its shared contract."""
    files = [
        TRAINING_CODE / "entrypoint.py",
        *sorted((TRAINING_CODE / framework).glob("*.py")),
        *sorted((TRAINING_CODE / "sagemaker_contract").glob("*.py")),
    ]
    return sum(
        1
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    )

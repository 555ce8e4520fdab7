"""The built-in side of `make compare`, locally: XGBoost's own library, as the container runs it.

SageMaker's XGBoost algorithm is the open-source ``xgboost`` package behind a training and a
serving script. This module gives the package the hyperparameters a training definition gives
the built-in algorithm, after the project's own validation (constructs_lib.builtin_algorithms)
and rendered to the strings CreateTrainingJob sends. ``num_round`` and
``early_stopping_rounds`` are arguments of the container's training loop, not booster
parameters; the rest go to ``xgboost.train`` as they are.

Training runs as its own process, like the container's ``train``, so its wall time includes
starting Python and importing the library, as the custom side's does:

    python scripts/compare_xgboost.py MODEL_DIR TRAIN_CSV VALIDATION_CSV HYPERPARAMETERS_JSON
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: config/, constructs_lib/, training_code/
    sys.path.insert(0, str(REPO_ROOT))

from compare_data import CompareError, read_table  # noqa: E402

from constructs_lib.builtin_algorithms import get_algorithm, validate_training  # noqa: E402
from training_code.sagemaker_contract.csv_table import numeric_table  # noqa: E402

ALGORITHM = "xgboost"
MODEL_FILE = "xgboost-model"
#: Arguments of the container's training loop rather than booster parameters.
LOOP_ARGUMENTS = ("num_round", "early_stopping_rounds")
#: Container features that this comparison does not reproduce.
NOT_REPRODUCED = {
    "csv_weights": "instance weights in the second column",
    "_kfold": "k-fold cross-validation",
    "_num_cv_round": "k-fold cross-validation",
}
#: Objectives whose predictions are class probabilities, labels or values.
PROBABILITY_OBJECTIVES = ("binary:logistic", "multi:softprob")
LABEL_OBJECTIVES = ("binary:hinge", "multi:softmax")


def container_hyperparameters(
    name: str,
    hyperparameters: Mapping[str, object],
    *,
    instance_type: str,
    version: str | None,
    seed: int,
) -> dict[str, str]:
    """What CreateTrainingJob would send, validated; the comparison's seed unless one is set."""
    problems = validate_training(
        ALGORITHM,
        hyperparameters=hyperparameters,
        instance_type=instance_type,
        instance_count=1,
        channels={"train": "text/csv", "validation": "text/csv"},
        version=version,
    )
    if problems:
        details = "; ".join(str(problem) for problem in problems)
        raise CompareError(f"built-in {name!r} is not a valid xgboost definition: {details}")
    for key, what in NOT_REPRODUCED.items():
        if key in hyperparameters:
            raise CompareError(
                f"built-in {name!r} sets {key} ({what}); the local comparison does not "
                "reproduce it: remove it for the comparison or compare on AWS (TARGET=aws)"
            )
    rendered = get_algorithm(ALGORITHM).render_hyperparameters({"seed": seed, **hyperparameters})
    rendered.pop("_tuning_objective_metric", None)
    return rendered


def problem_of(objective: str) -> str:
    """``classification`` or ``regression`` for an XGBoost objective, or a CompareError."""
    if objective.startswith(("binary:", "multi:")):
        return "classification"
    if objective.startswith("reg:"):
        return "regression"
    raise CompareError(
        f"objective {objective!r}: the comparison measures classifiers and regressors "
        "(binary:*, multi:*, reg:*); ranking and count objectives have no common metric"
    )


def train(
    model_dir: Path, train_csv: Path, validation_csv: Path, rendered: Mapping[str, str]
) -> None:
    """Train as the container does and save ``xgboost-model`` into ``model_dir``."""
    import xgboost

    params = {k: v for k, v in rendered.items() if k not in LOOP_ARGUMENTS}
    train_table, validation_table = read_table(train_csv), read_table(validation_csv)
    dtrain = xgboost.DMatrix(train_table.features, label=train_table.labels)
    dvalidation = xgboost.DMatrix(validation_table.features, label=validation_table.labels)
    early = rendered.get("early_stopping_rounds")
    booster = xgboost.train(
        params,
        dtrain,
        num_boost_round=int(rendered["num_round"]),
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        early_stopping_rounds=int(early) if early else None,
        verbose_eval=False,
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / MODEL_FILE))


class Predictor:
    """The trained model loaded as the serving container loads it, predicting in process."""

    def __init__(self, model_dir: Path, objective: str, num_classes: int) -> None:
        import xgboost

        self._xgboost = xgboost
        self._booster = xgboost.Booster(model_file=str(model_dir / MODEL_FILE))
        # One thread per request, as one server worker answers it: OpenMP's thread team costs
        # more than a small request's whole prediction on a busy machine.
        self._booster.set_param({"nthread": 1})
        self.objective = objective
        self.num_classes = num_classes

    def raw(self, features: np.ndarray) -> Any:
        return self._booster.predict(self._xgboost.DMatrix(features, nthread=1))

    def answer_csv(self, body: str) -> str:
        """A ``text/csv`` request answered as the serving container does: one line per row."""
        scores = np.asarray(self.raw(numeric_table(body)), dtype=np.float64)
        return "".join(",".join(f"{v:.6f}" for v in np.atleast_1d(row)) + "\n" for row in scores)

    def probabilities(self, features: np.ndarray) -> np.ndarray | None:
        """Class probabilities (rows x classes), or None when the objective gives labels only."""
        if self.objective not in PROBABILITY_OBJECTIVES:
            return None
        scores = np.asarray(self.raw(features), dtype=np.float64)
        if scores.ndim == 1:
            return np.column_stack([1.0 - scores, scores])
        return np.asarray(scores)

    def predictions(self, features: np.ndarray) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        probabilities = self.probabilities(features)
        if probabilities is not None:
            labels: np.ndarray = probabilities.argmax(axis=1).astype(np.float64)
            return labels
        values = np.asarray(self.raw(features), dtype=np.float64)
        return np.rint(values) if self.objective in LABEL_OBJECTIVES else values


def main(argv: Sequence[str] | None = None) -> int:
    model_dir, train_csv, validation_csv, hyperparameters = (argv or sys.argv[1:])[:4]
    rendered = json.loads(Path(hyperparameters).read_text(encoding="utf-8"))
    try:
        train(Path(model_dir), Path(train_csv), Path(validation_csv), rendered)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # xgboost's own message is the user's answer
        print(f"error: xgboost failed: {error}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

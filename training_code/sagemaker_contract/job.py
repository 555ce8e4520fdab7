"""What every training entry point does before it imports a framework.

Reading the environment, the hyperparameters and the data needs only numpy, so a job with a bad
hyperparameter or a bad file fails within a second, before PyTorch or TensorFlow load.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import numpy as np

from sagemaker_contract.data import (
    Dataset,
    hold_out,
    load_channel,
    load_optional_channel,
    resolve_num_classes,
    standardization,
)
from sagemaker_contract.environment import TrainingEnvironment
from sagemaker_contract.errors import ContractError
from sagemaker_contract.failure import run_reporting_failures
from sagemaker_contract.hyperparameters import (
    H,
    gather_raw_hyperparameters,
    parse_hyperparameters,
)
from sagemaker_contract.plan import TrainingPlan, auto_validation_fraction, plan_training

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingJob(Generic[H]):
    """A validated job: where things are, the hyperparameters, the loaded data and the plan.

    ``validation`` is the validation channel, or rows held out from ``train`` (then
    ``held_out`` is True and ``train`` is the rest).
    """

    environment: TrainingEnvironment
    hyperparameters: H
    train: Dataset
    validation: Dataset | None
    num_classes: int
    feature_mean: np.ndarray
    feature_std: np.ndarray
    plan: TrainingPlan
    held_out: bool = False

    @property
    def architecture(self) -> dict[str, Any]:
        """The model's definition; saved with the model and checked when resuming."""
        return {
            "n_features": self.train.n_features,
            "hidden_sizes": list(self.hyperparameters.hidden_sizes),
            "dropout": self.hyperparameters.dropout,
            "num_classes": self.num_classes,
        }

    def check_replicas(self, replicas: int) -> None:
        """Fail unless each of ``replicas`` training processes or devices gets a share of every
        batch (``batch_size`` is global and split evenly)."""
        batch_size = self.plan.batch_size
        if batch_size < replicas or len(self.train) < replicas:
            raise ContractError(
                f"batch_size={batch_size} and the {len(self.train)} train rows must each be at "
                f"least the number of training replicas ({replicas}); raise batch_size or use "
                "fewer processes"
            )


def prepare_job(
    hyperparameter_class: type[H], argv: Sequence[str], environ: Mapping[str, str] = os.environ
) -> TrainingJob[H]:
    """Resolve the environment, parse hyperparameters and load the channels, or raise."""
    environment = TrainingEnvironment.from_environ(environ)
    raw = gather_raw_hyperparameters(environment.config_dir, environ, argv)
    hyperparameters = parse_hyperparameters(hyperparameter_class, raw)
    train = load_channel(environment, "train")
    validation = load_optional_channel(environment, "validation")
    if validation is not None and validation.n_features != train.n_features:
        raise ContractError(
            f"the validation channel has {validation.n_features} features per row but the train "
            f"channel has {train.n_features}"
        )
    num_classes = resolve_num_classes(train, validation, hyperparameters.num_classes)
    held_out = False
    if validation is None:
        fraction = auto_validation_fraction(hyperparameters, len(train))
        if fraction > 0:
            train, validation = hold_out(train, fraction, hyperparameters.seed)
            held_out = len(validation) > 0
            validation = validation if held_out else None
    mean, std = standardization(train)
    plan = plan_training(hyperparameters, len(train), validation is not None)
    log.info(
        "train: %d rows x %d features, %d classes; validation: %s rows%s; hosts %s (this is %s)",
        len(train),
        train.n_features,
        num_classes,
        len(validation) if validation is not None else "no",
        " held out from train" if held_out else "",
        ",".join(environment.hosts),
        environment.current_host,
    )
    log.info("plan: %s", plan.describe())
    return TrainingJob(
        environment, hyperparameters, train, validation, num_classes, mean, std, plan, held_out
    )


def configure_logging(environ: Mapping[str, str] = os.environ) -> None:
    """Log to stderr at ``SM_LOG_LEVEL`` (the toolkit's variable: a number or a level name)."""
    text = environ.get("SM_LOG_LEVEL", "INFO")
    names = logging.getLevelNamesMapping()
    level = int(text) if text.isdigit() else names.get(text.upper(), logging.INFO)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def run_training(
    hyperparameter_class: type[H],
    argv: Sequence[str],
    train: Callable[[TrainingJob[H]], int | None],
) -> int:
    """The whole life of a training entry point: validate, ``train``, report any failure.

    Returns the process exit code: 0, ``train``'s own non-zero code, or 1 after writing the
    failure file.
    """
    configure_logging()
    return run_reporting_failures(lambda: train(prepare_job(hyperparameter_class, argv)))

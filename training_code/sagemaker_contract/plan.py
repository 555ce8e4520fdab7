"""How long and how fast to train, decided from the table when hyperparameters say ``auto``.

Both frameworks follow the same plan, so their defaults behave alike:

- ``batch_size`` grows with the table (a power of two near rows / 64, 8 to 1024), so a small
  table still gets many optimizer steps and a large one uses the hardware;
- ``epochs`` gives about ``TARGET_STEPS`` optimizer steps (``MIN_EPOCHS`` to ``MAX_EPOCHS``):
  ten epochs of a 150-row table are a handful of steps, far too few to learn;
- the learning rate warms up linearly over the first ``WARMUP_FRACTION`` of training, then
  follows a cosine down to zero (a function of progress, so a resumed job continues on it);
- with validation rows (the channel, or rows held out from ``train``) the best epoch by
  validation loss is kept, and training stops after ``patience`` epochs without a better one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sagemaker_contract.hyperparameters import Hyperparameters

TARGET_STEPS = 1500
MIN_EPOCHS = 10
MAX_EPOCHS = 500
MIN_BATCH = 8
MAX_BATCH = 1024
#: rows per step that ``auto`` batch sizes aim for, before rounding to a power of two
ROWS_PER_BATCH = 64
WARMUP_FRACTION = 0.05
#: ``validation_fraction=auto`` holds out this share of the train rows ...
AUTO_VALIDATION_FRACTION = 0.2
#: ... when the train channel has at least this many rows (and no validation channel)
MIN_ROWS_TO_HOLD_OUT = 100
MIN_PATIENCE = 10


@dataclass(frozen=True)
class TrainingPlan:
    """The resolved schedule of a job: every ``auto`` replaced by a number."""

    batch_size: int
    epochs: int
    learning_rate: float
    weight_decay: float
    #: epochs without a better validation loss before stopping; None: never stop early
    patience: int | None

    def learning_rate_at(self, progress: float) -> float:
        """The learning rate after ``progress`` (0 to 1) of the planned optimizer steps."""
        if progress < WARMUP_FRACTION:
            return self.learning_rate * (progress + 1e-3) / (WARMUP_FRACTION + 1e-3)
        decay = (progress - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)
        return self.learning_rate * 0.5 * (1 + math.cos(math.pi * min(decay, 1.0)))

    def describe(self) -> str:
        patience = "off" if self.patience is None else f"{self.patience} epochs"
        return (
            f"batch_size={self.batch_size} epochs={self.epochs} "
            f"learning_rate={self.learning_rate:g} (warm-up, cosine) "
            f"weight_decay={self.weight_decay:g} early stopping={patience}"
        )


def auto_batch_size(rows: int) -> int:
    """A power of two near ``rows / ROWS_PER_BATCH``, within ``MIN_BATCH..MAX_BATCH``."""
    exponent = round(math.log2(max(rows / ROWS_PER_BATCH, 1)))
    return int(min(max(2**exponent, MIN_BATCH), MAX_BATCH))


def auto_epochs(rows: int, batch_size: int) -> int:
    """Epochs that make about ``TARGET_STEPS`` steps, within ``MIN_EPOCHS..MAX_EPOCHS``."""
    steps_per_epoch = math.ceil(rows / batch_size)
    return min(max(math.ceil(TARGET_STEPS / steps_per_epoch), MIN_EPOCHS), MAX_EPOCHS)


def auto_validation_fraction(hyperparameters: Hyperparameters, train_rows: int) -> float:
    """The share of ``train`` to hold out when the job has no validation channel."""
    if hyperparameters.validation_fraction is not None:
        return hyperparameters.validation_fraction
    return AUTO_VALIDATION_FRACTION if train_rows >= MIN_ROWS_TO_HOLD_OUT else 0.0


def plan_training(
    hyperparameters: Hyperparameters, train_rows: int, has_validation: bool
) -> TrainingPlan:
    """Resolve the ``auto`` hyperparameters for ``train_rows`` rows of training data."""
    batch_size = hyperparameters.batch_size or auto_batch_size(train_rows)
    epochs = hyperparameters.epochs or auto_epochs(train_rows, batch_size)
    patience: int | None = hyperparameters.early_stopping_patience
    if patience is None:
        patience = max(MIN_PATIENCE, math.ceil(epochs / 4))
    return TrainingPlan(
        batch_size=batch_size,
        epochs=epochs,
        learning_rate=hyperparameters.learning_rate,
        weight_decay=hyperparameters.weight_decay,
        patience=patience if has_validation and patience > 0 else None,
    )


@dataclass
class BestEpoch:
    """The epoch with the lowest validation loss so far, and whether to stop early.

    Its state travels in each checkpoint's metadata (``as_metadata`` / ``from_metadata``), so a
    resumed job keeps counting where the interrupted one stopped.
    """

    patience: int | None
    epoch: int = 0
    loss: float = math.inf
    last_epoch: int = 0

    def record(self, epoch: int, validation_loss: float | None) -> bool:
        """Note ``epoch``'s loss; True when it is the best so far (always, without validation)."""
        self.last_epoch = epoch
        if validation_loss is None or validation_loss < self.loss:
            self.epoch = epoch
            self.loss = math.inf if validation_loss is None else validation_loss
            return True
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.last_epoch - self.epoch >= self.patience

    def as_metadata(self) -> dict[str, Any]:
        loss = None if math.isinf(self.loss) else self.loss
        return {"best_epoch": self.epoch, "best_validation_loss": loss}

    def restore(self, metadata: dict[str, Any], completed: int) -> None:
        """Take the state saved with the checkpoint of epoch ``completed``."""
        self.last_epoch = completed
        self.epoch = int(metadata.get("best_epoch", completed))
        loss = metadata.get("best_validation_loss")
        self.loss = math.inf if loss is None else float(loss)

"""The plan both frameworks train by: auto batch and epochs, the schedule, early stopping."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sagemaker_contract.data import Dataset, hold_out
from sagemaker_contract.hyperparameters import Hyperparameters
from sagemaker_contract.plan import (
    BestEpoch,
    TrainingPlan,
    auto_validation_fraction,
    plan_training,
)


@pytest.mark.parametrize(
    ("rows", "batch_size", "epochs"),
    [
        (90, 8, 125),  # iris after the hold-out: 12 steps an epoch
        (1_000, 16, 24),
        (60_000, 1024, 26),
        (10_000_000, 1024, 10),  # at least ten passes, however large
        (20, 8, 500),  # at most 500 epochs, however small
    ],
)
def test_auto_batch_and_epochs_follow_the_table(rows: int, batch_size: int, epochs: int) -> None:
    plan = plan_training(Hyperparameters(), rows, has_validation=True)
    assert (plan.batch_size, plan.epochs) == (batch_size, epochs)


def test_numbers_given_win_over_auto() -> None:
    given = Hyperparameters(epochs=3, batch_size=100, early_stopping_patience=2)
    plan = plan_training(given, 90, has_validation=True)
    assert (plan.batch_size, plan.epochs, plan.patience) == (100, 3, 2)


def test_no_early_stopping_without_validation_rows_or_with_patience_zero() -> None:
    assert plan_training(Hyperparameters(), 1_000, has_validation=False).patience is None
    off = Hyperparameters(early_stopping_patience=0)
    assert plan_training(off, 1_000, has_validation=True).patience is None
    assert plan_training(Hyperparameters(epochs=200), 1_000, has_validation=True).patience == 50


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    plan = TrainingPlan(batch_size=8, epochs=10, learning_rate=0.01, weight_decay=0, patience=None)
    rates = [plan.learning_rate_at(step / 100) for step in range(101)]
    peak = rates.index(max(rates))
    assert rates[0] < 0.001
    assert peak == 5
    assert rates[peak] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))
    assert rates[-1] == pytest.approx(0, abs=1e-12)


def test_best_epoch_and_patience() -> None:
    best = BestEpoch(patience=2)
    assert [best.record(e, loss) for e, loss in enumerate([0.9, 0.5, 0.6, 0.7], 1)] == [
        True,
        True,
        False,
        False,
    ]
    assert (best.epoch, best.loss, best.should_stop) == (2, 0.5, True)


def test_best_epoch_survives_a_checkpoint() -> None:
    best = BestEpoch(patience=3)
    for epoch, loss in enumerate([0.9, 0.4, 0.6], 1):
        best.record(epoch, loss)
    resumed = BestEpoch(patience=3)
    resumed.restore(json.loads(json.dumps(best.as_metadata())), 3)  # as checkpoint.json holds it
    assert (resumed.epoch, resumed.loss, resumed.last_epoch) == (2, 0.4, 3)
    assert not resumed.record(4, 0.5)
    assert not resumed.should_stop
    assert not resumed.record(5, 0.5)
    assert resumed.should_stop


def test_without_validation_every_epoch_is_the_best() -> None:
    best = BestEpoch(patience=None)
    assert best.record(1, None) and best.record(2, None)
    assert (best.epoch, best.should_stop, best.as_metadata()["best_validation_loss"]) == (
        2,
        False,
        None,
    )
    assert math.isinf(best.loss)


def test_hold_out_is_stratified_seeded_and_keeps_row_origins(tmp_path: Path) -> None:
    labels = np.array([0] * 80 + [1] * 20)
    dataset = Dataset(
        features=np.arange(100, dtype=np.float32).reshape(100, 1),
        labels=labels,
        files=(tmp_path / "a.csv",),
        file_offsets=(0,),
    )
    train, validation = hold_out(dataset, 0.2, seed=0)
    assert (len(train), len(validation)) == (80, 20)
    assert np.bincount(validation.labels).tolist() == [16, 4]
    again = hold_out(dataset, 0.2, seed=0)[1]
    assert np.array_equal(again.features, validation.features)
    assert not set(train.features[:, 0]) & set(validation.features[:, 0])
    assert validation.origin is not None
    assert np.array_equal(validation.features[:, 0], validation.origin.astype(np.float32))


def test_auto_hold_out_only_from_a_hundred_rows() -> None:
    assert auto_validation_fraction(Hyperparameters(), 99) == 0
    assert auto_validation_fraction(Hyperparameters(), 100) == 0.2
    assert auto_validation_fraction(Hyperparameters(validation_fraction=0.1), 10) == 0.1

"""With no hyperparameters at all, both frameworks learn a small table as well as a baseline.

The real ``train`` entry point trains on 300 rows (the old defaults, ten epochs of batch 64, were
50 optimizer steps and fell well short here); the saved model predicts 1,000 held-out rows. The
bar is the better of scikit-learn's two baselines (benchmarks/default_accuracy.py) less one point.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from benchmarks.default_accuracy import Split, baselines, generated_table, predict, train_model

from .conftest import FRAMEWORKS

TRAIN_ROWS = 300
TEST_ROWS = 1_000
#: points of accuracy the defaults may trail the better baseline by
TOLERANCE = 1.0


def small_table() -> Split:
    """The benchmark's kind of generated table: 3 classes of 2 clusters, 10 features of very
    different scales."""
    table = generated_table(TRAIN_ROWS + TEST_ROWS, classes=3, features=10)()
    features, labels = table.features, table.labels
    return Split(
        features[:TRAIN_ROWS], labels[:TRAIN_ROWS], features[TRAIN_ROWS:], labels[TRAIN_ROWS:]
    )


def gap_to_baseline(
    framework: str, base: Path, hyperparameters: Mapping[str, object] | None = None
) -> float:
    """Points by which ``framework`` trails the better baseline on the small table."""
    data = small_table()
    best_baseline = max(baselines(data).values())
    model_dir, _ = train_model(framework, data, base, 1, hyperparameters)
    accuracy = float(np.mean(predict(framework, model_dir, data.test_x) == data.test_y))
    return 100 * (best_baseline - accuracy)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_defaults_reach_the_baseline_on_a_small_table(framework: str, tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="scikit-learn computes the baselines")
    assert gap_to_baseline(framework, tmp_path) <= TOLERANCE

"""Deterministic synthetic tabular data for a classifier: nothing is downloaded.

Each class is a Gaussian cloud around its own centre; features get very different scales, so the
model's built-in standardisation matters. The same seed gives the same rows everywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

Features = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]


def make_classification(
    rows: int, features: int = 8, classes: int = 3, seed: int = 0
) -> tuple[Features, Labels]:
    """``rows`` samples of ``features`` columns with labels 0..classes-1."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, size=(classes, features))
    scales = rng.uniform(0.5, 50.0, size=features)
    labels = rng.integers(0, classes, size=rows)
    values = (centres[labels] + rng.normal(0.0, 1.0, size=(rows, features))) * scales
    return values, labels.astype(np.int64)


def write_csv(path: Path, features: Features, labels: Labels | None = None) -> Path:
    """Write rows as CSV without a header, the label first when ``labels`` is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        for index, row in enumerate(features):
            cells = [f"{value:.6g}" for value in row]
            if labels is not None:
                cells.insert(0, str(int(labels[index])))
            stream.write(",".join(cells) + "\n")
    return path


def write_channels(
    data_dir: Path,
    *,
    train_rows: int = 600,
    validation_rows: int = 200,
    features: int = 8,
    classes: int = 3,
    seed: int = 0,
) -> dict[str, Path]:
    """Write ``train/train.csv`` and (unless ``validation_rows`` is 0) ``validation/...``."""
    values, labels = make_classification(train_rows + validation_rows, features, classes, seed)
    channels = {
        "train": write_csv(
            data_dir / "train" / "train.csv", values[:train_rows], labels[:train_rows]
        )
    }
    if validation_rows:
        channels["validation"] = write_csv(
            data_dir / "validation" / "validation.csv", values[train_rows:], labels[train_rows:]
        )
    return channels

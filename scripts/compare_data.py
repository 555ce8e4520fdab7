"""The comparison's data: one label-first CSV table, split once into train and validation.

Both sides of `make compare` read the same two files, so their metrics are measured on the same
held-out rows. The table is the training code's data contract (label in the first column, no
header, numbers only). It comes from a local CSV file, every object under an S3 prefix, the
shipped sample, or one of the public tables of docs/choosing.md:

    .venv/bin/python scripts/compare_data.py breast-cancer /tmp/breast-cancer.csv
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: config/, constructs_lib/, training_code/
    sys.path.insert(0, str(REPO_ROOT))

from training_code.local_sagemaker.sample_data import make_classification, write_csv  # noqa: E402
from training_code.sagemaker_contract.csv_table import TableError, numeric_table  # noqa: E402

Matrix = npt.NDArray[np.float64]
SAMPLE = "sample"
SAMPLE_ROWS = 2000


class CompareError(Exception):
    """A problem the user can fix; the message says what and how."""


@dataclass(frozen=True)
class Table:
    """Features (rows x columns) and labels, and where they came from."""

    features: Matrix
    labels: Matrix
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class Split:
    """The train and validation files both sides read, and the validation rows in memory."""

    train_file: Path
    validation_file: Path
    validation: Table
    train_rows: int

    @property
    def validation_sha256(self) -> str:
        return hashlib.sha256(self.validation_file.read_bytes()).hexdigest()


def read_table(path: Path) -> Table:
    """Parse a label-first CSV file; every mistake is one message naming the file and row."""
    if path.is_dir():
        raise CompareError(f"DATA {path} is a directory; give one CSV file (label first)")
    if not path.is_file():
        raise CompareError(f"DATA {path}: no such file")
    try:
        values = numeric_table(path)
    except TableError as error:
        raise CompareError(f"DATA {path}: {error}") from None
    except OSError as error:
        raise CompareError(f"DATA {path}: cannot read it ({error.strerror})") from None
    return _checked(values, str(path))


def _checked(values: Matrix, source: str) -> Table:
    if values.size == 0:
        raise CompareError(f"DATA {source} has no rows")
    if values.shape[1] < 2:
        raise CompareError(
            f"DATA {source} has one column; rows need the label first, then the features"
        )
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        row, column = (int(i) for i in bad[0])
        raise CompareError(f"DATA {source}: row {row + 1}, column {column + 1} is not finite")
    return Table(values[:, 1:], values[:, 0], source)


def read_s3_table(uri: str, s3: Any) -> Table:
    """Every object under an S3 prefix, concatenated (e.g. a deployed stage's dataset)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(
        item["Key"] for page in pages for item in page.get("Contents", []) if item["Size"] > 0
    )
    if not keys:
        raise CompareError(f"DATA {uri}: no objects under that prefix")
    text = "\n".join(
        s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8") for key in keys
    )
    try:
        values = numeric_table(text)
    except (TableError, UnicodeDecodeError) as error:
        raise CompareError(f"DATA {uri}: {error}") from None
    return _checked(values, uri)


def split(table: Table, directory: Path, validation_fraction: float, seed: int) -> Split:
    """Shuffle with ``seed``, hold out ``validation_fraction`` and write both CSV files."""
    if not 0 < validation_fraction < 1:
        raise CompareError(
            f"--validation-fraction must be between 0 and 1, got {validation_fraction}"
        )
    held_out = round(len(table) * validation_fraction)
    if held_out < 2 or len(table) - held_out < 2:
        raise CompareError(
            f"DATA {table.source} has {len(table)} rows: too few to hold out "
            f"{validation_fraction:.0%} for validation and still train"
        )
    order = np.random.default_rng(seed).permutation(len(table))
    validation_rows, train_rows = order[:held_out], order[held_out:]
    train_file = _write(directory / "train" / "train.csv", table, train_rows)
    validation_file = _write(directory / "validation" / "validation.csv", table, validation_rows)
    validation = read_table(validation_file)  # exactly what both sides read back
    return Split(train_file, validation_file, validation, len(train_rows))


def _write(path: Path, table: Table, rows: npt.NDArray[np.int64]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            cells = [_cell(table.labels[row]), *(f"{v:.9g}" for v in table.features[row])]
            stream.write(",".join(cells) + "\n")
    return path


def _cell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.9g}"


# Public tables for docs/choosing.md, each written label first with no header.
def _sample(path: Path) -> None:
    features, labels = make_classification(SAMPLE_ROWS, features=8, classes=2, seed=0)
    write_csv(path, features, labels)


def _breast_cancer(path: Path) -> None:
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise CompareError(
            "the breast-cancer table ships with scikit-learn, which is not installed: "
            "run `make install`"
        ) from None

    dataset = load_breast_cancer()
    write_csv(path, dataset.data, dataset.target)


def _linear_boundary(path: Path) -> None:
    """Two classes split by one oblique hyperplane through 20 features of unequal scales, with
    label noise: the shape a linear or neural model fits directly and trees only approximate."""
    rng = np.random.default_rng(11)
    scales = rng.uniform(0.5, 20.0, size=20)
    features = rng.normal(size=(10_000, 20)) * scales
    weights = rng.normal(size=20) / scales
    noise = rng.normal(0.0, 1.0, size=10_000)
    labels = (features @ weights + noise > 0).astype(np.int64)
    write_csv(path, features, labels)


PUBLIC_TABLES: dict[str, Callable[[Path], None]] = {
    SAMPLE: _sample,
    "breast-cancer": _breast_cancer,
    "linear-boundary": _linear_boundary,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a table of docs/choosing.md as CSV.")
    parser.add_argument("name", choices=sorted(PUBLIC_TABLES))
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    PUBLIC_TABLES[args.name](args.path)
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

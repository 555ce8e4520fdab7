"""Training data: CSV files in a channel, label in the first column, no header.

This is the format SageMaker's built-in algorithms read (``text/csv``). Every file in the channel
directory (recursively, hidden files excluded) is read into memory; labels are class indices
0..num_classes-1. Bad data fails with a message naming the file, the row and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sagemaker_contract.csv_table import TableError, line_number, numeric_table
from sagemaker_contract.environment import TrainingEnvironment
from sagemaker_contract.errors import ContractError

CSV_CONTENT_TYPE = "text/csv"
#: Features whose spread is below this are not scaled (dividing by ~0 would blow them up).
MIN_FEATURE_STD = 1e-6


@dataclass(frozen=True)
class Dataset:
    """Features (float32, rows x columns) and integer labels, with where each row came from."""

    features: np.ndarray
    labels: np.ndarray
    files: tuple[Path, ...]
    file_offsets: tuple[int, ...]
    #: for a subset (``hold_out``), each row's index in the whole channel
    origin: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def locate(self, index: int) -> str:
        """Name the file and the 1-based line of row ``index``, for error messages."""
        if self.origin is not None:
            index = int(self.origin[index])
        position = int(np.searchsorted(self.file_offsets, index, side="right")) - 1
        path = self.files[position]
        return f"{path}: row {line_number(path, index - self.file_offsets[position])}"


def load_optional_channel(environment: TrainingEnvironment, channel: str) -> Dataset | None:
    """Like ``load_channel``, but None when the job was not given that channel."""
    if channel in environment.channel_overrides or environment.channel_dir(channel).is_dir():
        return load_channel(environment, channel)
    return None


def load_channel(environment: TrainingEnvironment, channel: str) -> Dataset:
    """Read every CSV file of ``channel`` into one dataset."""
    directory = environment.channel_dir(channel)
    if not directory.is_dir():
        raise ContractError(
            f"channel '{channel}' is missing: {directory} is not a directory; "
            f"give the training job an input channel named '{channel}'"
        )
    settings = environment.input_data_config.get(channel, {})
    content_type = settings.get("ContentType", CSV_CONTENT_TYPE).split(";")[0].strip().lower()
    if content_type != CSV_CONTENT_TYPE:
        raise ContractError(
            f"channel '{channel}' has ContentType {settings['ContentType']!r}; "
            f"this algorithm reads {CSV_CONTENT_TYPE} only"
        )
    if settings.get("TrainingInputMode", "File") == "Pipe":
        raise ContractError(f"channel '{channel}' uses Pipe input mode; use File or FastFile mode")
    files = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(directory).parts)
    )
    if not files:
        raise ContractError(f"channel '{channel}' has no files in {directory}")
    tables = [read_csv_file(path) for path in files]
    for path, table in zip(files, tables, strict=True):
        if table.shape[1] != tables[0].shape[1]:
            raise ContractError(
                f"{path} has {table.shape[1]} columns but {files[0]} has {tables[0].shape[1]}; "
                "every file of a channel needs the same columns"
            )
    offsets = np.cumsum([0] + [len(table) for table in tables[:-1]])
    table = np.concatenate(tables)
    return Dataset(
        features=table[:, 1:].astype(np.float32),
        labels=table[:, 0].astype(np.int64),
        files=tuple(files),
        file_offsets=tuple(int(offset) for offset in offsets),
    )


def resolve_num_classes(train: Dataset, validation: Dataset | None, requested: int | None) -> int:
    """The number of classes: ``requested``, or the largest train label + 1; checks every label."""
    num_classes = requested if requested is not None else int(train.labels.max()) + 1
    if num_classes < 2:
        raise ContractError(
            f"every label in the train channel is 0 ({train.files[0]} ...); "
            "a classifier needs at least two classes"
        )
    for name, dataset in (("train", train), ("validation", validation)):
        if dataset is None:
            continue
        too_large = np.flatnonzero(dataset.labels >= num_classes)
        if too_large.size:
            index = int(too_large[0])
            source = "the num_classes hyperparameter" if requested else "the train labels"
            raise ContractError(
                f"{dataset.locate(index)}: {name} label {dataset.labels[index]} is out of range; "
                f"{source} give {num_classes} classes, so labels must be 0..{num_classes - 1}"
            )
    return num_classes


def hold_out(dataset: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Split off ``fraction`` of the rows, the same share of each class, chosen by ``seed``.

    Every class keeps at least one row for training; a class of one row is not held out.
    """
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in np.unique(dataset.labels):
        rows = rng.permutation(np.flatnonzero(dataset.labels == label))
        held.append(rows[: min(round(fraction * len(rows)), len(rows) - 1)])
    mask = np.zeros(len(dataset), dtype=bool)
    mask[np.concatenate(held)] = True
    return _subset(dataset, np.flatnonzero(~mask)), _subset(dataset, np.flatnonzero(mask))


def _subset(dataset: Dataset, rows: np.ndarray) -> Dataset:
    origin = rows if dataset.origin is None else dataset.origin[rows]
    return Dataset(
        dataset.features[rows], dataset.labels[rows], dataset.files, dataset.file_offsets, origin
    )


def standardization(train: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the train channel, built into the model.

    Raises ``ContractError`` for a feature whose standardised values, ``(x - mean) / std`` in
    float32 as the model computes them, overflow: training on them would make the loss NaN,
    or not, depending on how the CPU's kernels order the arithmetic.
    """
    mean = train.features.mean(axis=0, dtype=np.float64)
    std = train.features.std(axis=0, dtype=np.float64)
    std[std < MIN_FEATURE_STD] = 1.0
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    _check_standardization(train, mean32, std32)
    return mean32, std32


def _check_standardization(train: Dataset, mean: np.ndarray, std: np.ndarray) -> None:
    """Fail on the first feature whose extreme value overflows float32 once standardised
    (the column's largest or smallest value is the first to overflow, if any does)."""
    rows = np.stack([train.features.argmax(axis=0), train.features.argmin(axis=0)])
    extremes = np.take_along_axis(train.features, rows, axis=0)
    with np.errstate(over="ignore"):
        overflows = ~np.isfinite((extremes - mean) / std)
    if not overflows.any():
        return
    which, column = (int(i) for i in np.argwhere(overflows)[0])
    row = int(rows[which, column])
    raise ContractError(
        f"{train.locate(row)}, column {column + 2}: {float(train.features[row, column]):g} is "
        f"too far from its column's train mean ({float(mean[column]):g}): standardising it "
        "overflows float32 and training would diverge; rescale that column so that its values "
        "differ by less than 3.4e38"
    )


def read_csv_file(path: Path) -> np.ndarray:
    """Parse one label-first CSV file into a float64 table, validating every cell."""
    if path.stat().st_size == 0:
        raise ContractError(f"{path} is empty; a CSV file needs at least one row")
    try:
        table = numeric_table(path)
    except TableError as error:
        raise ContractError(f"{path}: {error}") from None
    if table.size == 0:
        raise ContractError(f"{path} has no rows, only blank lines")
    if table.shape[1] < 2:
        raise ContractError(
            f"{path} has one column; rows need the label first, then at least one feature"
        )
    with np.errstate(over="ignore"):
        bad_cells = ~np.isfinite(table.astype(np.float32))
    if bad_cells.any():
        row, column = (int(i) for i in np.argwhere(bad_cells)[0])
        raise ContractError(
            f"{path}: row {line_number(path, row)}, column {column + 1}: "
            f"{float(table[row, column])} is not a finite float32 number"
        )
    labels = table[:, 0]
    bad_labels = (labels < 0) | (labels != np.round(labels))
    if bad_labels.any():
        row = int(np.flatnonzero(bad_labels)[0])
        raise ContractError(
            f"{path}: row {line_number(path, row)}: label {float(labels[row])} is not a class "
            "index; the first column must hold whole numbers 0, 1, 2, ..."
        )
    return table

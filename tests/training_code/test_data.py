"""CSV channels: label first, no header; every bad input names its file, row and column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sagemaker_contract.data import (
    load_channel,
    load_optional_channel,
    resolve_num_classes,
    standardization,
)
from sagemaker_contract.environment import TrainingEnvironment
from sagemaker_contract.errors import ContractError


def environment_at(base: Path, **environ: str) -> TrainingEnvironment:
    return TrainingEnvironment.from_environ({"SAGEMAKER_BASE_DIR": str(base), **environ})


def write(base: Path, channel: str, name: str, text: str) -> Path:
    path = base / "input" / "data" / channel / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_file_of_a_channel_in_order(tmp_path: Path) -> None:
    write(tmp_path, "train", "b.csv", "1,3.5,4\r\n")
    write(tmp_path, "train", "a.csv", "0,1,2\n\n2,5,6\n")
    write(tmp_path, "train", ".hidden", "garbage")
    dataset = load_channel(environment_at(tmp_path), "train")
    assert dataset.labels.tolist() == [0, 2, 1]
    assert dataset.features.dtype == np.float32
    assert dataset.features.tolist() == [[1, 2], [5, 6], [3.5, 4]]
    assert dataset.locate(2) == f"{tmp_path}/input/data/train/b.csv: row 1"
    assert dataset.locate(1) == f"{tmp_path}/input/data/train/a.csv: row 3"


def test_optional_validation_channel(tmp_path: Path) -> None:
    assert load_optional_channel(environment_at(tmp_path), "validation") is None
    given = environment_at(tmp_path, SM_CHANNEL_VALIDATION=str(tmp_path / "nowhere"))
    with pytest.raises(ContractError, match="channel 'validation' is missing"):
        load_optional_channel(given, "validation")


def test_missing_channel(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as error:
        load_channel(environment_at(tmp_path), "train")
    assert str(error.value) == (
        f"channel 'train' is missing: {tmp_path}/input/data/train is not a directory; "
        "give the training job an input channel named 'train'"
    )


def test_channel_without_files(tmp_path: Path) -> None:
    (tmp_path / "input" / "data" / "train").mkdir(parents=True)
    with pytest.raises(ContractError, match="channel 'train' has no files in"):
        load_channel(environment_at(tmp_path), "train")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{path} is empty; a CSV file needs at least one row"),
        ("\n\n", "{path} has no rows, only blank lines"),
        ("0,1,2\n1,abc,3\n", "{path}: row 2, column 2: 'abc' is not a number"),
        ("label,a,b\n0,1,2\n", "{path}: row 1, column 1: 'label' is not a number (no header row"),
        ("0,1,2\n\n1,,3\n", "{path}: row 3, column 2: '' is not a number"),
        ("0,1,2\n1,2\n", "{path}: row 2: 2 columns, expected 3"),
        ("0\n1\n", "{path} has one column; rows need the label first, then at least one feature"),
        ("0,1,2\n1,nan,3\n", "{path}: row 2, column 2: nan is not a finite float32 number"),
        ("0,1,1e39\n", "{path}: row 1, column 3: 1e+39 is not a finite float32 number"),
        ("0,1,2\n1.5,1,2\n", "{path}: row 2: label 1.5 is not a class index; the first column"),
        ("-1,1,2\n", "{path}: row 1: label -1.0 is not a class index"),
    ],
)
def test_bad_files_name_file_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "train", "part.csv", text)
    with pytest.raises(ContractError) as error:
        load_channel(environment_at(tmp_path), "train")
    assert str(error.value).startswith(message.format(path=path))


def test_non_utf8_file(tmp_path: Path) -> None:
    path = write(tmp_path, "train", "part.csv", "0,1\n")
    path.write_bytes(b"0,1\n1,\xff\n")
    with pytest.raises(ContractError, match=r"part\.csv: not UTF-8 text \(byte 6\)"):
        load_channel(environment_at(tmp_path), "train")


def test_files_of_one_channel_must_agree_on_columns(tmp_path: Path) -> None:
    first = write(tmp_path, "train", "a.csv", "0,1,2\n")
    second = write(tmp_path, "train", "b.csv", "1,2\n")
    with pytest.raises(ContractError) as error:
        load_channel(environment_at(tmp_path), "train")
    assert str(error.value).startswith(f"{second} has 2 columns but {first} has 3")


def test_channel_content_type_and_input_mode(tmp_path: Path) -> None:
    write(tmp_path, "train", "a.csv", "0,1\n")
    config = {"train": {"ContentType": "application/x-recordio-protobuf"}}
    environment = environment_at(tmp_path, SM_INPUT_DATA_CONFIG=json.dumps(config))
    with pytest.raises(ContractError) as error:
        load_channel(environment, "train")
    assert str(error.value) == (
        "channel 'train' has ContentType 'application/x-recordio-protobuf'; "
        "this algorithm reads text/csv only"
    )
    config = {"train": {"ContentType": "text/csv; charset=utf-8", "TrainingInputMode": "Pipe"}}
    environment = environment_at(tmp_path, SM_INPUT_DATA_CONFIG=json.dumps(config))
    with pytest.raises(ContractError, match="uses Pipe input mode; use File or FastFile mode"):
        load_channel(environment, "train")


def test_num_classes_inferred_or_checked(tmp_path: Path) -> None:
    write(tmp_path, "train", "a.csv", "0,1\n2,1\n")
    path = write(tmp_path, "validation", "v.csv", "1,1\n3,1\n")
    environment = environment_at(tmp_path)
    train = load_channel(environment, "train")
    validation = load_channel(environment, "validation")
    assert resolve_num_classes(train, None, None) == 3
    assert resolve_num_classes(train, validation, 5) == 5
    with pytest.raises(ContractError) as error:
        resolve_num_classes(train, validation, None)
    assert str(error.value) == (
        f"{path}: row 2: validation label 3 is out of range; the train labels give 3 classes, "
        "so labels must be 0..2"
    )


def test_one_class_is_not_a_classification(tmp_path: Path) -> None:
    write(tmp_path, "train", "a.csv", "0,1\n0,2\n")
    train = load_channel(environment_at(tmp_path), "train")
    with pytest.raises(ContractError, match="a classifier needs at least two classes"):
        resolve_num_classes(train, None, None)


def test_standardization_leaves_constant_features_unscaled(tmp_path: Path) -> None:
    write(tmp_path, "train", "a.csv", "0,1,5\n1,3,5\n")
    mean, std = standardization(load_channel(environment_at(tmp_path), "train"))
    assert mean.tolist() == [2, 5]
    assert std.tolist() == [1, 1]


def test_a_feature_whose_standardisation_overflows_float32_is_refused(tmp_path: Path) -> None:
    """Every cell is a finite float32, but x - mean is not: the model would see an infinity."""
    path = write(tmp_path, "train", "a.csv", "0,1,3e38\n1,2,3e38\n0,3,-3.4e38\n1,4,1\n")
    train = load_channel(environment_at(tmp_path), "train")
    with pytest.raises(ContractError) as raised:
        standardization(train)
    assert str(raised.value) == (
        f"{path}: row 3, column 3: -3.4e+38 is too far from its column's train mean (6.5e+37): "
        "standardising it overflows float32 and training would diverge; rescale that column so "
        "that its values differ by less than 3.4e38"
    )


def test_extreme_values_that_standardise_to_finite_numbers_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "train", "a.csv", "0,3.4e38\n1,3.4e38\n0,1e38\n")
    mean, std = standardization(load_channel(environment_at(tmp_path), "train"))
    assert np.isfinite(mean).all()
    assert np.isfinite(std).all()

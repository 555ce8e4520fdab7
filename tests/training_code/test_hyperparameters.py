"""Hyperparameters arrive as strings (or toolkit-decoded JSON) and are parsed with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sagemaker_contract.errors import ContractError
from sagemaker_contract.hyperparameters import (
    Hyperparameters,
    gather_raw_hyperparameters,
    parse_command_line,
    parse_hyperparameters,
)


def test_defaults_when_nothing_is_given() -> None:
    assert parse_hyperparameters(Hyperparameters, {}) == Hyperparameters()


def test_strings_as_sagemaker_passes_them() -> None:
    parsed = parse_hyperparameters(
        Hyperparameters,
        {
            "epochs": "3",
            "batch_size": "128",
            "learning_rate": "1e-2",
            "hidden_sizes": "[128, 64, 32]",
            "dropout": "0.25",
            "num_classes": "4",
            "mixed_precision": "True",
            "seed": "7",
            "weight_decay": "0",
            "validation_fraction": "0.1",
            "early_stopping_patience": "5",
        },
    )
    assert parsed == Hyperparameters(
        epochs=3,
        batch_size=128,
        learning_rate=0.01,
        hidden_sizes=(128, 64, 32),
        dropout=0.25,
        num_classes=4,
        mixed_precision=True,
        seed=7,
        weight_decay=0.0,
        validation_fraction=0.1,
        early_stopping_patience=5,
    )


def test_auto_means_decide_from_the_data() -> None:
    words = {"epochs": "auto", "batch_size": "AUTO", "validation_fraction": '"auto"'}
    assert parse_hyperparameters(Hyperparameters, words) == Hyperparameters()
    assert Hyperparameters().epochs is None
    assert Hyperparameters().batch_size is None


def test_sdk_json_encoded_and_toolkit_decoded_values() -> None:
    # SDK framework estimators JSON-encode every value; SM_HPS holds decoded JSON values.
    encoded = {"num_classes": '"auto"', "hidden_sizes": "64, 32", "mixed_precision": '"false"'}
    decoded = {"epochs": 5, "hidden_sizes": [64, 32], "mixed_precision": False, "dropout": 0}
    assert parse_hyperparameters(Hyperparameters, encoded) == Hyperparameters(hidden_sizes=(64, 32))
    assert parse_hyperparameters(Hyperparameters, decoded) == Hyperparameters(
        epochs=5, hidden_sizes=(64, 32), dropout=0.0
    )


def test_reserved_names_of_sagemaker_and_tuning_are_ignored() -> None:
    raw = {
        "sagemaker_program": "pytorch/train.py",
        "_tuning_objective_metric": "validation:accuracy",
        "model_dir": "s3://bucket/job/model",
    }
    assert parse_hyperparameters(Hyperparameters, raw) == Hyperparameters()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("epochs", "ten", "epochs='ten' is invalid: must be auto or a whole number >= 1"),
        ("epochs", "0", "epochs='0' is invalid: must be auto or a whole number >= 1"),
        ("batch_size", "1.5", "batch_size='1.5' is invalid: must be auto or a whole number >= 1"),
        ("learning_rate", "-1", "learning_rate='-1' is invalid: must be a finite number > 0"),
        ("learning_rate", "nan", "learning_rate='nan' is invalid: must be a finite number > 0"),
        ("dropout", "1", "dropout='1' is invalid: must be a number >= 0 and < 1"),
        ("weight_decay", "-0.1", "weight_decay='-0.1' is invalid: must be a finite number >= 0"),
        ("validation_fraction", "1", "must be auto or a number >= 0 and < 1"),
        ("early_stopping_patience", "-1", "must be auto or a whole number >= 0"),
        ("hidden_sizes", "[]", "hidden_sizes='[]' is invalid: must be a non-empty list"),
        ("hidden_sizes", "64,x", "hidden_sizes='64,x' is invalid: must be a non-empty list"),
        ("hidden_sizes", "[64, 0]", "must be a non-empty list of whole numbers >= 1"),
        ("num_classes", "1", "num_classes='1' is invalid: must be auto or a whole number >= 2"),
        ("mixed_precision", "maybe", "mixed_precision='maybe' is invalid: must be true or false"),
    ],
)
def test_invalid_values_name_the_hyperparameter_and_the_rule(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ContractError) as error:
        parse_hyperparameters(Hyperparameters, {name: value})
    assert message in str(error.value)


def test_unknown_names_are_rejected_with_the_accepted_ones() -> None:
    with pytest.raises(ContractError) as error:
        parse_hyperparameters(Hyperparameters, {"epoch": "3", "lr": "0.1"})
    assert str(error.value).startswith("unknown hyperparameter(s) epoch, lr; accepted: epochs,")


def test_command_line_flags_as_the_toolkit_passes_them() -> None:
    assert parse_command_line(["--epochs", "3", "--hidden_sizes=[8, 4]"]) == {
        "epochs": "3",
        "hidden_sizes": "[8, 4]",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["epochs", "3"], "unexpected command-line argument 'epochs'; pass hyperparameters as"),
        (["--epochs"], "command-line flag --epochs has no value"),
    ],
)
def test_malformed_command_lines(argv: list[str], message: str) -> None:
    with pytest.raises(ContractError, match=message):
        parse_command_line(argv)


def test_file_then_sm_hps_then_flags(tmp_path: Path) -> None:
    (tmp_path / "hyperparameters.json").write_text(
        json.dumps({"epochs": "1", "seed": "1", "dropout": "0.5"})
    )
    environ = {"SM_HPS": json.dumps({"epochs": 2, "seed": 2})}
    raw = gather_raw_hyperparameters(tmp_path, environ, ["--epochs", "3"])
    assert raw == {"epochs": "3", "seed": 2, "dropout": "0.5"}


def test_malformed_hyperparameter_sources_are_named(tmp_path: Path) -> None:
    (tmp_path / "hyperparameters.json").write_text("{not json")
    with pytest.raises(ContractError, match=r"hyperparameters file .*hyperparameters.json is not"):
        gather_raw_hyperparameters(tmp_path, {}, [])
    (tmp_path / "hyperparameters.json").write_text("[1, 2]")
    with pytest.raises(ContractError, match="must hold a JSON object of hyperparameters"):
        gather_raw_hyperparameters(tmp_path, {}, [])
    with pytest.raises(ContractError, match="environment variable SM_HPS is not valid JSON"):
        gather_raw_hyperparameters(tmp_path / "absent", {"SM_HPS": "{"}, [])

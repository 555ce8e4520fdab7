"""Every mistake a `make compare` user can make: one message, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from compare import main

from tests.conftest import REPO_ROOT


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the command; it must exit 2 with one error line and no traceback."""
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_header_row_is_named_as_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "churn.csv", "churned,age,charges\n1,40,20.5\n0,33,10.0\n")
    message = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"))
    assert "row 1, column 1: 'churned' is not a number (no header row is expected)" in message


def test_a_table_without_a_label_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "features.csv", "".join(f"{i}.5\n" for i in range(20)))
    message = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"))
    assert "has one column; rows need the label first, then the features" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"1,2,3\n\xff\xfe,1,2\n", "not UTF-8 text"),
        ("1,2,3\n0,4\n", "row 2: 2 columns, expected 3"),
        ("", "has no rows"),
    ],
)
def test_an_unreadable_csv_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, expected: str
) -> None:
    data = write(tmp_path / "bad.csv", content)
    assert expected in run(capsys, "--data", str(data), "--out", str(tmp_path / "out"))


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.csv"
    message = run(capsys, "--data", str(missing), "--out", str(tmp_path / "out"))
    assert f"DATA {missing}: no such file" in message


def test_labels_that_are_not_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write(tmp_path / "values.csv", "".join(f"{i / 3:.3f},{i}\n" for i in range(30)))
    message = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"))
    assert "labels must be class indices 0, 1, 2, ..." in message


def test_more_classes_than_the_builtin_objective_handles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "three.csv", "".join(f"{i % 3},{i}\n" for i in range(30)))
    message = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"))
    assert "has labels 0..2, but 'churn-xgboost' has the two-class objective" in message
    assert "multi:softprob and num_class 3" in message


def test_a_name_that_is_not_a_training_definition(capsys: pytest.CaptureFixture[str]) -> None:
    message = run(capsys, "--builtin", "churn-xgbost")
    assert "'churn-xgbost' is not a training definition in config/dev.yaml" in message
    assert "did you mean 'churn-xgboost'?" in message


def test_a_custom_definition_given_as_the_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    message = run(capsys, "--builtin", "churn-pytorch")
    assert "BUILTIN 'churn-pytorch' is not a built-in algorithm definition" in message


def test_a_builtin_definition_given_as_the_custom(capsys: pytest.CaptureFixture[str]) -> None:
    message = run(capsys, "--custom", "churn-xgboost")
    assert "CUSTOM 'churn-xgboost' is not a custom model definition" in message


def test_a_builtin_with_no_open_source_counterpart_is_not_faked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = run(capsys, "--builtin", "churn-linear-learner")
    assert "uses linear-learner, whose SageMaker container is Amazon's own code" in message
    assert "compare it on AWS (TARGET=aws)" in message


def test_a_builtin_hyperparameter_the_catalog_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The definition is checked by the project's own validation before anything runs."""
    dev = (REPO_ROOT / "config" / "dev.yaml").read_text(encoding="utf-8")
    bad = dev.replace("      max_depth: 4\n", "      max_depth: -4\n", 1)
    assert bad != dev
    config = write(tmp_path / "dev.yaml", bad)
    message = run(capsys, "--config", str(config))
    assert "max_depth" in message


def test_a_regression_builtin_has_no_custom_counterpart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = (REPO_ROOT / "config" / "dev.yaml").read_text(encoding="utf-8")
    regression = dev.replace('objective: "binary:logistic"', 'objective: "reg:squarederror"', 1)
    regression = regression.replace("      eval_metric: auc\n", "      eval_metric: rmse\n", 1)
    config = write(tmp_path / "dev.yaml", regression)
    message = run(capsys, "--config", str(config), "--out", str(tmp_path / "out"))
    assert "'churn-xgboost' is a regressor (reg:squarederror)" in message
    assert "the custom models in training_code/ are classifiers" in message


def test_aws_against_the_emulator_says_what_it_cannot_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5000")
    message = run(capsys, "--target", "aws")
    assert "creates training jobs but never runs them" in message
    assert "no final metrics or billable seconds to compare" in message

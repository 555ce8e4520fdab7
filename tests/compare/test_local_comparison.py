"""`make compare` end to end on this machine: XGBoost's library against the local loop.

One run on a small generated table (real training of both sides, the real ``serve`` over HTTP),
shared by the tests below. Needs xgboost, scikit-learn and matplotlib (requirements/training.in).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from compare import main
from compare_data import read_table
from sklearn.metrics import roc_auc_score

from training_code.local_sagemaker.sample_data import make_classification, write_csv

ROWS = 300


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, str]:
    """The report, the output folder and what the command printed."""
    base = tmp_path_factory.mktemp("compare")
    features, labels = make_classification(ROWS, features=5, classes=2, seed=3)
    data = write_csv(base / "table.csv", features, labels)
    out = base / "out"
    args = ["--data", str(data), "--out", str(out), "--keep"]
    args += ["--single-requests", "10", "--batch-rows", "20", "--seed", "5"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(args) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report, out, printed.getvalue()


def test_the_split_holds_out_the_same_rows_for_both_sides(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    report, out, _ = run
    data = report["data"]
    assert data["rows"] == ROWS
    assert data["train_rows"] + data["validation_rows"] == ROWS
    assert data["validation_rows"] == round(ROWS * 0.2)
    split_file = out / "work" / "data" / "validation" / "validation.csv"
    custom_channel = (
        out / "work" / "custom" / "training" / "opt" / "ml" / "input" / "data" / "validation"
    )
    custom_file = custom_channel / "validation.csv"
    digest = hashlib.sha256(split_file.read_bytes()).hexdigest()
    assert data["validation_sha256"] == digest
    assert hashlib.sha256(custom_file.read_bytes()).hexdigest() == digest
    train = read_table(out / "work" / "data" / "train" / "train.csv")
    validation = read_table(split_file)
    assert len(train) == data["train_rows"] and len(validation) == data["validation_rows"]


def test_both_sides_report_the_same_metrics_in_range(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    report, _, _ = run
    assert report["problem"] == "2-class classification"
    assert report["primary_metric"] == "auc"
    for side in ("builtin", "custom"):
        metrics = report[side]["metrics"]
        assert set(metrics) == {"accuracy", "auc", "log_loss"}
        assert 0.5 < metrics["accuracy"] <= 1 and 0.5 < metrics["auc"] <= 1
        assert metrics["log_loss"] > 0
        assert report[side]["training_seconds"] > 0
        assert report[side]["model_bytes"] > 0
        latency = report[side]["latency"]
        assert 0 < latency["single_p50_ms"] <= latency["single_p90_ms"]
        assert latency["batch_rows"] == 20
        assert report[side]["endpoint_instances"] >= 1
    assert report["builtin"]["owned_code_lines"] == 0
    assert report["custom"]["owned_code_lines"] > 100


def test_the_builtin_metric_is_the_saved_boosters_on_the_held_out_rows(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    """Recompute the built-in AUC from the kept model: the report scores what was trained."""
    import xgboost

    report, out, _ = run
    validation = read_table(out / "work" / "data" / "validation" / "validation.csv")
    booster = xgboost.Booster(model_file=str(out / "work" / "builtin" / "model" / "xgboost-model"))
    scores = booster.predict(xgboost.DMatrix(validation.features))
    assert report["builtin"]["metrics"]["auc"] == pytest.approx(
        roc_auc_score(validation.labels, scores)
    )


def test_the_custom_metric_matches_its_training_jobs_own_validation(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    """The accuracy scored over HTTP equals the one the training job printed for its last epoch."""
    report, out, _ = run
    log = (out / "work" / "custom" / "train.log").read_text(encoding="utf-8")
    logged = re.findall(r"metric epoch=\d+ .*?validation_accuracy=([0-9.]+)", log)
    assert logged, log
    assert report["custom"]["metrics"]["accuracy"] == pytest.approx(float(logged[-1]), abs=1e-4)


def test_the_verdict_answers_each_criterion_with_numbers(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    report, _, printed = run
    criteria = [line["criterion"] for line in report["verdict"]]
    assert criteria == [
        "accuracy",
        "cost: training",
        "cost: serving",
        "development effort",
        "scalability",
    ]
    for line in report["verdict"]:
        assert line["winner"] in {"built-in", "custom", "tie"}
        assert any(ch.isdigit() for ch in line["evidence"])
        assert f"| {line['criterion']} | {line['winner']} |" in printed
    assert report["verdict"][3]["winner"] == "built-in"  # no model code to maintain
    auc = report["builtin"]["metrics"]["auc"], report["custom"]["metrics"]["auc"]
    gap = abs(auc[0] - auc[1])
    expected = "tie" if gap <= 0.005 else ("built-in" if auc[0] > auc[1] else "custom")
    assert report["verdict"][0]["winner"] == expected


def test_the_plot_is_a_png(run: tuple[dict[str, Any], Path, str]) -> None:
    _, out, printed = run
    plot = out / "comparison.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 5000
    assert f"Wrote {out / 'report.json'} and {plot}" in printed


def test_the_same_seed_gives_the_same_split(tmp_path: Path) -> None:
    from compare_data import Table, split

    table = Table(np.arange(40.0).reshape(20, 2), np.arange(20.0) % 2, "t")
    first = split(table, tmp_path / "a", 0.25, seed=1)
    second = split(table, tmp_path / "b", 0.25, seed=1)
    other = split(table, tmp_path / "c", 0.25, seed=2)
    assert first.validation_sha256 == second.validation_sha256 != other.validation_sha256
    assert first.train_rows == 15 and len(first.validation) == 5

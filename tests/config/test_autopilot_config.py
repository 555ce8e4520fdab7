"""Autopilot training definitions: what the loader accepts, and the exact message for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_stage_config

HEAD = """\
account: "123456789012"
region: us-east-1
training:
  churn:
"""
AUTOPILOT = """\
    autopilot:
      problem_type: {problem_type}
      target_column: churned
      objective_metric: {objective}
{more}    channels:
      train:
        prefix: churn/tabular/train/
{extra}"""
GOOD = {"problem_type": "BinaryClassification", "objective": "F1", "more": "", "extra": ""}


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path)
    return str(raised.value).replace(str(path), "{file}")


def test_a_full_autopilot_definition_loads(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    more = (
        "      mode: HYPERPARAMETER_TUNING\n"
        "      max_candidates: 10\n"
        "      max_runtime_per_candidate_minutes: 20\n"
        "      max_job_runtime_minutes: 120\n"
        "      content_type: parquet\n"
        "      validation_fraction: 0.25\n"
    )
    path.write_text(HEAD + AUTOPILOT.format(**{**GOOD, "more": more}))
    training = load_stage_config(path).training["churn"]
    assert training.autopilot is not None
    assert training.autopilot.model_dump() == {
        "problem_type": "BinaryClassification",
        "target_column": "churned",
        "objective_metric": "F1",
        "mode": "HYPERPARAMETER_TUNING",
        "max_candidates": 10,
        "max_runtime_per_candidate_minutes": 20,
        "max_job_runtime_minutes": 120,
        "content_type": "parquet",
        "validation_fraction": 0.25,
    }
    assert training.instance_type is None


@pytest.mark.parametrize(
    ("problem_type", "objective", "message"),
    [
        pytest.param(
            "Regression",
            "F1",
            "{file}:8: training.churn.autopilot.objective_metric: F1 is not an objective for "
            "Regression (F1 is for BinaryClassification); choose one of MSE, MAE, R2, RMSE "
            "(default MSE)",
            id="classification-metric-for-regression",
        ),
        pytest.param(
            "BinaryClassification",
            "F1macro",
            "{file}:8: training.churn.autopilot.objective_metric: F1macro is not an objective "
            "for BinaryClassification (F1macro is for MulticlassClassification); choose one of "
            "F1, Accuracy, AUC, BalancedAccuracy, Precision, Recall (default F1)",
            id="multiclass-metric-for-binary",
        ),
        pytest.param(
            "MulticlassClassification",
            "RMSE",
            "{file}:8: training.churn.autopilot.objective_metric: RMSE is not an objective "
            "for MulticlassClassification (RMSE is for Regression); choose one of Accuracy, "
            "BalancedAccuracy, F1macro, PrecisionMacro, RecallMacro (default Accuracy)",
            id="regression-metric-for-multiclass",
        ),
        pytest.param(
            "BinaryClassification",
            "LogLoss",
            "{file}:8: training.churn.autopilot.objective_metric: LogLoss is not an objective "
            "for BinaryClassification; choose one of F1, Accuracy, AUC, BalancedAccuracy, "
            "Precision, Recall (default F1)",
            id="reported-metric-that-is-no-objective",
        ),
    ],
)
def test_an_objective_that_does_not_fit_the_problem_type(
    tmp_path: Path, problem_type: str, objective: str, message: str
) -> None:
    text = HEAD + AUTOPILOT.format(**{**GOOD, "problem_type": problem_type, "objective": objective})
    assert _load(tmp_path, text) == message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            "    instance_type: ml.m5.large\n",
            "{file}:12: training.churn.instance_type: does not apply to autopilot (Autopilot "
            "chooses the instances of its jobs); remove it",
            id="instance-type",
        ),
        pytest.param(
            "    hyperparameters:\n      num_round: 5\n",
            "{file}:12: training.churn.hyperparameters: does not apply to autopilot (Autopilot "
            "tunes the hyperparameters itself); remove it",
            id="hyperparameters",
        ),
        pytest.param(
            "    spot:\n      max_wait_minutes: 60\n",
            "{file}:12: training.churn.spot: does not apply to autopilot (Autopilot does not "
            "train on spot capacity); remove it",
            id="spot",
        ),
        pytest.param(
            "    max_runtime_minutes: 30\n",
            "{file}:12: training.churn.max_runtime_minutes: does not apply to autopilot (use "
            "autopilot.max_runtime_per_candidate_minutes and autopilot.max_job_runtime_minutes)"
            "; remove it",
            id="max-runtime",
        ),
        pytest.param(
            "    tuning:\n      objective_metric: validation:auc\n      objective_type: Maximize\n"
            "      max_jobs: 2\n      max_parallel_jobs: 1\n      ranges:\n"
            "        eta: {min: 0.1, max: 0.5}\n",
            "{file}:12: training.churn.tuning: does not apply to autopilot (Autopilot tunes the "
            "hyperparameters itself (see autopilot.mode)); remove it",
            id="tuning",
        ),
        pytest.param(
            "    algorithm: xgboost\n",
            "{file}:12: training.churn.algorithm: give exactly one of algorithm, framework or "
            "autopilot",
            id="two-kinds",
        ),
    ],
)
def test_a_setting_autopilot_decides_itself_is_refused(
    tmp_path: Path, extra: str, message: str
) -> None:
    assert _load(tmp_path, HEAD + AUTOPILOT.format(**{**GOOD, "extra": extra})) == message


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        pytest.param(
            "      test:\n        prefix: churn/tabular/test/\n",
            "{file}:12: training.churn.channels.test: an autopilot definition reads a 'train' "
            "channel and optionally a 'validation' channel",
            id="unknown-channel",
        ),
        pytest.param(
            "      validation:\n        prefix: churn/tabular/validation/\n"
            "        content_type: text/csv\n",
            "{file}:14: training.churn.channels.validation.content_type: autopilot reads "
            "autopilot.content_type (csv or parquet); remove it",
            id="channel-content-type",
        ),
    ],
)
def test_autopilot_channels(tmp_path: Path, channels: str, message: str) -> None:
    assert _load(tmp_path, HEAD + AUTOPILOT.format(**{**GOOD, "extra": channels})) == message


def test_a_validation_channel_and_a_validation_fraction_exclude_each_other(
    tmp_path: Path,
) -> None:
    text = HEAD + AUTOPILOT.format(
        **{
            **GOOD,
            "more": "      validation_fraction: 0.2\n",
            "extra": "      validation:\n        prefix: churn/tabular/validation/\n",
        }
    )
    assert _load(tmp_path, text) == (
        "{file}:9: training.churn.autopilot.validation_fraction: a validation channel is "
        "given; remove validation_fraction or the channel"
    )


def test_a_candidate_may_not_outlast_the_job(tmp_path: Path) -> None:
    more = "      max_runtime_per_candidate_minutes: 90\n      max_job_runtime_minutes: 60\n"
    text = HEAD + AUTOPILOT.format(**{**GOOD, "more": more})
    assert _load(tmp_path, text) == (
        "{file}:9: training.churn.autopilot.max_runtime_per_candidate_minutes: must not "
        "exceed max_job_runtime_minutes (60)"
    )


def test_an_unknown_problem_type_lists_the_allowed_ones(tmp_path: Path) -> None:
    text = HEAD + AUTOPILOT.format(**{**GOOD, "problem_type": "Forecasting"})
    assert _load(tmp_path, text) == (
        "{file}:6: training.churn.autopilot.problem_type: Input should be "
        "'BinaryClassification', 'MulticlassClassification' or 'Regression' "
        "(got 'Forecasting')"
    )


def test_algorithm_and_framework_definitions_still_need_an_instance_type(
    tmp_path: Path,
) -> None:
    text = HEAD + (
        "    algorithm: xgboost\n"
        "    hyperparameters:\n      num_round: 5\n"
        "    channels:\n      train:\n        prefix: churn/train/\n"
    )
    assert _load(tmp_path, text) == (
        "{file}:4: training.churn.instance_type: required setting is missing"
    )

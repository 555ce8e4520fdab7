"""The `monitoring:` section of an endpoint: what it becomes, and every mistake's exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, StageConfig, load_stage_config
from constructs_lib.monitoring import MonitoringSchedule

HEAD = """\
account: "123456789012"
region: {region}
removal_policy: destroy
endpoints:
  churn:
    model:
      algorithm: xgboost
      version: "1.7-1"
      artifact: models/churn/output/model.tar.gz
"""
CAPTURED = HEAD + "    data_capture_percent: 50\n"
ACCEPTED = (
    "'hourly', 'daily', cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at hour H, 0-23) "
    "or cron(0 H/N ? * * *) (every N hours from hour H, N 1-24)"
)
FULL = """\
    monitoring:
      instance_type: ml.m5.large
      volume_size_gb: 30
      max_runtime_minutes: 45
      data_quality:
        baseline_statistics: monitoring/churn/baseline/statistics.json
        baseline_constraints: monitoring/churn/baseline/constraints.json
        drift_alarms:
          features: [age]
      model_quality:
        schedule: daily
        problem_type: Regression
        ground_truth_prefix: monitoring/churn/ground-truth/
        alarm:
          metric: rmse
          threshold: 2.5
      bias:
        schedule: cron(0 6/12 ? * * *)
        label: churned
        label_values: [1]
        facet: age
        facet_values: [60]
        headers: [tenure, age]
        ground_truth_prefix: monitoring/churn/ground-truth/
        probability_attribute: "0"
      explainability:
        analysis_config: monitoring/churn/clarify/explainability.json
"""


def _load(tmp_path: Path, text: str, region: str = "us-east-1") -> StageConfig:
    path = tmp_path / "dev.yaml"
    path.write_text(text.format(region=region))
    return load_stage_config(path)


def test_every_section_becomes_the_constructs_option(tmp_path: Path) -> None:
    monitoring = _load(tmp_path, CAPTURED + FULL).endpoints["churn"].monitoring
    assert monitoring is not None
    resources = monitoring.resources()
    assert (resources.instance_type, resources.volume_size_gb) == ("ml.m5.large", 30)
    assert resources.max_runtime.to_minutes() == 45
    assert monitoring.data_quality is not None
    data_quality = monitoring.data_quality.monitor()
    assert data_quality.schedule == MonitoringSchedule.hourly()
    assert data_quality.baseline_constraints == "monitoring/churn/baseline/constraints.json"
    assert (tuple(data_quality.drift_alarm_features), data_quality.drift_threshold) == (
        ("age",),
        0.1,
    )
    assert monitoring.model_quality is not None
    model_quality = monitoring.model_quality.monitor()
    assert model_quality.schedule == MonitoringSchedule.daily()
    assert (model_quality.alarm_metric, model_quality.alarm_threshold) == ("rmse", 2.5)
    assert monitoring.bias is not None
    bias = monitoring.bias.monitor()
    assert bias.schedule == MonitoringSchedule.every(12, starting_hour=6)
    assert (bias.facet, tuple(bias.facet_values or ()), bias.label) == ("age", (60,), "churned")
    assert monitoring.explainability is not None
    explainability = monitoring.explainability.monitor()
    # SHAP asks the endpoint for many predictions per record: daily unless told otherwise.
    assert explainability.schedule == MonitoringSchedule.daily()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            HEAD + "    monitoring:\n      data_quality: {{}}\n",
            "{file}:10: endpoints.churn.monitoring: needs data capture: monitoring schedules "
            "analyse the requests and responses the endpoint captures; set "
            "data_capture_percent (1 to 100) on this endpoint",
            id="no-data-capture",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      data_quality:\n        schedule: rate(1 hour)\n",
            f"{{file}}:13: endpoints.churn.monitoring.data_quality.schedule: SageMaker Model "
            f"Monitor accepts only {ACCEPTED} (got 'rate(1 hour)'); SageMaker monitoring "
            "schedules take no rate() expressions",
            id="rate-schedule",
        ),
        pytest.param(
            CAPTURED
            + "    monitoring:\n      data_quality:\n        schedule: cron(30 * ? * * *)\n",
            f"{{file}}:13: endpoints.churn.monitoring.data_quality.schedule: SageMaker Model "
            f"Monitor accepts only {ACCEPTED} (got 'cron(30 * ? * * *)')",
            id="cron-not-on-the-hour",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      explainability:\n        schedule: weekly\n"
            "        analysis_config: monitoring/churn/clarify.json\n",
            f"{{file}}:13: endpoints.churn.monitoring.explainability.schedule: SageMaker Model "
            f"Monitor accepts only {ACCEPTED} (got 'weekly')",
            id="unknown-schedule-word",
        ),
        pytest.param(
            HEAD.replace("      algorithm: xgboost\n", "      framework: pytorch\n").replace(
                '      version: "1.7-1"\n', ""
            )
            + "    serverless: {{}}\n    monitoring:\n      data_quality: {{}}\n",
            "{file}:9: endpoints.churn.serverless: cannot be combined with monitoring: "
            "serverless endpoints have no instances to choose or scale, no data capture (so "
            "nothing to monitor) and no deployment guardrails",
            id="serverless",
        ),
        pytest.param(
            CAPTURED + "    monitoring: {{}}\n",
            "{file}:11: endpoints.churn.monitoring.data_quality: monitoring needs at least one "
            "of data_quality, model_quality, bias or explainability",
            id="nothing-to-monitor",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      model_quality:\n"
            "        problem_type: BinaryClassification\n"
            "        probability_attribute: '0'\n",
            "{file}:12: endpoints.churn.monitoring.model_quality.ground_truth_prefix: required "
            "setting is missing",
            id="model-quality-without-ground-truth",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      model_quality:\n"
            "        problem_type: BinaryClassification\n"
            "        ground_truth_prefix: monitoring/churn/ground-truth/\n",
            "{file}:12: endpoints.churn.monitoring.model_quality: ModelQualityMonitor needs "
            "inference_attribute or probability_attribute for a classification problem: where "
            "the prediction is in the response",
            id="classification-without-prediction",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      model_quality:\n        problem_type: Regression\n"
            "        ground_truth_prefix: monitoring/churn/ground-truth/\n"
            "        alarm:\n          metric: auc\n          threshold: 0.7\n",
            "{file}:16: endpoints.churn.monitoring.model_quality.alarm.metric: metric must be "
            "one of mae, mse, r2, rmse for Regression (got 'auc')",
            id="metric-of-another-problem-type",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      bias:\n        label: churned\n"
            "        label_values: [1]\n        facet: gender\n        headers: [age, tenure]\n"
            "        ground_truth_prefix: monitoring/churn/ground-truth/\n",
            "{file}:12: endpoints.churn.monitoring.bias: BiasMonitor.facet 'gender' is not one "
            "of the headers (age, tenure)",
            id="facet-not-a-column",
        ),
        pytest.param(
            CAPTURED + "    monitoring:\n      max_runtime_minutes: 90\n      data_quality: {{}}\n",
            "{file}:12: endpoints.churn.monitoring.max_runtime_minutes: Input should be less "
            "than or equal to 60 (got 90)",
            id="runtime-past-the-next-hourly-run",
        ),
    ],
)
def test_mistakes_give_one_exact_located_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert str(raised.value) == message.format(file=tmp_path / "dev.yaml")


def test_a_baseline_that_is_a_prefix_is_refused_at_its_line(tmp_path: Path) -> None:
    text = CAPTURED + (
        "    monitoring:\n      data_quality:\n"
        "        baseline_constraints: monitoring/churn/baseline/\n"
    )
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert str(raised.value) == (
        f"{tmp_path / 'dev.yaml'}:13: endpoints.churn.monitoring.data_quality."
        "baseline_constraints: must be an object key in the artifacts bucket, e.g. "
        "monitoring/x/constraints.json; got 'monitoring/churn/baseline/'"
    )

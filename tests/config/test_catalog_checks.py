"""Training definitions are checked against the built-in algorithm catalog at synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_stage_config

TEMPLATE = """\
account: "123456789012"
region: us-east-1
training:
  churn:
    algorithm: {algorithm}
    instance_type: {instance}
    hyperparameters:
      {hyperparameter}
    channels:
      train:
        prefix: churn/train/
        content_type: {content_type}
{extra}"""
GOOD = {
    "algorithm": "xgboost",
    "instance": "ml.m5.large",
    "hyperparameter": "num_round: 5",
    "content_type": "text/csv",
    "extra": "",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"algorithm": "xgbost"},
            "{file}:5: training.churn.algorithm: unknown built-in algorithm 'xgbost'; "
            "did you mean 'xgboost'?",
            id="unknown-algorithm",
        ),
        pytest.param(
            {"hyperparameter": "num_rounds: 5"},
            "{file}:8: training.churn.hyperparameters.num_rounds: xgboost has no "
            "hyperparameter 'num_rounds'; did you mean 'num_round'?",
            id="misspelled-and-so-missing-hyperparameter",
        ),
        pytest.param(
            {"hyperparameter": "num_round: 0"},
            "{file}:8: training.churn.hyperparameters.num_round: xgboost hyperparameter "
            "'num_round' must be an integer >= 1; got 0",
            id="out-of-range",
        ),
        pytest.param(
            {
                "algorithm": "random-cut-forest",
                "instance": "ml.g5.xlarge",
                "hyperparameter": "feature_dim: 4",
            },
            "{file}:6: training.churn.instance_type: random-cut-forest trains on CPU instances "
            "only; ml.g5.xlarge is a GPU instance: use a CPU instance type (recommended: ml.m4, "
            "ml.c4 or ml.c5)",
            id="gpu-for-random-cut-forest",
        ),
        pytest.param(
            {"content_type": "image/png"},
            "{file}:12: training.churn.channels.train.content_type: xgboost does not read "
            "content type 'image/png' on channel 'train'; allowed: text/libsvm, text/csv, "
            "application/x-parquet, application/x-recordio-protobuf",
            id="content-type-not-read",
        ),
        pytest.param(
            {"instance": "ml.m5.hugex"},
            "{file}:6: training.churn.instance_type: ml.m5.hugex is not a SageMaker training "
            "instance type; ml.m5 sizes are large, xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge",
            id="unknown-instance-type",
        ),
        pytest.param(
            {"extra": "    max_runtime_minutes: 60\n    spot:\n      max_wait_minutes: 30\n"},
            "{file}:15: training.churn.spot.max_wait_minutes: must be at least "
            "max_runtime_minutes (60)",
            id="spot-wait-below-runtime",
        ),
    ],
)
def test_catalog_problem_gives_one_exact_message(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(TEMPLATE.format(**{**GOOD, **change}))
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path)
    assert str(raised.value) == message.format(file=path)


def test_a_valid_definition_loads(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(TEMPLATE.format(**GOOD))
    assert load_stage_config(path).training["churn"].hyperparameters == {"num_round": 5}


ENDPOINT = """\
account: "123456789012"
region: us-east-1
endpoints:
  churn:
{body}"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "    model: {algorithm: xgboost, artifact: models/a/output/model.tar.gz}\n"
            "    instance_type: ml.m5.large\n"
            "    autoscaling: {min_instances: 4, max_instances: 2}\n",
            "{file}:7: endpoints.churn.autoscaling.min_instances: must not exceed "
            "max_instances (2)",
            id="autoscaling-min-above-max",
        ),
        pytest.param(
            "    model: {algorithm: xgboost, artifact: models/a/output/model.tar.gz}\n"
            "    instance_type: ml.t2.medium\n"
            "    autoscaling: {max_instances: 2}\n",
            "{file}:7: endpoints.churn.autoscaling: SageMaker does not autoscale burstable "
            "instances (ml.t2.medium); choose a non-burstable type such as ml.m5.large, or "
            "remove autoscaling",
            id="autoscaling-on-burstable",
        ),
        pytest.param(
            "    model: {algorithm: xgboost, artifact: models/a/output/model.tar.gz}\n"
            "    serverless: {memory_size_mb: 1500}\n",
            "{file}:6: endpoints.churn.serverless: ServerlessConfig.memory_size_mb must be one "
            "of 1024, 2048, 3072, 4096, 5120 or 6144 (got 1500)",
            id="serverless-memory-not-allowed",
        ),
        pytest.param(
            "    model: {artifact: models/a/output/model.tar.gz}\n",
            "{file}:5: endpoints.churn.model.algorithm: give exactly one of algorithm or "
            "framework (with artifact), or model_package_arn",
            id="model-source-neither",
        ),
        pytest.param(
            "    model: {algorithm: xgboost, artifact: models/a/output/model.tar.gz}\n"
            "    stack: Serving2\n",
            "{file}:6: endpoints.churn.stack: must be 'serving', or 'serving-' and a suffix such "
            "as serving-2 or serving-fraud; got 'Serving2'",
            id="serving-stack-name",
        ),
        pytest.param(
            "    model: {algorithm: xgboost, artifact: s3://bucket/models/model.zip}\n",
            "{file}:5: endpoints.churn.model.artifact: must be s3://bucket/key.tar.gz, or a key "
            "in the stage's artifacts bucket (models/<definition>/<job>/output/model.tar.gz); "
            "got 's3://bucket/models/model.zip'",
            id="artifact-not-a-tarball",
        ),
    ],
)
def test_endpoint_problem_gives_one_exact_message(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(ENDPOINT.format(body=body))
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path)
    assert str(raised.value) == message.format(file=path)

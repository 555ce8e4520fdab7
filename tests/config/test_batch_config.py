"""The `batch_transforms:` section: the committed files, defaults, and one exact, located message
for every mistake a user can make in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEFAULT_CONFIG_DIR, ConfigError, StageConfig, load_all, load_stage_config
from config.batch_checks import batch_problems
from config.batch_schema import BatchTransformConfig

VALID = """\
account: "123456789012"
region: us-east-1
removal_policy: destroy
batch_transforms:
  churn:
"""
MODEL = "    model:\n      algorithm: xgboost\n      artifact: models/x/model.tar.gz\n"
INPUT = "    input:\n      prefix: churn/batch/\n      content_type: text/csv\n"
INSTANCE = "    instance_type: ml.m5.large\n"
FIELDS = ", ".join(BatchTransformConfig.model_fields)


def _load(tmp_path: Path, text: str) -> StageConfig:
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    return load_stage_config(path)


def _entry(*, model: str = MODEL, input_: str = INPUT, rest: str = INSTANCE) -> str:
    return VALID + model + input_ + rest


def test_dev_scores_churn_csv_by_line_on_one_small_instance() -> None:
    batch = load_all(DEFAULT_CONFIG_DIR)["dev"].batch_transforms["churn-xgboost"]
    assert batch.model.algorithm == "xgboost"
    assert batch.model.artifact is not None
    assert batch.input.prefix == "churn/batch/"
    assert batch.input.content_type == "text/csv"
    assert batch.input.split_type == "Line"
    assert batch.output.assemble_with == "Line"
    assert (batch.instance_type, batch.instance_count) == ("ml.m5.large", 1)


def test_prod_scores_with_the_registered_model_on_two_instances() -> None:
    batch = load_all(DEFAULT_CONFIG_DIR)["prod"].batch_transforms["churn-xgboost"]
    assert batch.model.model_package_arn is not None
    assert (batch.instance_type, batch.instance_count) == ("ml.m5.xlarge", 2)
    assert batch.max_concurrent_transforms == 4


def test_defaults_apply_to_unwritten_settings(tmp_path: Path) -> None:
    batch = _load(tmp_path, _entry()).batch_transforms["churn"]
    assert batch.input.split_type == "None"
    assert batch.input.compression == "None"
    assert batch.output.accept is None
    assert batch.output.assemble_with == "None"
    assert batch.instance_count == 1
    assert batch.max_runtime_minutes == 60
    assert batch.batch_strategy is None
    assert batch.environment == {}


def test_no_section_means_no_batch_transforms(tmp_path: Path) -> None:
    text = 'account: "123456789012"\nregion: us-east-1\nremoval_policy: destroy\n'
    assert _load(tmp_path, text).batch_transforms == {}


PREFIX = "must be a key prefix relative to the data bucket's datasets/ folder, ending in '/'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            _entry(input_=INPUT.replace("churn/batch/", "s3://my-bucket/churn/batch/")),
            f"{{file}}:10: batch_transforms.churn.input.prefix: {PREFIX}; "
            "got 's3://my-bucket/churn/batch/'",
            id="input-prefix-is-an-s3-uri",
        ),
        pytest.param(
            _entry(input_=INPUT.replace("churn/batch/", "churn/batch")),
            f"{{file}}:10: batch_transforms.churn.input.prefix: {PREFIX}; got 'churn/batch'",
            id="input-prefix-without-slash",
        ),
        pytest.param(
            _entry(input_=INPUT + "      split_type: Lines\n"),
            "{file}:12: batch_transforms.churn.input.split_type: Input should be 'None', 'Line', "
            "'RecordIO' or 'TFRecord' (got 'Lines')",
            id="unknown-split-type",
        ),
        pytest.param(
            _entry(input_=INPUT.replace("text/csv", "csv")),
            "{file}:11: batch_transforms.churn.input.content_type: must be a MIME type such as "
            "text/csv or application/jsonlines; got 'csv'",
            id="content-type-not-a-mime-type",
        ),
        pytest.param(
            _entry(input_="    input:\n      prefix: churn/batch/\n"),
            "{file}:9: batch_transforms.churn.input.content_type: required setting is missing",
            id="content-type-missing",
        ),
        pytest.param(
            _entry(rest="    instance_type: ml.m5.larg\n"),
            "{file}:12: batch_transforms.churn.instance_type: ml.m5.larg is not a SageMaker "
            "transform instance type; did you mean ml.m5.large?",
            id="unknown-instance-type",
        ),
        pytest.param(
            _entry(rest=INSTANCE + "    instance_count: 0\n"),
            "{file}:13: batch_transforms.churn.instance_count: Input should be greater than or "
            "equal to 1 (got 0)",
            id="no-instances",
        ),
        pytest.param(
            _entry(rest=INSTANCE + "    batch_strategy: MultiRecord\n"),
            "{file}:13: batch_transforms.churn.batch_strategy: needs input.split_type Line, "
            "RecordIO or TFRecord: SageMaker cannot cut unsplit files into records",
            id="batch-strategy-without-split",
        ),
        pytest.param(
            _entry(rest=INSTANCE + "    max_payload_mb: 101\n"),
            "{file}:13: batch_transforms.churn.max_payload_mb: Input should be less than or "
            "equal to 100 (got 101)",
            id="payload-too-large",
        ),
        pytest.param(
            _entry(rest=INSTANCE + "    max_payload_mb: 30\n    max_concurrent_transforms: 4\n"),
            "{file}:13: batch_transforms.churn.max_payload_mb: times max_concurrent_transforms "
            "(4) must be at most 100 MB",
            id="payload-times-concurrency",
        ),
        pytest.param(
            _entry(rest=INSTANCE + "    environment:\n      1BAD: x\n"),
            "{file}:14: batch_transforms.churn.environment.1BAD: this name must be a variable "
            "name: letters, digits and '_', not starting with a digit; got '1BAD'",
            id="environment-name",
        ),
        pytest.param(
            _entry(model="    model:\n      algorithm: xgboost\n"),
            "{file}:6: batch_transforms.churn.model.artifact: required with algorithm or framework",
            id="model-without-artifact",
        ),
        pytest.param(
            _entry(rest="    instance_type: ml.m5.large\n    instances: 2\n"),
            "{file}:13: batch_transforms.churn.instances: unknown setting 'instances'; did you "
            "mean 'instance_type'?",
            id="misspelled-key",
        ),
        pytest.param(
            _entry().replace("  churn:\n", "  Churn_Batch:\n"),
            "{file}:5: batch_transforms.Churn_Batch: this name must be lower-case letters, digits "
            "and '-', starting with a letter and ending with a letter or digit, at most 23 "
            "characters: it prefixes job, model and model package group names; got 'Churn_Batch'",
            id="bad-name",
        ),
    ],
)
def test_bad_input_gives_one_exact_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert str(raised.value) == message.format(file=tmp_path / "dev.yaml")


def test_a_models_algorithm_is_checked_against_the_catalog_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, _entry(model=MODEL.replace("xgboost", "xgbost")))
    assert str(raised.value) == (
        f"{tmp_path / 'dev.yaml'}:7: batch_transforms.churn.model.algorithm: unknown built-in "
        "algorithm 'xgbost'; did you mean 'xgboost'?"
    )


def test_a_valid_model_has_no_problems() -> None:
    for config in load_all(DEFAULT_CONFIG_DIR).values():
        for batch in config.batch_transforms.values():
            assert batch_problems(batch, region=config.region) == []

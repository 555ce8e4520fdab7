"""Every mistake a user can make in an environment file gives one exact, located message."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEFAULT_CONFIG_DIR, ConfigError, StageConfig, load_all, load_stage_config
from config.schema import TrainingConfig

VALID = """\
account: "123456789012"
region: us-east-1
removal_policy: destroy
"""
#: What an unknown key's message lists as allowed: the fields of its section, in schema order.
TOP_LEVEL = ", ".join(StageConfig.model_fields)
TRAINING_FIELDS = ", ".join(TrainingConfig.model_fields)


def _load(tmp_path: Path, text: str) -> StageConfig:
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    return load_stage_config(path)


def test_the_committed_environment_files_are_valid() -> None:
    configs = load_all(DEFAULT_CONFIG_DIR)
    assert configs["dev"].production is False
    assert configs["prod"].production is True
    assert configs["prod"].termination_protection is True
    assert configs["prod"].removal_policy == "retain"


def test_defaults_apply_to_unwritten_settings(tmp_path: Path) -> None:
    config = _load(tmp_path, VALID)
    assert config.termination_protection is False
    assert config.auto_delete_objects is False
    assert config.storage.noncurrent_version_expiration_days == 90


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "account: [\n",
            "{file}:2: YAML syntax error: expected the node content, but found '<stream end>' "
            "(while parsing a flow node that starts here)",
            id="yaml-syntax",
        ),
        pytest.param(
            "",
            "{file}: the file must hold a mapping of settings (account, region, ...), not nothing",
            id="empty-file",
        ),
        pytest.param(
            "- account\n",
            "{file}: the file must hold a mapping of settings (account, region, ...), not list",
            id="not-a-mapping",
        ),
        pytest.param(
            'account: "123456789012"\naccount: "210987654321"\nregion: us-east-1\n',
            "{file}:2: account: duplicate key (first written on line 1); each key may appear once",
            id="duplicate-key",
        ),
        pytest.param(
            "region: us-east-1\n",
            "{file}: account: required setting is missing",
            id="missing-account",
        ),
        pytest.param(
            'account: "123456789012"\n',
            "{file}: region: required setting is missing",
            id="missing-region",
        ),
        pytest.param(
            "account: 123456789012\nregion: us-east-1\n",
            '{file}:1: account: must be text: quote it, e.g. "123456789012" (got 123456789012)',
            id="unquoted-account",
        ),
        pytest.param(
            'account: "12345"\nregion: us-east-1\n',
            "{file}:1: account: must be a 12-digit AWS account id, quoted so YAML keeps it a "
            "string; got '12345'",
            id="short-account",
        ),
        pytest.param(
            'account: "123456789012"\nregion: US-East\n',
            "{file}:2: region: must be an AWS region code such as us-east-1; got 'US-East'",
            id="bad-region",
        ),
        pytest.param(
            VALID + "encryption: false\n",
            f"{{file}}:4: encryption: unknown setting 'encryption'; allowed here: {TOP_LEVEL}",
            id="unknown-top-level-key",
        ),
        pytest.param(
            VALID + "termination_protecton: true\n",
            "{file}:4: termination_protecton: unknown setting 'termination_protecton'; did you "
            "mean 'termination_protection'?",
            id="misspelled-top-level-key",
        ),
        pytest.param(
            VALID
            + "training:\n  churn:\n    algorithm: xgboost\n    instance_type: ml.m5.large\n"
            + "    max_runtime_minute: 30\n    channels:\n      train:\n        prefix: a/\n",
            "{file}:8: training.churn.max_runtime_minute: unknown setting "
            "'max_runtime_minute'; did you mean 'max_runtime_minutes'?",
            id="misspelled-key-in-a-named-section",
        ),
        pytest.param(
            VALID + "notification_emails: [ml-team]\n",
            "{file}:4: notification_emails.0: must be an email address such as "
            "ml-team@example.com; got 'ml-team'",
            id="pattern-of-a-list-item",
        ),
        pytest.param(
            VALID + "termination_protection: yes please\n",
            "{file}:4: termination_protection: Input should be a valid boolean (got 'yes please')",
            id="wrong-type",
        ),
        pytest.param(
            VALID.replace("destroy", "delete"),
            "{file}:3: removal_policy: Input should be 'retain' or 'destroy' (got 'delete')",
            id="removal-policy-not-allowed",
        ),
        pytest.param(
            VALID + "storage:\n  noncurrent_version_expiration_days: 0\n",
            "{file}:5: storage.noncurrent_version_expiration_days: Input should be greater than "
            "or equal to 1 (got 0)",
            id="out-of-range",
        ),
        pytest.param(
            VALID + "storage:\n  expiration: 3\n",
            "{file}:5: storage.expiration: unknown setting 'expiration'; allowed here: "
            "noncurrent_version_expiration_days, incomplete_multipart_upload_days, "
            "access_log_expiration_days",
            id="unknown-nested-key",
        ),
        pytest.param(
            VALID + "tags:\n  team: [a, b]\n",
            "{file}:5: tags.team: Input should be a valid string",
            id="tag-not-a-string",
        ),
        pytest.param(
            VALID.replace("destroy", "retain") + "production: true\n",
            "{file}: termination_protection: a production stage must set it to true",
            id="prod-without-termination-protection",
        ),
        pytest.param(
            VALID + "production: true\ntermination_protection: true\n",
            "{file}:3: removal_policy: a production stage must use 'retain'",
            id="prod-with-destroy",
        ),
        pytest.param(
            VALID.replace("destroy", "retain")
            + "production: true\ntermination_protection: true\nauto_delete_objects: true\n",
            "{file}:6: auto_delete_objects: a production stage must leave it false",
            id="prod-with-auto-delete",
        ),
    ],
)
def test_bad_input_gives_one_exact_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert str(raised.value) == message.format(file=tmp_path / "dev.yaml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            b"region: 'us-east-1\naccount: x\n",
            "{file}:1: YAML syntax error: found unexpected end of stream (while scanning a "
            "quoted scalar that starts here)",
            id="unclosed-quote-points-where-it-opens",
        ),
        pytest.param(
            b"region: us-east-1\n---\nregion: eu-west-1\n",
            "{file}:2: YAML syntax error: expected a single document in the stream, but found "
            "another document",
            id="second-document",
        ),
        pytest.param(
            b"region: us-east-1 # \x07\n",
            "{file}:1: YAML syntax error: unacceptable character #x0007 (column 21): control "
            "characters are not allowed; remove it",
            id="control-character",
        ),
        pytest.param(
            "region: Z\u00fcrich\n".encode("latin-1"),
            "{file}:1: not UTF-8 text: byte 0xfc at column 10 (the file was saved in another "
            "encoding, such as Latin-1 or Windows-1252); save it as UTF-8",
            id="not-utf-8",
        ),
    ],
)
def test_unreadable_files_give_one_located_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "dev.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path)
    assert str(raised.value) == message.format(file=path)


def test_nested_aliases_are_visited_once(tmp_path: Path) -> None:
    levels = ["a: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "dev.yaml"
    path.write_text(VALID + "tags:\n" + "".join(f"  {level}\n" for level in levels))
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path)  # 10**9 paths if every alias were walked
    assert str(raised.value) == f"{path}:5: tags.a: Input should be a valid string"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"dev\.yaml: file not found$"):
        load_all(tmp_path)


TRAINING = """\
training:
  churn:
    algorithm: xgboost
    instance_type: ml.m5.large
    max_runtime_minutes: 30
    hyperparameters: {num_round: 10}
    channels:
      train: {prefix: a/}
"""


def test_merge_keys_and_anchors_hold_shared_settings(tmp_path: Path) -> None:
    text = VALID + (
        "x-storage: &storage\n"
        "  noncurrent_version_expiration_days: 7\n"
        "  access_log_expiration_days: 30\n"
        "storage:\n"
        "  <<: *storage\n"
        "  access_log_expiration_days: 60\n"  # a key written beside the merge overrides it
        "x-channel: &channel {prefix: a/}\n"
        "training:\n"
        "  churn:\n"
        "    algorithm: xgboost\n"
        "    instance_type: ml.m5.large\n"
        "    hyperparameters: {num_round: 10}\n"
        "    channels: {train: *channel, validation: *channel}\n"
    )
    config = _load(tmp_path, text)
    assert config.storage.noncurrent_version_expiration_days == 7
    assert config.storage.access_log_expiration_days == 60
    assert config.training["churn"].channels["validation"].prefix == "a/"


def test_a_merged_setting_is_located_where_it_is_written(tmp_path: Path) -> None:
    text = (
        VALID + "x-storage: &storage\n  access_log_expiration_days: 0\nstorage:\n  <<: *storage\n"
    )
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert str(raised.value) == (
        f"{tmp_path / 'dev.yaml'}:5: storage.access_log_expiration_days: Input should be greater "
        "than or equal to 1 (got 0)"
    )


def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate(tmp_path: Path) -> None:
    text = (
        VALID
        + "x-s: &s {access_log_expiration_days: 5}\nstorage:\n  <<: *s\n"
        + ("  access_log_expiration_days: 6\n  access_log_expiration_days: 7\n")
    )
    with pytest.raises(ConfigError, match=r":8: storage.access_log_expiration_days: duplicate"):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("30", 30), ('"30"', 30), ("'30'", 30), ('" 30 "', 30)],
)
def test_numbers_may_be_quoted(tmp_path: Path, written: str, expected: int) -> None:
    config = _load(
        tmp_path,
        VALID + TRAINING.replace("max_runtime_minutes: 30", f"max_runtime_minutes: {written}"),
    )
    assert config.training["churn"].max_runtime_minutes == expected


def test_a_quoted_fraction_is_not_a_whole_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(
            tmp_path,
            VALID + TRAINING.replace("max_runtime_minutes: 30", 'max_runtime_minutes: "2.5"'),
        )
    assert str(raised.value).endswith(
        "training.churn.max_runtime_minutes: Input should be a valid integer (got '2.5')"
    )


def test_text_stays_text_where_the_schema_wants_text(tmp_path: Path) -> None:
    config = _load(tmp_path, VALID + 'tags: {cost-center: "1234"}\n')
    assert config.tags == {"cost-center": "1234"}

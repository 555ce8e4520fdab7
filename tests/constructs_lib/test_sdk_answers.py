"""The SageMaker SDK answer file: same answers as the SDK, keyed by its version, never trusted
blindly, and the bundled configs read without importing the SDK."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib.builtin_algorithms import sdk
from tests.conftest import REPO_ROOT

XGBOOST = {"framework": "xgboost", "region": "eu-west-1", "version": "1.7-1", "scope": "training"}


@pytest.fixture
def answer_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "answers.json"
    sdk.keep_answers_in(path)
    sdk.retrieve.cache_clear()
    yield path
    sdk.keep_answers_in(None)
    sdk.retrieve.cache_clear()


def _retrieve_xgboost() -> str:
    return sdk.retrieve("xgboost", "eu-west-1", version="1.7-1", scope="training", py_version=None)


def test_an_answer_is_written_once_and_equals_the_sdks(answer_file: Path) -> None:
    uri = _retrieve_xgboost()

    stored = json.loads(answer_file.read_text())
    assert list(stored.values()) == [uri]
    (key,) = stored
    assert key.startswith(f"{sdk.sdk_label()} image_uris.retrieve ")
    assert uri == sdk.image_uris().retrieve(
        "xgboost", "eu-west-1", version="1.7-1", image_scope="training"
    )


def test_a_stored_answer_is_used_without_asking_the_sdk(answer_file: Path) -> None:
    _retrieve_xgboost()
    stored = json.loads(answer_file.read_text())
    (key,) = stored
    answer_file.write_text(json.dumps({key: "marker.dkr.ecr.eu-west-1.amazonaws.com/x:1"}))
    sdk.retrieve.cache_clear()

    assert _retrieve_xgboost() == "marker.dkr.ecr.eu-west-1.amazonaws.com/x:1"


def test_answers_of_another_sdk_version_are_not_used(answer_file: Path) -> None:
    _retrieve_xgboost()
    (key,) = json.loads(answer_file.read_text())
    other_version = key.replace(sdk.sdk_label(), "sagemaker-core 0.0.1")
    answer_file.write_text(json.dumps({other_version: "stale"}))
    sdk.retrieve.cache_clear()

    assert _retrieve_xgboost().endswith("/sagemaker-xgboost:1.7-1")


def test_a_corrupt_answer_file_is_an_empty_one(answer_file: Path) -> None:
    answer_file.write_text("{not json")

    assert _retrieve_xgboost().endswith("/sagemaker-xgboost:1.7-1")
    assert len(json.loads(answer_file.read_text())) == 1


def test_a_refused_question_is_not_remembered(answer_file: Path) -> None:
    with pytest.raises(ValueError):
        sdk.retrieve("xgboost", "mars-central-1", version="1.7-1", scope="training")

    assert not answer_file.exists()


def test_bundled_configs_are_read_without_importing_the_sdk() -> None:
    """A synth with a warm answer file never pays the SDK import (about 5 s)."""
    script = textwrap.dedent(
        """
        import sys
        from constructs_lib.builtin_algorithms import sdk
        sdk.versions("xgboost", "training")
        sdk.regions("pytorch", "training", "2.10.0")
        print(sorted(name for name in sys.modules if name.startswith("sagemaker")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_bundled_configs_equal_the_sdks_own() -> None:
    for framework in ("xgboost", "pytorch", "tensorflow", "linear-learner"):
        sdk._config.cache_clear()
        assert sdk._config(framework) == sdk.image_uris().config_for_framework(framework)

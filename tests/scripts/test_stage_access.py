"""scripts/stage_access.py: the user commands reach a stage in its own region, and the
emulator only at a local URL with fake credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from config import load_stage_config
from scripts.train import main as train_main
from tests.conftest import REPO_ROOT
from tests.deploy.conftest import SCRIPTS

assert str(SCRIPTS)  # scripts/ is on sys.path now, as the user commands put it
from stage_access import (  # noqa: E402
    StageAccess,
    StageAccessError,
    request_failure,
    stage_access,
    stage_region,
)


@pytest.fixture
def bare_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A shell with no AWS setting at all: no region, no endpoint, no ~/.aws."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_the_region_is_the_stages_own(stage: str) -> None:
    config = load_stage_config(REPO_ROOT / "config" / f"{stage.lower()}.yaml")

    assert stage_region(stage) == config.region


def test_a_shell_without_a_region_reaches_the_stage_in_its_region(bare_shell: None) -> None:
    access = stage_access("Dev", None)

    assert access.session.region_name == stage_region("Dev")
    assert access.emulator_url is None


def test_an_endpoint_url_selects_the_emulator_with_fake_credentials(bare_shell: None) -> None:
    access = stage_access("Dev", "http://localhost:4566")

    client = access.session.client("sts")
    assert access.emulator_url == "http://localhost:4566"
    assert client.meta.endpoint_url == "http://localhost:4566"
    assert client.meta.region_name == stage_region("Dev")
    assert client._request_signer._credentials.access_key == "testing"


def test_a_local_endpoint_of_the_shell_selects_the_emulator_and_a_remote_one_does_not(
    bare_shell: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert stage_access("Dev", None).emulator_url == "http://localhost:4566"

    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://proxy.example.com")
    assert stage_access("Dev", None).emulator_url is None


def test_an_endpoint_url_that_is_not_this_machine_is_refused(bare_shell: None) -> None:
    with pytest.raises(StageAccessError) as raised:
        stage_access("Dev", "https://sagemaker.example.com")

    assert "is not http://localhost:<port>; refusing to send emulator credentials" in str(
        raised.value
    )


def test_a_config_without_a_region_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text("account: '123456789012'\n")

    with pytest.raises(StageAccessError) as raised:
        stage_region("Dev", tmp_path)

    path = tmp_path / "dev.yaml"
    assert str(raised.value) == f"{path} sets no region; add e.g. `region: us-east-1`"


def test_an_emulator_that_does_not_answer_says_how_to_start_one() -> None:
    access = StageAccess(session=None, region="us-east-1", emulator_url="http://localhost:9")
    error = EndpointConnectionError(endpoint_url="http://localhost:9/")

    assert request_failure(error, access) == (
        "no emulator answers at http://localhost:9: start one with "
        "`make deploy ARGS=--keep-running` and use the URL it prints"
    )


def test_train_with_a_remote_endpoint_url_is_one_message(
    bare_shell: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train_main(["churn-xgboost", "--endpoint-url", "http://10.0.0.1:4566"]) == 2

    assert capsys.readouterr().err.startswith(
        "error: emulator endpoint 'http://10.0.0.1:4566' is not http://localhost:<port>"
    )

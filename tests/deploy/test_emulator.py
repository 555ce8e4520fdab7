"""The emulator process and the environment its clients get."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from emulator import (
    Emulator,
    EmulatorError,
    emulator_environment,
    last_error,
    require_emulator_environment,
)

from tests.deploy.conftest import emulator_processes

REAL_LOOKING = {
    "AWS_ACCESS_KEY_ID": "AKIAREALKEY000000000",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
    "AWS_PROFILE": "production",
    "AWS_ENDPOINT_URL_S3": "https://s3.us-east-1.amazonaws.com",
    "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/admin",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
    "PATH": "/usr/bin",
}


def test_emulator_environment_drops_every_real_aws_setting() -> None:
    env = emulator_environment("http://localhost:4566", "us-east-1", base=REAL_LOOKING)

    assert env["PATH"] == "/usr/bin"
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_CONFIG_FILE"] == os.devnull
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    dropped = ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
    assert not [key for key in dropped if key in env]
    require_emulator_environment(env)


@pytest.mark.parametrize(
    "url", ["https://localhost:4566", "http://example.com:4566", "http://localhost", ""]
)
def test_credentials_go_to_localhost_only(url: str) -> None:
    with pytest.raises(EmulatorError, match="is not http://localhost:<port>"):
        emulator_environment(url, "us-east-1", base={})


def test_an_environment_without_the_endpoint_is_refused() -> None:
    env = emulator_environment("http://localhost:4566", "us-east-1", base={})
    del env["AWS_ENDPOINT_URL"]
    with pytest.raises(EmulatorError, match="AWS_ENDPOINT_URL is missing"):
        require_emulator_environment(env)
    with pytest.raises(EmulatorError, match="real credentials"):
        require_emulator_environment(
            dict(emulator_environment("http://localhost:1", "us-east-1", base={}), **REAL_LOOKING)
        )


@pytest.mark.xdist_group("deploy")
def test_emulator_serves_on_a_free_port_and_stops(tmp_path: Path, no_stray_emulator: str) -> None:
    emulator = Emulator(log_path=tmp_path / "emulator.log")
    with emulator as info:
        pid = emulator.pid
        assert emulator_processes(no_stray_emulator) == [pid]
        sts = boto3.client(
            "sts",
            endpoint_url=info.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sts.get_caller_identity()["Account"] == "123456789012"
        assert info.endpoint_url.startswith("http://localhost:")
        assert {"AWS::S3::Bucket", "AWS::KMS::Key"} <= info.cloudformation_types
        assert "AWS::S3::BucketPolicy" not in info.cloudformation_types
        port = int(info.endpoint_url.rsplit(":", 1)[1])

        busy = Emulator(log_path=tmp_path / "second.log", port=port)
        with pytest.raises(EmulatorError) as error:
            busy.start()
        assert str(error.value) == (
            f"port {port} is already in use: stop what listens there, or leave out --port to "
            "use a free port"
        )
    assert pid not in emulator_processes()
    log = (tmp_path / "emulator.log").read_text()
    assert "emulator fixes applied: updates_without_handler" in log


def test_last_error_finds_the_moto_exception_behind_a_500(tmp_path: Path) -> None:
    log = tmp_path / "emulator.log"
    log.write_text(
        '127.0.0.1 - - "POST / HTTP/1.1" 500 -\nTraceback (most recent call last):\n'
        '  File "x.py", line 1, in f\nKeyError: \'TagKey\'\n127.0.0.1 - - "POST / HTTP/1.1" 200 -\n'
    )
    assert last_error(log) == "KeyError: 'TagKey'"
    assert last_error(tmp_path / "missing.log") is None

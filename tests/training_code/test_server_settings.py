"""The server's settings come from the inference toolkit's variables, validated by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from sagemaker_contract.errors import ContractError
from sagemaker_contract.server import ServingSettings


def test_defaults() -> None:
    assert ServingSettings.from_environ({}) == ServingSettings(
        model_dir=Path("/opt/ml/model"),
        port=8080,
        workers=1,
        timeout=60,
        max_body_bytes=6 * 1024 * 1024,
        default_accept="application/json",
    )


def test_variables() -> None:
    settings = ServingSettings.from_environ(
        {
            "SM_MODEL_DIR": "/models/a",
            "SAGEMAKER_BIND_TO_PORT": "9000",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "SAGEMAKER_MODEL_SERVER_TIMEOUT": "30",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "1",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
        }
    )
    assert (settings.model_dir, settings.port, settings.workers) == (Path("/models/a"), 9000, 3)
    assert (settings.timeout, settings.max_body_bytes) == (30, 1024 * 1024)
    assert settings.default_accept == "text/csv"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "SAGEMAKER_BIND_TO_PORT",
            "http",
            "SAGEMAKER_BIND_TO_PORT='http' must be a whole number from 1 to 65535",
        ),
        ("SAGEMAKER_BIND_TO_PORT", "70000", "SAGEMAKER_BIND_TO_PORT='70000' must be"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0", "SAGEMAKER_MODEL_SERVER_WORKERS='0' must be"),
        ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "-5", "SAGEMAKER_MODEL_SERVER_TIMEOUT='-5' must be"),
        ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "6.5", "SAGEMAKER_MAX_PAYLOAD_IN_MB='6.5' must be"),
        (
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
            "application/x-npy",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT='application/x-npy' is not one of "
            "application/json, text/csv",
        ),
    ],
)
def test_invalid_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ContractError) as error:
        ServingSettings.from_environ({name: value})
    assert str(error.value).startswith(message)

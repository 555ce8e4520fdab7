"""An error raised while a stage is built from a loaded file is reported at the section being
built: app.py's safety net for rules the loader does not know yet, and for bugs."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App

import app as cdk_app
from config import DEFAULT_CONFIG_DIR, ConfigError, StageConfig, load_stage_config
from config.build_errors import config_location, located_build_error
from config.schema import DeploymentConfig, EndpointConfig

DEV = DEFAULT_CONFIG_DIR / "dev.yaml"
PROD = DEFAULT_CONFIG_DIR / "prod.yaml"


def _line_of(path: Path, text: str, *, after: str = "") -> int:
    """The number of the first line starting with `text` below the line starting with `after`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(after)) if after else 0
    return next(n for n, line in enumerate(lines[start:], start + 1) if line.startswith(text))


def _guardrails(deployment: DeploymentConfig) -> None:
    raise ValueError(f"no guardrails with {deployment.traffic_shifting}")


def _endpoint(definition: EndpointConfig) -> None:
    assert definition.deployment is not None
    _guardrails(definition.deployment)


def test_the_innermost_config_section_in_the_traceback_is_located() -> None:
    config = load_stage_config(PROD, stage_id="Prod")
    with pytest.raises(ValueError) as raised:
        _endpoint(config.endpoints["churn-xgboost"])

    message = located_build_error(raised.value, config, PROD)

    assert message == (
        f"config/prod.yaml:{_line_of(PROD, '    deployment:', after='endpoints:')}: "
        "endpoints.churn-xgboost.deployment: no guardrails with canary"
    )


def test_a_section_not_written_is_located_at_its_nearest_written_parent() -> None:
    config = load_stage_config(DEV)
    endpoint = config.endpoints["churn-xgboost"]
    alarms = endpoint.alarms  # a default: not written in dev.yaml
    try:
        raise RuntimeError(f"alarm at {alarms.server_errors}")
    except RuntimeError as error:
        message = located_build_error(error, config, DEV)
    assert message == (
        f"config/dev.yaml:{_line_of(DEV, '  churn-xgboost:', after='endpoints:')}: "
        "endpoints.churn-xgboost.alarms: alarm at 1"
    )


def test_an_error_outside_any_section_names_the_file() -> None:
    config = load_stage_config(DEV)
    try:
        raise KeyError("x")
    except KeyError as error:
        assert config_location(error.__traceback__, config) == ()
        assert located_build_error(error, config, DEV) == "config/dev.yaml: (top level): 'x'"


class _BrokenStage:
    def __init__(self, _scope: App, _id: str, *, config: StageConfig) -> None:
        _endpoint(config.endpoints["churn-xgboost"])


def test_the_app_reports_a_build_error_as_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cdk_app, "SageMakerStage", _BrokenStage)
    monkeypatch.delenv(cdk_app.DEBUG_VARIABLE, raising=False)
    config = load_stage_config(PROD, stage_id="Prod")

    with pytest.raises(ConfigError) as raised:
        cdk_app.build_stage(App(), "Prod", config, PROD)

    assert str(raised.value).endswith(
        "endpoints.churn-xgboost.deployment: no guardrails with canary"
    )


def test_the_debug_switch_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdk_app, "SageMakerStage", _BrokenStage)
    monkeypatch.setenv(cdk_app.DEBUG_VARIABLE, "1")
    config = load_stage_config(PROD, stage_id="Prod")

    with pytest.raises(ValueError, match="no guardrails with canary"):
        cdk_app.build_stage(App(), "Prod", config, PROD)

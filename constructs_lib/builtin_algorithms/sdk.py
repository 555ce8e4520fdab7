"""Offline, cached access to the SageMaker SDK's bundled image URI configuration.

`sagemaker.core.image_uris` resolves every image from JSON files shipped inside the package: no
network and no credentials. Importing `sagemaker.core` takes seconds (about 5 s, most of a small
app's synth), so:

- the JSON configs are read straight from the installed package, as `config_for_framework`
  reads them, without importing the SDK;
- the SDK is imported on first use, never when this module is imported, and every answer is
  cached for the process;
- an app may keep the answers between processes with `keep_answers_in(path)`: a JSON file keyed
  by the SDK's version, so a new SDK release can never be answered from an old one's data.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar, cast

ImageScope = Literal["training", "inference", "inference_graviton"]
"""An SDK image scope."""


@functools.cache
def image_uris() -> ModuleType:
    """`sagemaker.core.image_uris`, imported on first use."""
    from sagemaker.core import (  # type: ignore[import-untyped, unused-ignore]
        image_uris as module,
    )

    return cast(ModuleType, module)


@functools.cache
def sdk_label() -> str:
    """Which SDK configuration answered, for messages: e.g. `sagemaker-core 2.27.0`."""
    try:
        return f"sagemaker-core {importlib.metadata.version('sagemaker-core')}"
    except importlib.metadata.PackageNotFoundError:
        return "sagemaker-core"


_Answer = TypeVar("_Answer")


@dataclass
class _AnswerFile:
    """Where `keep_answers_in` said to keep the answers, if anywhere."""

    path: Path | None = None


_answer_file = _AnswerFile()


def keep_answers_in(path: Path | None) -> None:
    """Keep the SDK's answers (image URIs and the like) in `path` between processes.

    Each answer is keyed by the installed SDK version, the question and its arguments. Reads
    are tolerant (a missing or corrupt file is an empty one) and writes atomic, so concurrent
    synths may share the file; the worst a race does is to ask the SDK again. `None` stops.
    """
    _answer_file.path = path


def _remembered(question: str, arguments: dict[str, Any], ask: Callable[[], _Answer]) -> _Answer:
    """`ask()`'s answer, from the answer file when it has one, else asked and written there."""
    path = _answer_file.path
    if path is None:
        return ask()
    key = f"{sdk_label()} {question} {json.dumps(arguments, sort_keys=True)}"
    answers = _read_answers(path)
    if key in answers:
        return cast(_Answer, answers[key])
    answer = ask()
    _write_answers(path, {**_read_answers(path), key: answer})
    return answer


def _read_answers(path: Path) -> dict[str, Any]:
    try:
        answers = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return answers if isinstance(answers, dict) else {}


def _write_answers(path: Path, answers: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(answers, file, indent=1, sort_keys=True)
    Path(temporary).replace(path)


@functools.cache
def _config(framework: str) -> dict[str, Any]:
    """The SDK's bundled image config of `framework`, without importing the SDK."""
    try:
        bundled = importlib.metadata.distribution("sagemaker-core").locate_file(
            f"sagemaker/core/image_uri_config/{framework}.json"
        )
        return cast(dict[str, Any], json.loads(Path(str(bundled)).read_text(encoding="utf-8")))
    except (importlib.metadata.PackageNotFoundError, FileNotFoundError):
        return cast(dict[str, Any], image_uris().config_for_framework(framework))


def scope_config(framework: str, scope: ImageScope) -> dict[str, Any]:
    """The part of a framework's config that serves `scope` (shared or scope-specific).

    Raises:
        KeyError: if the framework has no config for that scope.
    """
    config = _config(framework)
    if "versions" in config:
        return config
    return cast(dict[str, Any], config[scope])


def concrete_version(framework: str, scope: ImageScope, version: str) -> str:
    """Resolve an alias such as `2.10` to the version it stands for (`2.10.0`)."""
    aliases = scope_config(framework, scope).get("version_aliases", {})
    return str(aliases.get(version, version))


@functools.cache
def versions(framework: str, scope: ImageScope) -> tuple[str, ...]:
    """The concrete versions the SDK knows for a framework and scope, in config order."""
    return tuple(scope_config(framework, scope)["versions"])


@functools.cache
def version_aliases(framework: str, scope: ImageScope) -> tuple[str, ...]:
    """The aliases (e.g. `2.10` for `2.10.0`) the SDK accepts for a framework and scope."""
    return tuple(scope_config(framework, scope).get("version_aliases", {}))


def version_config(framework: str, scope: ImageScope, version: str) -> dict[str, Any]:
    """The config of one version (an alias is resolved first)."""
    concrete = concrete_version(framework, scope, version)
    return cast(dict[str, Any], scope_config(framework, scope)["versions"][concrete])


@functools.cache
def regions(framework: str, scope: ImageScope, version: str) -> frozenset[str]:
    """The regions that publish a version's image."""
    return frozenset(version_config(framework, scope, version)["registries"])


@functools.cache
def retrieve(
    framework: str,
    region: str,
    *,
    version: str | None,
    scope: ImageScope,
    py_version: str | None = None,
    instance_type: str | None = None,
) -> str:
    """`image_uris.retrieve(...)`, cached.

    Raises:
        ValueError: whatever the SDK refuses, with the SDK's message.
    """
    arguments = {
        "framework": framework,
        "region": region,
        "version": version,
        "py_version": py_version,
        "instance_type": instance_type,
        "image_scope": scope,
    }
    return _remembered(
        "image_uris.retrieve",
        arguments,
        lambda: str(image_uris().retrieve(**arguments)),
    )


@functools.cache
def graviton_families() -> frozenset[str]:
    """Instance families the SDK maps to Graviton (arm64) inference images."""

    def ask() -> list[str]:
        from sagemaker.core.fw_utils import (  # type: ignore[import-untyped, unused-ignore]
            GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY,
        )

        return sorted(GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY)

    return frozenset(_remembered("fw_utils.GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY", {}, ask))


MonitoringImage = Literal["model-monitor", "clarify"]
"""The SDK's names of the Model Monitor analyzer and the Clarify processing image."""


@functools.cache
def monitoring_image(name: MonitoringImage, region: str) -> str:
    """The Model Monitor or Clarify image for `region`, as the SDK resolves it.

    Raises:
        ValueError: if the SDK knows no such image in `region`, naming the regions it knows.
    """
    config = _config(name)
    scoped = config.get("processing", config)
    known = sorted({r for v in scoped["versions"].values() for r in v["registries"]})
    if region not in known:
        raise ValueError(
            f"{sdk_label()} publishes no {name} image for region {region!r}; "
            f"it knows: {', '.join(known)}"
        )
    arguments = {"framework": name, "region": region}
    return _remembered(
        "image_uris.retrieve", arguments, lambda: str(image_uris().retrieve(**arguments))
    )


def bias_analysis_config(
    *,
    label: str,
    label_values: list[int | float | str],
    facet: str,
    facet_values: list[int | float | str] | None,
    headers: list[str] | None,
    probability_threshold: float | None,
) -> dict[str, Any]:
    """The Clarify bias-drift analysis config, built by the SDK's `BiasConfig`.

    Raises:
        ValueError: whatever the SDK refuses, with the SDK's message.
    """
    arguments: dict[str, Any] = {
        "label": label,
        "label_values": label_values,
        "facet": facet,
        "facet_values": facet_values,
        "headers": headers,
    }

    def ask() -> dict[str, Any]:
        from sagemaker.core.clarify import (  # type: ignore[import-untyped, unused-ignore]
            BiasConfig,
        )
        from sagemaker.core.model_monitor.clarify_model_monitoring import (  # type: ignore[import-untyped, unused-ignore]
            BiasAnalysisConfig,
        )

        bias = BiasConfig(
            label_values_or_threshold=label_values,
            facet_name=facet,
            facet_values_or_threshold=facet_values,
        )
        return dict(BiasAnalysisConfig(bias, headers=headers, label=label)._to_dict())

    config = dict(_remembered("clarify.BiasAnalysisConfig", arguments, ask))
    if probability_threshold is not None:
        config["probability_threshold"] = probability_threshold
    return config

"""Offline, cached access to the SageMaker SDK's bundled image URI configuration.

`sagemaker.core.image_uris` resolves every image from JSON files shipped inside the package: no
network and no credentials. Importing `sagemaker.core` takes seconds, so it is imported on first
use, never when this module is imported, and every answer is cached for the process.
"""

from __future__ import annotations

import functools
import importlib.metadata
from types import ModuleType
from typing import Any, Literal, cast

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


@functools.cache
def _config(framework: str) -> dict[str, Any]:
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
    return str(
        image_uris().retrieve(
            framework,
            region,
            version=version,
            py_version=py_version,
            instance_type=instance_type,
            image_scope=scope,
        )
    )


@functools.cache
def graviton_families() -> frozenset[str]:
    """Instance families the SDK maps to Graviton (arm64) inference images."""
    from sagemaker.core.fw_utils import (  # type: ignore[import-untyped, unused-ignore]
        GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY,
    )

    return frozenset(GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY)

"""Read a synthesized cloud assembly (`cdk.out`): its stages, stacks, templates and assets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
ASSET_MANIFEST = "cdk:asset-manifest"


class AssemblyError(Exception):
    """The cloud assembly is missing or not what `cdk synth` writes. The message is for humans."""


@dataclass(frozen=True)
class StackArtifact:
    """One synthesized stack.

    Attributes:
        path: the construct path, e.g. `Dev/Data` (what `cdk deploy 'Dev/*'` matches).
        stack_name: the CloudFormation stack name, e.g. `Dev-Data`.
        account: the account id of the stack's environment.
        region: the region of the stack's environment.
        template: the CloudFormation template.
        file_assets: display names of file assets (the template itself included).
        docker_images: display names of Docker image assets (need a Docker engine to publish).
    """

    path: str
    stack_name: str
    account: str
    region: str
    template: dict[str, Any] = field(repr=False)
    file_assets: tuple[str, ...] = ()
    docker_images: tuple[str, ...] = ()

    @property
    def stage(self) -> str:
        """The stage id, e.g. `Dev` for `Dev/Data`."""
        return self.path.split("/", 1)[0]

    def resources(self) -> dict[str, dict[str, Any]]:
        """Logical id -> resource of the template."""
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def resource_types(self) -> list[str]:
        """The type of every resource, in template order (with repeats)."""
        return [str(resource["Type"]) for resource in self.resources().values()]


def read_stacks(outdir: Path) -> list[StackArtifact]:
    """Every stack of the assembly in `outdir`, nested stage assemblies included, in order.

    Raises:
        AssemblyError: `outdir` holds no cloud assembly.
    """
    return list(_stacks(outdir))


def read_stage(outdir: Path, stage: str) -> list[StackArtifact]:
    """The stacks of one stage (`Dev`, `Prod`).

    Raises:
        AssemblyError: no assembly, or the stage has no stacks.
    """
    stacks = [stack for stack in read_stacks(outdir) if stack.stage == stage]
    if not stacks:
        raise AssemblyError(f"the app has no stage {stage!r} (cloud assembly: {outdir})")
    return stacks


def _stacks(directory: Path) -> Iterator[StackArtifact]:
    manifest = _load_json(directory / "manifest.json")
    artifacts: dict[str, dict[str, Any]] = manifest.get("artifacts", {})
    for artifact in artifacts.values():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == NESTED_ASSEMBLY:
            yield from _stacks(directory / properties["directoryName"])
        elif kind == STACK_ARTIFACT:
            yield _stack(directory, artifact, artifacts)


def _stack(
    directory: Path, artifact: dict[str, Any], artifacts: dict[str, dict[str, Any]]
) -> StackArtifact:
    properties = artifact["properties"]
    account, region = _environment(artifact["environment"])
    file_assets: list[str] = []
    docker_images: list[str] = []
    for dependency in artifact.get("dependencies", []):
        dependency_artifact = artifacts.get(dependency, {})
        if dependency_artifact.get("type") != ASSET_MANIFEST:
            continue
        assets = _load_json(directory / dependency_artifact["properties"]["file"])
        file_assets += [_asset_name(key, asset) for key, asset in assets.get("files", {}).items()]
        docker_images += [
            _asset_name(key, asset) for key, asset in assets.get("dockerImages", {}).items()
        ]
    return StackArtifact(
        path=str(artifact.get("displayName", properties["stackName"])),
        stack_name=str(properties["stackName"]),
        account=account,
        region=region,
        template=_load_json(directory / properties["templateFile"]),
        file_assets=tuple(file_assets),
        docker_images=tuple(docker_images),
    )


def _environment(environment: str) -> tuple[str, str]:
    """`aws://123456789012/us-east-1` -> (account, region)."""
    account, _, region = environment.removeprefix("aws://").partition("/")
    return account, region


def _asset_name(key: str, asset: dict[str, Any]) -> str:
    return str(asset.get("displayName", key))


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{path} not found: synthesize the app first (make synth)") from None
    except (OSError, ValueError) as error:
        raise AssemblyError(f"{path}: not a readable cloud assembly file ({error})") from None
    return data

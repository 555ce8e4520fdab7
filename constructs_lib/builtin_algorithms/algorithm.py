"""The shape of a catalog entry: one SageMaker built-in algorithm and what it accepts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from constructs_lib.builtin_algorithms import sdk
from constructs_lib.builtin_algorithms.hyperparameters import (
    HyperparameterSpec,
    Value,
    render_hyperparameters,
)
from constructs_lib.builtin_algorithms.problems import Problem
from constructs_lib.instance_types import InstanceType

DOCUMENTED_GPU_FAMILIES: tuple[str, ...] = ("g4dn", "g5")
"""GPU families AWS documents for built-in algorithm training, less the retired ones.

Source: "Instance types for built-in algorithms" (cmn-info-instance-types): "For most algorithm
training, we support P2, P3, G4dn, and G5 GPU instances". P2 and P3 are retired (see
`constructs_lib.instance_types`), which leaves G4dn and G5. The algorithm images are built for
those GPUs; newer families (g6, p4d, p5) are not documented for them.
"""

MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS = 3600
"""Managed spot training of a built-in algorithm that does not checkpoint may wait at most an
hour (model-managed-spot-training: "limited to a MaxWaitTimeInSeconds of 3600 seconds")."""


@dataclass(frozen=True, kw_only=True)
class ChannelSpec:
    """One input channel of a training job.

    Attributes:
        name: the channel name, e.g. `train`.
        content_types: the MIME types the algorithm reads on it (parameters such as
            `;label_size=1` are allowed after them). A channel given without a content type uses
            the algorithm's default.
        required: whether every training job must have it.
    """

    name: str
    content_types: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True, kw_only=True)
class TrainingContext:
    """What a cross-field rule sees of a training definition.

    Attributes:
        algorithm: the algorithm.
        hyperparameters: the values that parsed, by canonical name (aliases resolved).
        given: canonical names of every hyperparameter set or tuned, valid or not.
        instance: the instance type, or None when it is not a valid training instance type or
            not one the algorithm trains on (that problem is already reported).
        instance_count: the number of instances.
        channels: channel name -> content type without parameters, lower case, or None.
        version: the algorithm version the job uses.
    """

    algorithm: BuiltinAlgorithm
    hyperparameters: Mapping[str, Value]
    given: frozenset[str]
    instance: InstanceType | None
    instance_count: int
    channels: Mapping[str, str | None]
    version: str

    def value(self, name: str) -> Value | None:
        """The parsed value of a hyperparameter, or None if unset or invalid."""
        return self.hyperparameters.get(name)


Rule = Callable[[TrainingContext], Iterable[Problem]]
"""A cross-field check, e.g. "multiclass_classifier needs num_classes"."""


@dataclass(frozen=True, kw_only=True)
class BuiltinAlgorithm:
    """A SageMaker built-in algorithm: its image, hyperparameters, channels and hardware.

    Attributes:
        name: the catalog name, e.g. `random-cut-forest`.
        title: the name AWS uses, e.g. `Random Cut Forest`.
        sdk_framework: the `framework` key of `sagemaker.core.image_uris.retrieve`, e.g.
            `randomcutforest`.
        hyperparameters: every hyperparameter the algorithm accepts.
        channels: every input channel the algorithm reads.
        supports_cpu: whether it trains on CPU instances.
        supports_gpu: whether it trains on GPU instances.
        gpu_families: the GPU families it is documented to train on; None for any current
            (not retired) GPU family.
        cpu_families: CPU families its documentation recommends, for messages.
        supports_distributed_training: whether it trains on more than one instance.
        supports_checkpointing: whether it checkpoints, so managed spot training can resume
            (without checkpoints spot jobs may wait at most an hour).
        supports_incremental_training: whether it can start from a previous model given on a
            `model` channel.
        default_version: the image version used when none is given.
        legacy_versions: versions the SDK knows that must not be used, with `legacy_note`
            saying why.
        legacy_note: why the legacy versions are refused.
        rules: cross-field checks run by `validate_training`.
        documentation: the AWS documentation page of the algorithm.
    """

    name: str
    title: str
    sdk_framework: str
    hyperparameters: tuple[HyperparameterSpec, ...]
    channels: tuple[ChannelSpec, ...]
    supports_cpu: bool = True
    supports_gpu: bool = True
    gpu_families: tuple[str, ...] | None = DOCUMENTED_GPU_FAMILIES
    cpu_families: tuple[str, ...] = ("m5", "c5")
    supports_distributed_training: bool
    supports_checkpointing: bool = False
    supports_incremental_training: bool = False
    default_version: str = "1"
    legacy_versions: tuple[str, ...] = ()
    legacy_note: str = ""
    rules: tuple[Rule, ...] = ()
    documentation: str

    @property
    def supports_spot(self) -> bool:
        """Whether managed spot training applies: true of every built-in algorithm.

        Without `supports_checkpointing` an interrupted job restarts from scratch and
        `MaxWaitTimeInSeconds` is limited to 3600.
        """
        return True

    @functools.cached_property
    def specs(self) -> Mapping[str, HyperparameterSpec]:
        """Hyperparameter specs by name and by alias."""
        by_name = {spec.name: spec for spec in self.hyperparameters}
        for spec in self.hyperparameters:
            by_name.update(dict.fromkeys(spec.aliases, spec))
        return MappingProxyType(by_name)

    @property
    def required_hyperparameters(self) -> tuple[str, ...]:
        """Names of the hyperparameters every training job must set."""
        return tuple(spec.name for spec in self.hyperparameters if spec.required)

    @property
    def required_channels(self) -> tuple[str, ...]:
        """Names of the channels every training job must have."""
        return tuple(channel.name for channel in self.channels if channel.required)

    def hyperparameter(self, name: str) -> HyperparameterSpec | None:
        """The spec of a hyperparameter by name or alias, or None if there is none."""
        return self.specs.get(name)

    def channel(self, name: str) -> ChannelSpec | None:
        """The spec of a channel, or None if the algorithm has no such channel."""
        return next((channel for channel in self.channels if channel.name == name), None)

    def versions(self) -> tuple[str, ...]:
        """The image versions the bundled SDK config knows, less the legacy ones."""
        known = sdk.versions(self.sdk_framework, "training") + sdk.version_aliases(
            self.sdk_framework, "training"
        )
        return tuple(version for version in known if version not in self.legacy_versions)

    def training_image(self, region: str, version: str | None = None) -> str:
        """The training image URI for a region, resolved by the SageMaker SDK (offline).

        Args:
            region: the AWS region, e.g. `eu-west-1`. It must be a concrete region name, not
                an unresolved CDK token.
            version: the image version. Default: `default_version`.

        Raises:
            ValueError: for an unknown or legacy version, or a region without the image.
        """
        return self._image(region, version, "training")

    def inference_image(self, region: str, version: str | None = None) -> str:
        """The inference image URI for a region, resolved by the SageMaker SDK (offline).

        Built-in algorithm images are x86_64: host them on x86 instances.

        Raises:
            ValueError: for an unknown or legacy version, or a region without the image.
        """
        return self._image(region, version, "inference")

    def render_hyperparameters(self, values: Mapping[str, object]) -> dict[str, str]:
        """Render values as CreateTrainingJob's string map, the way this algorithm reads them.

        Validate first (`validate_training`); this only formats.

        Raises:
            ValueError: for an unknown hyperparameter or a value that does not fit its spec.
        """
        unknown = sorted(name for name in values if name not in self.specs)
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameter {unknown[0]!r}")
        return render_hyperparameters(values, self.specs)

    def version_problem(self, version: str) -> str | None:
        """A message if `version` is legacy or unknown to the SDK config, else None."""
        if version in self.legacy_versions:
            return (
                f"{self.name} version {version!r} is {self.legacy_note}; use one of "
                f"{', '.join(self._current_versions())} (default {self.default_version})"
            )
        if version not in self.versions():
            return (
                f"{self.name} has no version {version!r} in the bundled SageMaker SDK config "
                f"({sdk.sdk_label()}); known versions: {', '.join(self._current_versions())}"
            )
        return None

    def region_problem(self, region: str, version: str | None = None) -> str | None:
        """A message if the image of `version` is not published in `region`, else None."""
        chosen = version or self.default_version
        if self.version_problem(chosen) is not None:
            return None
        available = sdk.regions(self.sdk_framework, "training", chosen)
        if region in available:
            return None
        return (
            f"{self.title} image version {chosen} is not published in region {region!r} "
            f"(bundled SageMaker SDK config, {sdk.sdk_label()}); available regions: "
            f"{', '.join(sorted(available))}"
        )

    def _current_versions(self) -> tuple[str, ...]:
        return tuple(
            version
            for version in sdk.versions(self.sdk_framework, "training")
            if version not in self.legacy_versions
        )

    def _image(self, region: str, version: str | None, scope: sdk.ImageScope) -> str:
        chosen = version or self.default_version
        problem = self.version_problem(chosen) or self.region_problem(region, chosen)
        if problem is not None:
            raise ValueError(problem)
        return sdk.retrieve(self.sdk_framework, region, version=chosen, scope=scope)

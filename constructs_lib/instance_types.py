"""SageMaker ML instance types: which exist for each use, and what hardware they are.

The valid names come from botocore's SageMaker service model, which ships with botocore and loads
offline (the `TrainingInstanceType`, `ProductionVariantInstanceType`, `TransformInstanceType`
and `ProcessingInstanceType` enums). That model still lists instance families AWS has retired
for machine learning, so one rule is ours: ml.p2 (NVIDIA K80) and ml.p3 / ml.p3dn (NVIDIA V100)
are refused with a message that names the GPU families to use instead. Sources:

- K80 is compute capability 3.7, which CUDA 12 removed; the SageMaker SDK refuses P2 for
  PyTorch >= 1.13 and TensorFlow >= 2.12 (`image_uris._validate_instance_deprecation`).
- V100 is compute capability 7.0, which CUDA 13 and PyTorch's cu128+ wheels dropped; the Deep
  Learning Containers moved their CI off P3 in 2025 (aws/deep-learning-containers#4723) and AWS
  asked customers to leave P3 by 2025-12-20.

Pure Python and cached: nothing here touches the network, and the service model loads once.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

InstanceUse = Literal["training", "hosting", "transform", "processing"]
"""What an instance runs: a training job, an endpoint, a batch transform or a processing job."""

AcceleratorKind = Literal["cpu", "gpu", "inferentia", "trainium", "gaudi"]
"""The accelerator an instance family carries; "cpu" means none."""

INSTANCE_USES: tuple[InstanceUse, ...] = ("training", "hosting", "transform", "processing")

RECOMMENDED_GPU_FAMILIES: tuple[str, ...] = ("g4dn", "g5", "g6", "p4d", "p5")
"""GPU families current framework containers run on: T4, A10G, L4, A100 and H100."""

RETIRED_GPU_FAMILIES = MappingProxyType(
    {
        "p2": (
            "NVIDIA K80",
            "CUDA 12 removed the K80 (sm_37) and current PyTorch and TensorFlow containers "
            "refuse it",
        ),
        "p3": (
            "NVIDIA V100",
            "CUDA 13 and current PyTorch builds dropped the V100 (sm_70) and AWS has retired P3",
        ),
        "p3dn": (
            "NVIDIA V100",
            "CUDA 13 and current PyTorch builds dropped the V100 (sm_70) and AWS has retired P3",
        ),
    }
)
"""Family -> (GPU, why it cannot be used). Listed in botocore's enums, refused here."""

_API_SHAPES: dict[InstanceUse, str] = {
    "training": "TrainingInstanceType",
    "hosting": "ProductionVariantInstanceType",
    "transform": "TransformInstanceType",
    "processing": "ProcessingInstanceType",
}

_NAME = re.compile(r"^ml\.(?P<family>[a-z][a-z0-9-]*)\.(?P<size>[a-z0-9]+)$")
_BURSTABLE_FAMILY = re.compile(r"^t\d+[a-z]*$")
_GRAVITON_FAMILY = re.compile(r"^[a-z]\d+g[a-z]*$")


@dataclass(frozen=True)
class InstanceType:
    """A parsed `ml.<family>.<size>` instance type name.

    Attributes:
        name: the full name, e.g. `ml.g5.2xlarge`.
        family: the family, e.g. `g5` (`p6-b200` and `c7i-flex` are families too).
        size: the size, e.g. `2xlarge`.
    """

    name: str
    family: str
    size: str

    @property
    def accelerator(self) -> AcceleratorKind:
        """The accelerator this family carries: cpu, gpu, inferentia, trainium or gaudi."""
        if self.family.startswith("inf"):
            return "inferentia"
        if self.family.startswith("trn"):
            return "trainium"
        if self.family.startswith("dl"):
            return "gaudi"
        if self.family[0] in ("g", "p"):
            return "gpu"
        return "cpu"

    @property
    def is_gpu(self) -> bool:
        """Whether the instance has NVIDIA GPUs."""
        return self.accelerator == "gpu"

    @property
    def is_burstable(self) -> bool:
        """Whether the family is burstable (ml.t2, ml.t3): CPU credits, not sustained speed."""
        return _BURSTABLE_FAMILY.match(self.family) is not None

    @property
    def is_graviton(self) -> bool:
        """Whether the family has AWS Graviton (arm64) CPUs, e.g. ml.c6g, ml.m7g, ml.r8g."""
        return self.accelerator == "cpu" and _GRAVITON_FAMILY.match(self.family) is not None


def parse_instance_type(instance_type: str) -> InstanceType:
    """Split an `ml.<family>.<size>` name into its parts.

    Raises:
        ValueError: if the name does not have that shape.
    """
    match = _NAME.match(instance_type)
    if match is None:
        raise ValueError(
            f"{instance_type!r} is not a SageMaker instance type name: "
            "expected ml.<family>.<size>, e.g. ml.m5.xlarge"
        )
    return InstanceType(name=instance_type, family=match["family"], size=match["size"])


def family(instance_type: str) -> str:
    """The family of an instance type: `ml.g5.2xlarge` -> `g5`. Raises ValueError if malformed."""
    return parse_instance_type(instance_type).family


def accelerator_kind(instance_type: str) -> AcceleratorKind:
    """cpu, gpu, inferentia, trainium or gaudi. Raises ValueError if the name is malformed."""
    return parse_instance_type(instance_type).accelerator


def is_gpu(instance_type: str) -> bool:
    """Whether the instance has NVIDIA GPUs. Raises ValueError if the name is malformed."""
    return parse_instance_type(instance_type).is_gpu


def is_burstable(instance_type: str) -> bool:
    """Whether the instance is burstable (ml.t2, ml.t3). Raises ValueError if malformed."""
    return parse_instance_type(instance_type).is_burstable


def is_graviton(instance_type: str) -> bool:
    """Whether the instance has Graviton (arm64) CPUs. Raises ValueError if malformed."""
    return parse_instance_type(instance_type).is_graviton


@functools.cache
def instance_types(use: InstanceUse) -> frozenset[str]:
    """Every instance type the SageMaker API accepts for a use, from botocore's service model."""
    return frozenset(_sagemaker_shapes()[_API_SHAPES[use]]["enum"])


@functools.cache
def _sagemaker_shapes() -> dict[str, Any]:
    """The shapes of botocore's SageMaker service model, loaded once (a few MB of JSON)."""
    import botocore.loaders  # type: ignore[import-untyped, unused-ignore]

    model = botocore.loaders.Loader().load_service_model("sagemaker", "service-2")
    return cast(dict[str, Any], model["shapes"])


def training_instance_types() -> frozenset[str]:
    """Instance types for training jobs (API shape `TrainingInstanceType`)."""
    return instance_types("training")


def hosting_instance_types() -> frozenset[str]:
    """Instance types for endpoints (API shape `ProductionVariantInstanceType`)."""
    return instance_types("hosting")


def transform_instance_types() -> frozenset[str]:
    """Instance types for batch transform (API shape `TransformInstanceType`)."""
    return instance_types("transform")


@functools.cache
def _sizes_by_family(use: InstanceUse) -> dict[str, list[str]]:
    """Family -> its sizes for a use, smallest first (`medium`, `large`, `xlarge`, `2xlarge`...)."""
    sizes: dict[str, list[str]] = {}
    for name in instance_types(use):
        _, name_family, size = name.split(".")
        sizes.setdefault(name_family, []).append(size)
    return {name: sorted(values, key=_size_order) for name, values in sizes.items()}


def _size_order(size: str) -> tuple[float, str]:
    """Sort key for sizes: medium < large < xlarge < 2xlarge < ... < 48xlarge < metal."""
    named = {"nano": 0.03, "micro": 0.06, "small": 0.12, "medium": 0.25, "large": 0.5}
    if size in named:
        return (named[size], size)
    match = re.fullmatch(r"(\d*)xlarge", size)
    if match is not None:
        return (float(match[1] or 1), size)
    return (float("inf"), size)


def closest_instance_type(instance_type: str, use: InstanceUse) -> str | None:
    """The valid instance type for a use whose name is closest to `instance_type`, if any.

    The family is matched first and the size within that family, so `ml.m5.xlarg` suggests
    `ml.m5.xlarge` and `ml.t2.medium` (not a training type) suggests `ml.t3.medium`, while a
    name with no similar family gets no suggestion rather than a misleading one.
    """
    valid = instance_types(use)
    if not instance_type.startswith("ml.") and f"ml.{instance_type}" in valid:
        return f"ml.{instance_type}"
    match = _NAME.match(instance_type)
    if match is None:
        close = difflib.get_close_matches(instance_type, sorted(valid), n=1, cutoff=0.8)
        return close[0] if close else None
    sizes = _sizes_by_family(use)
    name_family = match["family"]
    if name_family not in sizes:
        with_size = sorted(name for name, values in sizes.items() if match["size"] in values)
        close_families = difflib.get_close_matches(
            name_family, with_size, n=1, cutoff=0.5
        ) or difflib.get_close_matches(name_family, sorted(sizes), n=1, cutoff=0.5)
        if not close_families:
            return None
        name_family = close_families[0]
    if match["size"] in sizes[name_family]:
        return f"ml.{name_family}.{match['size']}"
    close_sizes = difflib.get_close_matches(match["size"], sizes[name_family], n=1, cutoff=0.5)
    return f"ml.{name_family}.{close_sizes[0]}" if close_sizes else None


def unknown_instance_type_message(instance_type: str, use: InstanceUse) -> str | None:
    """A message if `instance_type` is not in the SageMaker API enum for `use`, else None.

    The message suggests the closest valid name; failing that it lists the sizes of the family
    (when the family is valid) or the valid families.
    """
    if instance_type in instance_types(use):
        return None
    prefix = f"{instance_type} is not a SageMaker {use} instance type"
    suggestion = closest_instance_type(instance_type, use)
    if suggestion is not None:
        return f"{prefix}; did you mean {suggestion}?"
    sizes = _sizes_by_family(use)
    match = _NAME.match(instance_type)
    if match is not None and match["family"] in sizes:
        listed = ", ".join(sizes[match["family"]])
        return f"{prefix}; ml.{match['family']} sizes are {listed}"
    listed = ", ".join(f"ml.{name}" for name in sorted(sizes))
    return f"{prefix}; valid names are ml.<family>.<size> with one of the families {listed}"


def retired_instance_message(
    instance_type: str, supported_gpu_families: tuple[str, ...] = RECOMMENDED_GPU_FAMILIES
) -> str | None:
    """A message if the instance is in a retired GPU family (ml.p2, ml.p3, ml.p3dn), else None.

    Args:
        instance_type: the instance type name.
        supported_gpu_families: the families the message recommends instead.
    """
    match = _NAME.match(instance_type)
    if match is None or match["family"] not in RETIRED_GPU_FAMILIES:
        return None
    gpu, reason = RETIRED_GPU_FAMILIES[match["family"]]
    return (
        f"{instance_type} ({gpu}) cannot be used: {reason}. "
        f"Use a supported GPU family: {join_families(supported_gpu_families)}"
    )


def validate_instance_type(instance_type: str, use: InstanceUse) -> str | None:
    """Check that an instance type exists for a use and is not a retired GPU family.

    Returns:
        None if the instance type is usable, else one message saying what is wrong and what to
        use instead, e.g. "ml.m5.hugex is not a SageMaker training instance type; did you mean
        ml.m5.xlarge?".
    """
    return unknown_instance_type_message(instance_type, use) or retired_instance_message(
        instance_type
    )


def join_families(families: tuple[str, ...]) -> str:
    """`("g4dn", "g5", "p5")` -> `"ml.g4dn, ml.g5 or ml.p5"`."""
    names = [f"ml.{name}" for name in families]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"

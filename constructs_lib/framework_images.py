"""AWS Deep Learning Container images for PyTorch and TensorFlow, resolved by the SageMaker SDK.

`sagemaker.core.image_uris.retrieve` knows every DLC repository, registry account and tag per
region from JSON bundled in the package, so resolution is offline and nothing here holds an
account table. The defaults are the newest versions that bundled config knows for each scope
(with sagemaker-core 2.27.0: PyTorch training 2.10.0 / py313, PyTorch inference 2.6.0 / py312 -
the last `pytorch-inference` image -, TensorFlow training 2.21.0 / py312, TensorFlow inference
2.20.0 / py312).

Before asking the SDK, the request is checked so that bad input gets one clear message instead
of an SDK error or, worse, a wrong image (the SDK answers an unknown version of a framework with
a single version, or a Trainium instance, with whatever it has). The SDK's own refusal of ml.p2
("P2 instances have been deprecated ...") is translated into a message naming the GPU families
to use, and ml.p3 is refused the same way (see `constructs_lib.instance_types`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from constructs_lib.builtin_algorithms import sdk
from constructs_lib.builtin_algorithms.problems import Problem, unknown_name_message
from constructs_lib.instance_types import (
    RECOMMENDED_GPU_FAMILIES,
    InstanceType,
    InstanceUse,
    join_families,
    parse_instance_type,
    retired_instance_message,
    unknown_instance_type_message,
)

Framework = Literal["pytorch", "tensorflow"]
ImageScope = Literal["training", "inference", "inference_graviton"]
Processor = Literal["cpu", "gpu"]

FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)
IMAGE_SCOPES: tuple[ImageScope, ...] = get_args(ImageScope)

_TITLES: dict[Framework, str] = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
_P2_REFUSAL = "P2 instances have been deprecated"
_NEEDS_OTHER_IMAGES = {
    "inferentia": "AWS Inferentia accelerators, which need the Neuron Deep Learning Containers",
    "trainium": "AWS Trainium accelerators, which need the Neuron Deep Learning Containers",
    "gaudi": "Habana Gaudi accelerators, which need Gaudi images",
}


@dataclass(frozen=True, kw_only=True)
class FrameworkImage:
    """A resolved Deep Learning Container image.

    Attributes:
        uri: the image URI, e.g.
            `763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10.0-gpu-py313`.
        framework: pytorch or tensorflow.
        scope: the image scope the SDK resolved: training, inference or inference_graviton
            (an inference request on a Graviton instance resolves to inference_graviton).
        version: the concrete framework version, e.g. `2.10.0` (also when an alias such as
            `2.10` was asked for; the URI then carries the alias tag).
        py_version: the Python version of the image, e.g. `py313`, or None when the image has
            no Python variant.
        processor: cpu or gpu.
        region: the AWS region of the registry.
    """

    uri: str
    framework: Framework
    scope: ImageScope
    version: str
    py_version: str | None
    processor: Processor
    region: str

    @property
    def repository(self) -> str:
        """The repository name, e.g. `pytorch-training`."""
        return self.uri.split("/", 1)[1].split(":", 1)[0]

    @property
    def tag(self) -> str:
        """The image tag, e.g. `2.10.0-gpu-py313`."""
        return self.uri.rsplit(":", 1)[1]


class FrameworkImageError(ValueError):
    """The image request has problems; `problems` lists them, the message joins them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


def known_versions(framework: Framework, scope: ImageScope = "training") -> tuple[str, ...]:
    """The concrete versions the bundled SDK config knows, oldest first."""
    return tuple(sorted(sdk.versions(framework, scope), key=_version_key))


def default_version(framework: Framework, scope: ImageScope = "training") -> str:
    """The newest version the bundled SDK config knows for a framework and scope."""
    return known_versions(framework, scope)[-1]


def python_versions(
    framework: Framework, version: str, scope: ImageScope = "training"
) -> tuple[str, ...]:
    """The Python versions of a framework version's images, e.g. `("py313",)`; may be empty."""
    config = sdk.version_config(framework, scope, version)
    return tuple(sorted(config.get("py_versions", ()), key=_version_key))


def check_framework_image(
    framework: str,
    *,
    region: str,
    instance_type: str,
    scope: str = "training",
    version: str | None = None,
    py_version: str | None = None,
) -> list[Problem]:
    """Check a framework image request; an empty list means `resolve_framework_image` works.

    Takes plain strings (as read from a config file) and reports, rather than raises, what is
    wrong with them. The arguments are those of `resolve_framework_image`.
    """
    result = _resolve(
        framework,
        region=region,
        instance_type=instance_type,
        scope=scope,
        version=version,
        py_version=py_version,
    )
    return result if isinstance(result, list) else []


def resolve_framework_image(
    framework: str,
    *,
    region: str,
    instance_type: str,
    scope: str = "training",
    version: str | None = None,
    py_version: str | None = None,
) -> FrameworkImage:
    """Resolve the Deep Learning Container image for a framework, region and instance type.

    Args:
        framework: `pytorch` or `tensorflow`.
        region: the AWS region, e.g. `eu-west-1` (a concrete name, not a CDK token).
        instance_type: the instance the image runs on; it selects the CPU or GPU image.
        scope: `training`, `inference` or `inference_graviton`. Default: training.
        version: the framework version, concrete (`2.10.0`) or an alias (`2.10`). Default:
            the newest version the bundled SDK config knows for the scope.
        py_version: the Python version, e.g. `py312`. Default: the newest the version has.

    Raises:
        FrameworkImageError: listing every problem with the request.
    """
    result = _resolve(
        framework,
        region=region,
        instance_type=instance_type,
        scope=scope,
        version=version,
        py_version=py_version,
    )
    if isinstance(result, list):
        raise FrameworkImageError(result)
    return result


def _resolve(
    framework: str,
    *,
    region: str,
    instance_type: str,
    scope: str,
    version: str | None,
    py_version: str | None,
) -> FrameworkImage | list[Problem]:
    if framework not in FRAMEWORKS:
        message = unknown_name_message(
            f"unknown framework {framework!r}",
            framework,
            FRAMEWORKS,
            listing=f"supported frameworks: {', '.join(FRAMEWORKS)}",
        )
        return [Problem(field="framework", message=message)]
    if scope not in IMAGE_SCOPES:
        message = f"unknown image scope {scope!r}; use one of {', '.join(IMAGE_SCOPES)}"
        return [Problem(field="scope", message=message)]
    request = _Request(framework=framework, scope=scope, region=region)
    instance_or_problem = request.instance(instance_type)
    if isinstance(instance_or_problem, Problem):
        return [instance_or_problem]
    return request.resolve(instance_or_problem, version, py_version)


@dataclass(frozen=True, kw_only=True)
class _Request:
    framework: Framework
    scope: ImageScope
    region: str

    @property
    def title(self) -> str:
        return _TITLES[self.framework]

    def instance(self, instance_type: str) -> InstanceType | Problem:
        use: InstanceUse = "training" if self.scope == "training" else "hosting"
        unknown = unknown_instance_type_message(instance_type, use)
        if unknown is not None:
            return Problem(field="instance_type", message=unknown)
        instance = parse_instance_type(instance_type)
        if instance.accelerator in _NEEDS_OTHER_IMAGES:
            return Problem(
                field="instance_type",
                message=(
                    f"{instance.name} has {_NEEDS_OTHER_IMAGES[instance.accelerator]}, not the "
                    f"{self.title} CPU/GPU Deep Learning Containers resolved here: use a CPU or "
                    "NVIDIA GPU instance type"
                ),
            )
        return instance

    def resolve(
        self, instance: InstanceType, version: str | None, py_version: str | None
    ) -> FrameworkImage | list[Problem]:
        scope = self._effective_scope(instance)
        if isinstance(scope, Problem):
            return [scope]
        chosen = version or default_version(self.framework, scope)
        known = sdk.versions(self.framework, scope) + sdk.version_aliases(self.framework, scope)
        if chosen not in known:
            listed = ", ".join(known_versions(self.framework, scope))
            return [
                Problem(
                    field="version",
                    message=(
                        f"{self.title} {scope} version {chosen!r} is not in the bundled "
                        f"SageMaker SDK config ({sdk.sdk_label()}); known versions: {listed}"
                    ),
                )
            ]
        concrete = sdk.concrete_version(self.framework, scope, chosen)
        python, problems = self._python(scope, concrete, py_version)
        problems.extend(self._processor_and_region(instance, scope, concrete))
        if problems:
            retired = retired_instance_message(instance.name)
            if retired is not None:
                problems.append(Problem(field="instance_type", message=retired))
            return problems
        return self._retrieve(instance, scope, chosen, concrete, python)

    def _effective_scope(self, instance: InstanceType) -> ImageScope | Problem:
        graviton = sdk.graviton_families()
        sdk_families = join_families(tuple(sorted(graviton)))
        if instance.is_graviton and instance.family not in graviton:
            return Problem(
                field="instance_type",
                message=(
                    f"{instance.name} is a Graviton (arm64) instance the SageMaker SDK maps to "
                    f"no {self.title} image ({sdk.sdk_label()}); use one of {sdk_families}"
                ),
            )
        if self.scope == "inference_graviton" and not (instance.is_graviton or instance.is_gpu):
            return Problem(
                field="instance_type",
                message=(
                    f"{self.title} inference_graviton images are arm64; {instance.name} is an "
                    f"x86_64 instance: use one of {sdk_families}, or scope 'inference'"
                ),
            )
        if self.scope == "inference" and instance.family in graviton:
            return "inference_graviton"
        return self.scope

    def _python(
        self, scope: ImageScope, version: str, py_version: str | None
    ) -> tuple[str | None, list[Problem]]:
        """The Python version to use (default: the newest), and a problem if it is unknown."""
        available = python_versions(self.framework, version, scope)
        if py_version is None:
            return (available[-1] if available else None), []
        if py_version in available:
            return py_version, []
        listed = ", ".join(available) if available else "none (the tag has no Python version)"
        problem = Problem(
            field="py_version",
            message=(
                f"{self.title} {version} {scope} images have no Python version {py_version!r}; "
                f"available: {listed}"
            ),
        )
        return py_version, [problem]

    def _processor_and_region(
        self, instance: InstanceType, scope: ImageScope, version: str
    ) -> list[Problem]:
        problems: list[Problem] = []
        config = sdk.scope_config(self.framework, scope)
        processors = config.get("processors") or sdk.version_config(
            self.framework, scope, version
        ).get("processors", ["cpu", "gpu"])
        needed = "gpu" if instance.is_gpu else "cpu"
        if needed not in processors:
            only = " and ".join(str(name).upper() for name in processors)
            problems.append(
                Problem(
                    field="instance_type",
                    message=(
                        f"{self.title} {version} {scope} images are {only}-only; "
                        f"{instance.name} is a {needed.upper()} instance"
                    ),
                )
            )
        regions = sdk.regions(self.framework, scope, version)
        if self.region not in regions:
            problems.append(
                Problem(
                    field="region",
                    message=(
                        f"{self.title} {version} {scope} images are not published in region "
                        f"{self.region!r} (bundled SageMaker SDK config, {sdk.sdk_label()}); "
                        f"available regions: {', '.join(sorted(regions))}"
                    ),
                )
            )
        return problems

    def _retrieve(
        self,
        instance: InstanceType,
        scope: ImageScope,
        chosen: str,
        concrete: str,
        python: str | None,
    ) -> FrameworkImage | list[Problem]:
        try:
            uri = sdk.retrieve(
                self.framework,
                self.region,
                version=chosen,
                scope=scope,
                py_version=python,
                instance_type=instance.name,
            )
        except ValueError as error:
            return [self._sdk_refusal(instance, concrete, str(error))]
        retired = retired_instance_message(instance.name)
        if retired is not None:
            return [Problem(field="instance_type", message=retired)]
        return FrameworkImage(
            uri=uri,
            framework=self.framework,
            scope=scope,
            version=concrete,
            py_version=python,
            processor="gpu" if instance.is_gpu else "cpu",
            region=self.region,
        )

    def _sdk_refusal(self, instance: InstanceType, version: str, error: str) -> Problem:
        if _P2_REFUSAL in error:
            return Problem(
                field="instance_type",
                message=(
                    f"{instance.name} (NVIDIA K80) cannot run {self.title} {version} images: the "
                    "SageMaker SDK refuses P2 instances for PyTorch 1.13+ and TensorFlow 2.12+ "
                    "(CUDA 12 removed the K80). Use a supported GPU family: "
                    f"{join_families(RECOMMENDED_GPU_FAMILIES)}"
                ),
            )
        return Problem(
            field="image",
            message=f"the SageMaker SDK could not resolve a {self.title} image: {error}",
        )


def _version_key(version: str) -> tuple[int, ...]:
    """`2.10.0` -> (2, 10, 0), `py313` -> (313,): numeric order, not string order."""
    return tuple(int(part) for part in re.findall(r"\d+", version))

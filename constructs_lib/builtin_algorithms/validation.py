"""Validate a training definition, or a tuning range, against the catalog.

Validation never raises for bad input: it returns every problem it finds, each with the field
it concerns and one sentence saying what is wrong, what was given and what is allowed. The
caller (a config loader or a construct) decides how to report them, with file and section.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Literal

from constructs_lib.builtin_algorithms.algorithm import (
    MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS,
    BuiltinAlgorithm,
    TrainingContext,
)
from constructs_lib.builtin_algorithms.catalog import ALGORITHMS, unknown_algorithm_message
from constructs_lib.builtin_algorithms.hyperparameters import (
    HyperparameterSpec,
    InvalidValueError,
    Value,
    format_number,
)
from constructs_lib.builtin_algorithms.problems import Problem, unknown_name_message
from constructs_lib.instance_types import (
    RECOMMENDED_GPU_FAMILIES,
    InstanceType,
    join_families,
    parse_instance_type,
    retired_instance_message,
    unknown_instance_type_message,
)

MAX_HYPERPARAMETERS = 100
"""CreateTrainingJob accepts at most 100 hyperparameters (botocore `HyperParameters` max)."""

MAX_HYPERPARAMETER_LENGTH = 2500
"""CreateTrainingJob accepts values of at most 2500 characters (`HyperParameterValue` max)."""


def validate_training(
    algorithm_name: str,
    *,
    hyperparameters: Mapping[str, object],
    instance_type: str,
    instance_count: int,
    channels: Mapping[str, str | None],
    version: str | None = None,
    region: str | None = None,
    spot_max_wait_seconds: int | None = None,
    tuned_hyperparameters: Collection[str] = (),
) -> list[Problem]:
    """Check a training definition against the catalog; an empty list means it is valid.

    Args:
        algorithm_name: the catalog name, e.g. `xgboost`.
        hyperparameters: name -> value, as written in the definition (strings, numbers,
            booleans or lists).
        instance_type: the training instance type, e.g. `ml.m5.xlarge`.
        instance_count: the number of training instances.
        channels: channel name -> content type, or None to use the algorithm's default.
        version: the algorithm image version. Default: the algorithm's default version.
        region: when given, also check that the image is published in this region.
        spot_max_wait_seconds: when the job uses managed spot training, its
            `MaxWaitTimeInSeconds`: algorithms that do not checkpoint allow at most 3600.
        tuned_hyperparameters: names a tuning job sets, which count as present for the
            required-hyperparameter check.

    Returns:
        The problems found, in a stable order: algorithm, version, hyperparameters (by name),
        instance type and count, channels, spot, region, then cross-field rules.
    """
    algorithm = ALGORITHMS.get(algorithm_name)
    if algorithm is None:
        return [Problem(field="algorithm", message=unknown_algorithm_message(algorithm_name))]

    problems: list[Problem] = []
    chosen_version = version or algorithm.default_version
    version_message = algorithm.version_problem(chosen_version)
    if version_message is not None:
        problems.append(Problem(field="version", message=version_message))
        chosen_version = algorithm.default_version

    parsed, given, hyperparameter_problems = _check_hyperparameters(
        algorithm, hyperparameters, tuned_hyperparameters
    )
    problems.extend(hyperparameter_problems)

    instance, instance_problems = _check_instance(algorithm, instance_type)
    problems.extend(instance_problems)
    problems.extend(_check_instance_count(algorithm, instance_count))
    problems.extend(_check_channels(algorithm, channels))
    problems.extend(_check_spot(algorithm, spot_max_wait_seconds))
    if region is not None and version_message is None:
        region_message = algorithm.region_problem(region, chosen_version)
        if region_message is not None:
            problems.append(Problem(field="region", message=region_message))

    context = TrainingContext(
        algorithm=algorithm,
        hyperparameters=parsed,
        given=given,
        instance=None if instance_problems else instance,
        instance_count=instance_count,
        channels={name: _base_type(content_type) for name, content_type in channels.items()},
        version=chosen_version,
    )
    for rule in algorithm.rules:
        problems.extend(rule(context))
    return problems


def validate_tuning_range(
    algorithm_name: str,
    hyperparameter: str,
    *,
    min_value: float | str | None = None,
    max_value: float | str | None = None,
    values: Sequence[object] | None = None,
    field: str | None = None,
) -> list[Problem]:
    """Check one hyperparameter range of a tuning job against the algorithm's spec.

    Give either `min_value` and `max_value` (an integer or continuous range) or `values` (a
    categorical range), as CreateHyperParameterTuningJob's `ParameterRanges` do.

    Args:
        algorithm_name: the catalog name, e.g. `xgboost`.
        hyperparameter: the hyperparameter the range is for.
        min_value: the lower bound of an integer or continuous range.
        max_value: the upper bound of an integer or continuous range.
        values: the values of a categorical range.
        field: the field path for problems. Default: `hyperparameter_ranges.<hyperparameter>`.

    Returns:
        The problems found; an empty list means the range is valid.
    """
    where = field or f"hyperparameter_ranges.{hyperparameter}"
    algorithm = ALGORITHMS.get(algorithm_name)
    if algorithm is None:
        return [Problem(field="algorithm", message=unknown_algorithm_message(algorithm_name))]
    spec = algorithm.hyperparameter(hyperparameter)
    if spec is None:
        return [Problem(field=where, message=_unknown_hyperparameter(algorithm, hyperparameter))]
    label = f"{algorithm.name} hyperparameter {hyperparameter!r}"
    if not spec.tunable:
        takes = "free text" if spec.kind == "text" else "a list"
        return [Problem(field=where, message=f"{label} cannot be tuned: it takes {takes}")]
    numeric = min_value is not None or max_value is not None
    if numeric == (values is not None):
        return [
            Problem(
                field=where,
                message=f"give either min_value and max_value or values for {label}",
            )
        ]
    if values is not None:
        return [
            Problem(field=where, message=message) for message in _check_values(spec, label, values)
        ]
    return [
        Problem(field=where, message=message)
        for message in _check_bounds(spec, label, min_value, max_value)
    ]


def _check_hyperparameters(
    algorithm: BuiltinAlgorithm,
    hyperparameters: Mapping[str, object],
    tuned: Collection[str],
) -> tuple[dict[str, Value], frozenset[str], list[Problem]]:
    parsed: dict[str, Value] = {}
    given: set[str] = set()
    problems: list[Problem] = []
    given_by: dict[str, str] = {}
    for name in sorted(hyperparameters):
        spec = algorithm.hyperparameter(name)
        field = f"hyperparameters.{name}"
        if spec is None:
            problems.append(Problem(field=field, message=_unknown_hyperparameter(algorithm, name)))
            continue
        if spec.name in given_by:
            problems.append(
                Problem(
                    field=field,
                    message=(
                        f"{given_by[spec.name]!r} and {name!r} name the same {algorithm.name} "
                        "hyperparameter; set only one"
                    ),
                )
            )
            continue
        given_by[spec.name] = name
        given.add(spec.name)
        try:
            value = spec.parse(hyperparameters[name])
        except InvalidValueError as error:
            problems.append(
                Problem(field=field, message=f"{algorithm.name} hyperparameter {name!r} {error}")
            )
            continue
        parsed[spec.name] = value
        rendered = spec.render(value)
        if len(rendered) > MAX_HYPERPARAMETER_LENGTH:
            problems.append(
                Problem(
                    field=field,
                    message=(
                        f"{algorithm.name} hyperparameter {name!r} renders to {len(rendered)} "
                        f"characters; CreateTrainingJob allows {MAX_HYPERPARAMETER_LENGTH}"
                    ),
                )
            )
    for name in tuned:
        spec = algorithm.hyperparameter(name)
        if spec is not None:
            given.add(spec.name)
    for spec in algorithm.hyperparameters:
        if spec.required and spec.name not in given:
            problems.append(
                Problem(
                    field=f"hyperparameters.{spec.name}",
                    message=(
                        f"{algorithm.name} requires hyperparameter {spec.name!r} "
                        f"({spec.expectation()})"
                    ),
                )
            )
    if len(hyperparameters) > MAX_HYPERPARAMETERS:
        problems.append(
            Problem(
                field="hyperparameters",
                message=(
                    f"CreateTrainingJob allows at most {MAX_HYPERPARAMETERS} hyperparameters; "
                    f"got {len(hyperparameters)}"
                ),
            )
        )
    return parsed, frozenset(given), problems


def _unknown_hyperparameter(algorithm: BuiltinAlgorithm, name: str) -> str:
    known = ", ".join(spec.name for spec in algorithm.hyperparameters)
    return unknown_name_message(
        f"{algorithm.name} has no hyperparameter {name!r}",
        name,
        algorithm.specs,
        listing=f"its hyperparameters are {known}",
    )


def _check_instance(
    algorithm: BuiltinAlgorithm, instance_type: str
) -> tuple[InstanceType | None, list[Problem]]:
    unknown = unknown_instance_type_message(instance_type, "training")
    if unknown is not None:
        return None, [Problem(field="instance_type", message=unknown)]
    instance = parse_instance_type(instance_type)
    message = _hardware_problem(algorithm, instance)
    problems = [] if message is None else [Problem(field="instance_type", message=message)]
    return instance, problems


def _hardware_problem(algorithm: BuiltinAlgorithm, instance: InstanceType) -> str | None:
    gpu_families = algorithm.gpu_families or RECOMMENDED_GPU_FAMILIES
    cpu_hint = f"use a CPU instance type (recommended: {join_families(algorithm.cpu_families)})"
    kind = instance.accelerator
    if kind not in ("cpu", "gpu"):
        names = {"inferentia": "an AWS Inferentia", "trainium": "an AWS Trainium"}
        return (
            f"{instance.name} is {names.get(kind, 'a Habana Gaudi')} instance; built-in "
            "algorithms train on CPU or "
            f"NVIDIA GPU instances: {cpu_hint}"
        )
    if kind == "gpu" and not algorithm.supports_gpu:
        return (
            f"{algorithm.name} trains on CPU instances only; {instance.name} is a GPU instance: "
            f"{cpu_hint}"
        )
    if kind == "cpu" and not algorithm.supports_cpu:
        return (
            f"{algorithm.name} trains on GPU instances only; {instance.name} is a CPU instance: "
            f"use a GPU family ({join_families(gpu_families)})"
        )
    retired = retired_instance_message(instance.name, gpu_families)
    if retired is not None:
        return retired
    if kind == "gpu" and instance.family not in gpu_families and algorithm.gpu_families:
        return (
            f"{algorithm.name} is documented to train on GPU families "
            f"{join_families(gpu_families)}; {instance.name} is not one of them"
        )
    return None


def _check_instance_count(algorithm: BuiltinAlgorithm, instance_count: int) -> Iterator[Problem]:
    if instance_count < 1:
        yield Problem(
            field="instance_count",
            message=f"instance_count must be at least 1; got {instance_count}",
        )
    elif instance_count > 1 and not algorithm.supports_distributed_training:
        yield Problem(
            field="instance_count",
            message=(
                f"{algorithm.name} does not support distributed (multi-instance) training; "
                f"instance_count must be 1, got {instance_count}"
            ),
        )


def _check_channels(
    algorithm: BuiltinAlgorithm, channels: Mapping[str, str | None]
) -> Iterator[Problem]:
    names = [channel.name for channel in algorithm.channels]
    for name in sorted(channels):
        channel = algorithm.channel(name)
        if channel is None:
            yield Problem(
                field=f"channels.{name}",
                message=unknown_name_message(
                    f"{algorithm.name} has no channel {name!r}",
                    name,
                    names,
                    listing=f"its channels are {', '.join(names)}",
                ),
            )
            continue
        content_type = channels[name]
        if content_type is not None and _base_type(content_type) not in channel.content_types:
            yield Problem(
                field=f"channels.{name}.content_type",
                message=(
                    f"{algorithm.name} does not read content type {content_type!r} on channel "
                    f"{name!r}; allowed: {', '.join(channel.content_types)}"
                ),
            )
    for name in algorithm.required_channels:
        if name not in channels:
            given = ", ".join(sorted(channels)) or "none"
            yield Problem(
                field=f"channels.{name}",
                message=f"{algorithm.name} needs a {name!r} channel; given channels: {given}",
            )


def _check_spot(algorithm: BuiltinAlgorithm, max_wait: int | None) -> Iterator[Problem]:
    if max_wait is not None:
        message = spot_wait_problem(algorithm, max_wait, unit="seconds")
        if message:
            yield Problem(field="spot_max_wait_seconds", message=message)


def spot_wait_problem(
    algorithm: BuiltinAlgorithm, max_wait_seconds: int, *, unit: Literal["seconds", "minutes"]
) -> str | None:
    """Why managed spot training refuses `max_wait_seconds` for `algorithm`, or None; the
    message counts in `unit`, the caller's."""
    limit = MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS
    if algorithm.supports_checkpointing or max_wait_seconds <= limit:
        return None
    divisor = 60 if unit == "minutes" else 1
    return (
        f"{algorithm.name} does not checkpoint, so managed spot training allows a maximum wait "
        f"of {limit // divisor} {unit}; got {max_wait_seconds // divisor}"
    )


def _check_values(spec: HyperparameterSpec, label: str, values: Sequence[object]) -> Iterator[str]:
    if spec.kind in ("integer", "number") and not spec.choices:
        yield f"{label} is numeric: tune it with min_value and max_value, not values"
        return
    if not values:
        yield f"a categorical range for {label} needs at least one value"
    for value in values:
        try:
            spec.parse(value)
        except InvalidValueError as error:
            yield f"tuning value for {label} {error}"


def _check_bounds(
    spec: HyperparameterSpec,
    label: str,
    min_value: float | str | None,
    max_value: float | str | None,
) -> Iterator[str]:
    if spec.kind not in ("integer", "number") or spec.choices:
        yield f"{label} is categorical: tune it with values, not a min/max range"
        return
    if min_value is None or max_value is None:
        yield f"a range for {label} needs both min_value and max_value"
        return
    bounds: list[float] = []
    for bound in (min_value, max_value):
        try:
            parsed = spec.parse(bound)
        except InvalidValueError as error:
            yield f"tuning range bound for {label} {error}"
            continue
        if isinstance(parsed, str | tuple):
            yield f"tuning range bound for {label} must be a number; got {bound!r}"
            continue
        bounds.append(float(parsed))
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        yield (
            f"tuning range for {label} has min_value {format_number(bounds[0])} greater than "
            f"max_value {format_number(bounds[1])}"
        )


def _base_type(content_type: str | None) -> str | None:
    """`"text/csv; label_size=1"` -> `"text/csv"`; None stays None."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()

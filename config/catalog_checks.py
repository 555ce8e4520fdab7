"""Checks of training definitions that need the algorithm catalog and the SageMaker SDK.

The schema checks shapes and ranges; these check meaning: that the algorithm exists and reads
these channels, that the hyperparameters are its own and in range, that the instance type
exists and suits the algorithm or framework image, and that an endpoint's hosting settings are
ones SageMaker accepts (with the endpoint construct's own rules). Autopilot definitions have
nothing to look up: the schema checks them whole (config/autopilot_schema.py).
"""

from __future__ import annotations

from config.batch_checks import batch_problems
from config.endpoint_checks import endpoint_problems
from config.schema import StageConfig, TrainingConfig
from constructs_lib.builtin_algorithms import (
    get_algorithm,
    validate_training,
    validate_tuning_range,
)
from constructs_lib.builtin_algorithms.validation import spot_wait_problem
from constructs_lib.framework_images import check_framework_image
from constructs_lib.instance_types import validate_instance_type

Location = tuple[str | int, ...]


def catalog_problems(config: StageConfig) -> list[tuple[Location, str]]:
    """Every catalog problem of every training, endpoint and batch definition, located."""
    problems: list[tuple[Location, str]] = []
    for name, training in config.training.items():
        base: Location = ("training", name)
        for field, message in _training_problems(training, region=config.region):
            problems.append(((*base, *field.split(".")), message))
    for name, endpoint in config.endpoints.items():
        base = ("endpoints", name)
        for field, message in endpoint_problems(endpoint, region=config.region):
            problems.append(((*base, *field.split(".")), message))
    for name, batch in config.batch_transforms.items():
        base = ("batch_transforms", name)
        for field, message in batch_problems(batch, region=config.region):
            problems.append(((*base, *field.split(".")), message))
    return problems


def _training_problems(training: TrainingConfig, *, region: str) -> list[tuple[str, str]]:
    if training.autopilot is not None:
        return []
    # The schema requires an instance type of algorithm and framework definitions.
    assert training.instance_type is not None
    if training.framework is not None:
        return _framework_problems(training, training.instance_type, region=region)
    assert training.algorithm is not None
    tuned = set(training.tuning.ranges) if training.tuning else set()
    found = [
        (problem.field, problem.message)
        for problem in validate_training(
            training.algorithm,
            hyperparameters=training.hyperparameters,
            instance_type=training.instance_type,
            instance_count=training.instance_count,
            channels={name: c.content_type for name, c in training.channels.items()},
            version=training.version,
            region=region,
            spot_max_wait_seconds=training.spot.max_wait_minutes * 60 if training.spot else None,
            tuned_hyperparameters=tuned,
        )
    ]
    found = [_in_file_units(training, field, message) for field, message in found]
    if training.tuning and not found:
        for parameter, spec in training.tuning.ranges.items():
            found.extend(
                (problem.field, problem.message)
                for problem in validate_tuning_range(
                    training.algorithm,
                    parameter,
                    min_value=spec.min,
                    max_value=spec.max,
                    values=spec.values,
                    field=f"tuning.ranges.{parameter}",
                )
            )
    return found


def _in_file_units(training: TrainingConfig, field: str, message: str) -> tuple[str, str]:
    """A problem in the file's words: the library counts spot waits in seconds, the file in
    minutes (spot.max_wait_minutes)."""
    if field != "spot_max_wait_seconds" or training.spot is None or training.algorithm is None:
        return field, message
    in_minutes = spot_wait_problem(
        get_algorithm(training.algorithm), training.spot.max_wait_minutes * 60, unit="minutes"
    )
    return "spot.max_wait_minutes", in_minutes or message


def _framework_problems(
    training: TrainingConfig, instance_type: str, *, region: str
) -> list[tuple[str, str]]:
    message = validate_instance_type(instance_type, "training")
    if message:
        return [("instance_type", message)]
    assert training.framework is not None
    problems = check_framework_image(
        training.framework,
        region=region,
        instance_type=instance_type,
        version=training.version,
    )
    return [(problem.field, problem.message) for problem in problems]

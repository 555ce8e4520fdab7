"""Batch transform definitions checked with the serving rules for their `model:` section.

The schema (config/batch_schema.py) checks shapes, the instance type and the request limits;
what needs the algorithm catalog or the stage's region (an algorithm name and version, a
framework image for the instance type) is checked here, exactly as for an endpoint's model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.endpoint_checks import endpoint_problems, image_architecture_problem
from config.schema import EndpointConfig

if TYPE_CHECKING:
    # config.schema imports config.batch_schema part-way through; importing that here at run
    # time, before config.schema, would enter the cycle from the wrong end.
    from config.batch_schema import BatchTransformConfig


def batch_problems(batch: BatchTransformConfig, *, region: str) -> list[tuple[str, str]]:
    """(field, message) for what the model of a batch transform would be refused for."""
    as_endpoint = EndpointConfig(model=batch.model, instance_type=batch.instance_type)
    # The endpoint's hosting rules do not apply (transform instance types differ); its model's
    # rules and the image architecture rule do.
    problems = [
        (field, message)
        for field, message in endpoint_problems(as_endpoint, region=region)
        if field.startswith("model.")
    ]
    if not problems and batch.model.algorithm is not None:
        message = image_architecture_problem(batch.model.algorithm, batch.instance_type)
        if message:
            problems.append(("instance_type", message))
    return problems

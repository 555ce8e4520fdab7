"""Content types and small helpers shared by the catalog modules."""

from __future__ import annotations

from constructs_lib.builtin_algorithms.algorithm import TrainingContext
from constructs_lib.builtin_algorithms.problems import Problem

RECORDIO_PROTOBUF = "application/x-recordio-protobuf"
CSV = "text/csv"
LIBSVM = "text/libsvm"
PARQUET = "application/x-parquet"
JSON = "application/json"
JSON_LINES = "application/jsonlines"
PLAIN_TEXT = "text/plain"
RECORDIO = "application/x-recordio"
IMAGE = "application/x-image"
PNG = "image/png"
JPEG = "image/jpeg"
SAGEMAKER_MODEL = "application/x-sagemaker-model"
"""The content type of a `model` channel that carries a previous model for incremental
training."""

TABULAR = (RECORDIO_PROTOBUF, CSV)
"""What most tabular built-in algorithms read: recordIO-wrapped protobuf or label-first CSV."""

IMAGES = (RECORDIO, IMAGE, PNG, JPEG)
"""What the vision algorithms read on their image channels."""


def needs_hyperparameter(context: TrainingContext, name: str, condition: str) -> Problem | None:
    """A problem if hyperparameter `name` is neither set nor tuned, explaining `condition`."""
    if name in context.given:
        return None
    spec = context.algorithm.specs[name]
    return Problem(
        field=f"hyperparameters.{name}",
        message=(
            f"{context.algorithm.name} needs hyperparameter {name!r} ({spec.expectation()}) "
            f"when {condition}"
        ),
    )

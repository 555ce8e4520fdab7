"""Inference hooks for the TensorFlow tabular classifier, for two servers.

- AWS's TensorFlow Serving containers (``tensorflow-inference``) import it as
  ``code/inference.py`` from model.tar.gz and call ``handler`` (see ``tfs_handlers``); TensorFlow
  Serving runs the SavedModel in ``1/``.
- This project's own ``serve`` (the image built from this directory) calls ``model_fn``,
  ``input_fn``, ``predict_fn`` and ``output_fn``: they load the same SavedModel and call its
  ``serving_default`` signature, so both servers answer alike.

Request and response formats are in ``sagemaker_contract.payloads``. TensorFlow is imported only
by ``model_fn``: the TensorFlow Serving container needs none of it in Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from sagemaker_contract.payloads import (
    Predictions,
    check_feature_count,
    input_fn,
    output_fn,
)
from tfs_handlers import handler, input_handler, output_handler

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "handler",
    "input_fn",
    "input_handler",
    "model_fn",
    "output_fn",
    "output_handler",
    "predict_fn",
]


class ServingModel(NamedTuple):
    """The SavedModel's serving signature and the number of features it takes.

    Not a dataclass: the TensorFlow Serving container imports this file by path without
    registering it in ``sys.modules``, where dataclasses look up string annotations.
    """

    signature: tf.types.experimental.ConcreteFunction
    n_features: int


def model_fn(model_dir: str) -> ServingModel:
    """Load the newest numbered SavedModel version under ``model_dir``."""
    import tensorflow as tf

    versions = [path for path in Path(model_dir).glob("*") if path.name.isdigit() and path.is_dir()]
    if not versions:
        raise FileNotFoundError(
            f"no SavedModel version directory (like {model_dir}/1) found; the model directory "
            "must hold the TensorFlow training job's output"
        )
    newest = max(versions, key=lambda path: int(path.name))
    signature = tf.saved_model.load(str(newest)).signatures["serving_default"]
    spec = signature.structured_input_signature[1]["inputs"]
    return ServingModel(signature, int(spec.shape[1]))


def predict_fn(input_data: np.ndarray, model: ServingModel) -> Predictions:
    """Class probabilities and the most likely class for each row."""
    import tensorflow as tf

    check_feature_count(input_data, model.n_features)
    outputs = model.signature(inputs=tf.constant(input_data))
    return Predictions(
        labels=outputs["predicted_label"].numpy(), probabilities=outputs["probabilities"].numpy()
    )

"""Inference hooks for the TensorFlow tabular classifier, for this project's own ``serve``.

They load the SavedModel that TensorFlow Serving (AWS's TensorFlow inference containers) serves
from the same model.tar.gz, and call its ``serving_default`` signature, so both servers answer
alike. Request and response formats are in ``sagemaker_contract.payloads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from sagemaker_contract.payloads import (
    Predictions,
    check_feature_count,
    input_fn,
    output_fn,
)

__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]


@dataclass(frozen=True)
class ServingModel:
    """The SavedModel's serving signature and the number of features it takes."""

    signature: tf.types.experimental.ConcreteFunction
    n_features: int


def model_fn(model_dir: str) -> ServingModel:
    """Load the newest numbered SavedModel version under ``model_dir``."""
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
    check_feature_count(input_data, model.n_features)
    outputs = model.signature(inputs=tf.constant(input_data))
    return Predictions(
        labels=outputs["predicted_label"].numpy(), probabilities=outputs["probabilities"].numpy()
    )

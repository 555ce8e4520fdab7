"""Inference hooks for the TensorFlow tabular classifier, for this project's own ``serve``.

They load the SavedModel that TensorFlow Serving (AWS's TensorFlow inference containers) serves
from the same model.tar.gz, and call its ``serving_default`` signature, so both servers answer
alike. Request and response formats are in ``sagemaker_contract.payloads``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

# Imported by file path: make the neighbouring modules and the shared package importable.
_HERE = Path(__file__).resolve().parent
sys.path.extend(str(p) for p in (_HERE, _HERE.parent) if str(p) not in sys.path)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sagemaker_contract.payloads import (  # noqa: E402
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
    versions = (
        sorted(
            (int(p.name), p) for p in Path(model_dir).iterdir() if p.name.isdigit() and p.is_dir()
        )
        if Path(model_dir).is_dir()
        else []
    )
    if not versions:
        raise FileNotFoundError(
            f"no SavedModel version directory (like {model_dir}/1) found; the model directory "
            "must hold the TensorFlow training job's output"
        )
    signature = tf.saved_model.load(str(versions[-1][1])).signatures["serving_default"]
    spec = signature.structured_input_signature[1]["inputs"]
    return ServingModel(signature, int(spec.shape[1]))


def predict_fn(input_data: np.ndarray, model: ServingModel) -> Predictions:
    """Class probabilities and the most likely class for each row."""
    check_feature_count(input_data, model.n_features)
    outputs = model.signature(inputs=tf.constant(input_data))
    return Predictions(
        labels=outputs["predicted_label"].numpy(), probabilities=outputs["probabilities"].numpy()
    )

"""The Keras tabular classifier and its TensorFlow Serving export.

The network standardises its input with the train channel's statistics (a Normalization layer,
so the exported model takes raw features), then runs an MLP to class probabilities; the output
layer stays float32 under a mixed precision policy.

Serving layout of ``/opt/ml/model`` (AWS's TensorFlow Serving containers'): a SavedModel in
``1/`` (TensorFlow Serving's ``<model>/<version>/``), whose ``serving_default`` signature maps
``inputs`` (float32, rows x features) to ``predicted_label`` and ``probabilities``, the response
shape of our own server; and ``code/`` with ``inference.py``, what it imports and
``model_spec.json`` (the feature and class counts the request handlers check).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tfs_handlers import MODEL_SPEC_FILE

SAVED_MODEL_VERSION = "1"
SIGNATURE = "serving_default"
INPUT_NAME = "inputs"
CODE_DIR = "code"
_HERE = Path(__file__).resolve().parent
#: What ``code/`` needs so that inference.py imports in a TensorFlow Serving container.
_SERVING_CODE = (
    _HERE / "inference.py",
    _HERE / "tfs_handlers.py",
    _HERE.parent / "sagemaker_contract",
)


def build_model(architecture: Mapping[str, Any], mean: np.ndarray, std: np.ndarray) -> keras.Model:
    """A fresh model for an architecture dict (``TrainingJob.architecture``)."""
    inputs = keras.Input(shape=(architecture["n_features"],), name="features")
    hidden = keras.layers.Normalization(mean=mean, variance=np.square(std))(inputs)
    for size in architecture["hidden_sizes"]:
        hidden = keras.layers.Dense(size, activation="relu")(hidden)
        hidden = keras.layers.Dropout(architecture["dropout"])(hidden)
    logits = keras.layers.Dense(architecture["num_classes"])(hidden)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, outputs, name="tabular_mlp")


def export_for_serving(model: keras.Model, directory: Path) -> Path:
    """Write the SavedModel to ``directory/1`` and the inference code to ``directory/code``."""
    n_features = model.input_shape[1]

    def serve(features: tf.Tensor) -> dict[str, tf.Tensor]:
        probabilities = model(features, training=False)
        return {"predicted_label": tf.argmax(probabilities, axis=1), "probabilities": probabilities}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name=SIGNATURE,
        fn=serve,
        input_signature=[tf.TensorSpec([None, n_features], tf.float32, name=INPUT_NAME)],
    )
    target = directory / SAVED_MODEL_VERSION
    archive.write_out(str(target), verbose=False)
    _write_serving_code(directory / CODE_DIR, n_features, model.output_shape[1])
    return target


def _write_serving_code(code_dir: Path, n_features: int, num_classes: int) -> None:
    code_dir.mkdir(parents=True, exist_ok=True)
    for source in _SERVING_CODE:
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, code_dir / source.name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, code_dir / source.name)
    spec = {"n_features": int(n_features), "num_classes": int(num_classes)}
    (code_dir / MODEL_SPEC_FILE).write_text(json.dumps(spec, indent=2), encoding="utf-8")

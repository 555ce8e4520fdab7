"""Inference hooks for the PyTorch tabular classifier (the SageMaker inference toolkit's).

Served by this project's own ``serve`` in the image built from this directory, and, as
``code/inference.py`` inside model.tar.gz, by AWS's PyTorch inference containers. Request and
response formats are in ``sagemaker_contract.payloads``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sagemaker_contract.payloads import (
    Predictions,
    check_feature_count,
    input_fn,
    output_fn,
)
from torch_model import TabularMLP, load_for_serving

__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]


def model_fn(model_dir: str) -> TabularMLP:
    """Load the model from the extracted model.tar.gz, on the GPU when there is one."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return load_for_serving(Path(model_dir), device)


def predict_fn(input_data: np.ndarray, model: TabularMLP) -> Predictions:
    """Class probabilities and the most likely class for each row."""
    check_feature_count(input_data, model.n_features)
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits = model(torch.from_numpy(input_data).to(device))
        probabilities = torch.softmax(logits.float(), dim=1).cpu().numpy()
    return Predictions(labels=probabilities.argmax(axis=1), probabilities=probabilities)

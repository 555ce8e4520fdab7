"""Inference hooks for the PyTorch tabular classifier (the SageMaker inference toolkit's).

Served by this project's own ``serve`` in the image built from this directory, and, as
``code/inference.py`` inside model.tar.gz, by AWS's PyTorch inference containers (TorchServe
with the toolkit's handler service). Both call ``model_fn`` once and ``transform_fn`` per request.
Request and response formats are in ``sagemaker_contract.payloads``; a request the client got
wrong is answered 4xx with a one-line message by both (``payloads.transform``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sagemaker_contract.payloads import (
    Predictions,
    ResponseContext,
    check_feature_count,
    transform,
)
from torch_model import TabularMLP, load_for_serving

__all__ = ["model_fn", "predict", "transform_fn"]


def model_fn(model_dir: str) -> TabularMLP:
    """Load the model from the extracted model.tar.gz, on the GPU when there is one."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return load_for_serving(Path(model_dir), device)


def transform_fn(
    model: TabularMLP,
    request_body: bytes | bytearray | str,
    content_type: str | None,
    accept: str | None,
    context: ResponseContext | None = None,
) -> tuple[bytes, str]:
    """One invocation: the request body in, the serialized predictions and their type out.

    The toolkit passes ``context`` (it counts this signature's parameters); ``serve`` does not.
    """
    return transform(lambda rows: predict(rows, model), request_body, content_type, accept, context)


def predict(features: np.ndarray, model: TabularMLP) -> Predictions:
    """Class probabilities and the most likely class for each row."""
    check_feature_count(features, model.n_features)
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits = model(torch.from_numpy(features).to(device))
        probabilities = torch.softmax(logits.float(), dim=1).cpu().numpy()
    return Predictions(labels=probabilities.argmax(axis=1), probabilities=probabilities)

"""The PyTorch tabular classifier and its serving layout.

The network standardises its input with the train channel's mean and standard deviation (kept as
buffers, so the saved model takes raw features), then runs an MLP to class logits.

Serving layout of ``/opt/ml/model`` (the PyTorch inference toolkit's): ``model.pth`` (the
state_dict), ``model_spec.json`` (the architecture) and ``code/`` with ``inference.py`` and what
it imports.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

WEIGHTS_FILE = "model.pth"
SPEC_FILE = "model_spec.json"
CODE_DIR = "code"
_HERE = Path(__file__).resolve().parent
#: What ``code/`` needs so that inference.py imports in a serving container.
_SERVING_CODE = (
    _HERE / "inference.py",
    _HERE / "torch_model.py",
    _HERE.parent / "sagemaker_contract",
)


class TabularMLP(nn.Module):
    """Standardise, then ``Linear -> ReLU -> Dropout`` per hidden layer, then class logits."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self, n_features: int, hidden_sizes: list[int], dropout: float, num_classes: int
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers((features - self.mean) / self.std)

    def set_standardization(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Store the train channel's per-feature statistics in the model."""
        self.mean.copy_(torch.from_numpy(mean))
        self.std.copy_(torch.from_numpy(std))


def build_model(architecture: Mapping[str, Any]) -> TabularMLP:
    """A fresh model for an architecture dict (``TrainingJob.architecture``)."""
    return TabularMLP(
        n_features=architecture["n_features"],
        hidden_sizes=list(architecture["hidden_sizes"]),
        dropout=architecture["dropout"],
        num_classes=architecture["num_classes"],
    )


def save_for_serving(model: TabularMLP, architecture: Mapping[str, Any], model_dir: Path) -> None:
    """Write the weights, the architecture and the inference code into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, model_dir / WEIGHTS_FILE)
    (model_dir / SPEC_FILE).write_text(json.dumps(dict(architecture), indent=2), encoding="utf-8")
    code_dir = model_dir / CODE_DIR
    code_dir.mkdir(exist_ok=True)
    for source in _SERVING_CODE:
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, code_dir / source.name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, code_dir / source.name)


def load_for_serving(model_dir: Path, device: torch.device) -> TabularMLP:
    """Rebuild the model from ``model_dir`` in eval mode on ``device``."""
    for name in (WEIGHTS_FILE, SPEC_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(
                f"{model_dir / name} not found; the model directory must hold the PyTorch "
                f"training job's output ({WEIGHTS_FILE}, {SPEC_FILE})"
            )
    model = build_model(json.loads((model_dir / SPEC_FILE).read_text(encoding="utf-8")))
    state = torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.to(device).eval()

"""Metric lines: one stable format, read by the MetricDefinitions in metric_definitions.json.

``metric epoch=3 train_loss=0.4123 train_accuracy=0.85 validation_loss=0.45 ...``: SageMaker
scans the job's log with each definition's regex and records the first group as a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sagemaker_contract.errors import ContractError

#: The values each framework reports every epoch, in printed order (validation_* only when the
#: job has a validation channel).
METRIC_NAMES = (
    "train_loss",
    "train_accuracy",
    "validation_loss",
    "validation_accuracy",
    "samples_per_second",
)


def format_metrics(epoch: int, values: Mapping[str, float]) -> str:
    """``metric epoch=N name=value ...`` with the names of METRIC_NAMES that are present."""
    unknown = set(values) - set(METRIC_NAMES)
    if unknown:
        raise ValueError(f"not a declared metric: {sorted(unknown)}")
    fields = " ".join(f"{name}={values[name]:.6g}" for name in METRIC_NAMES if name in values)
    return f"metric epoch={epoch} {fields}"


def report_epoch(
    epoch: int, values: Mapping[str, float], learning_rate: float, *, emit: bool = True
) -> None:
    """Print the epoch's metric line (if ``emit``), then fail if the training loss is not finite.

    Every process of a distributed job calls this with the same reduced values, so all of them
    stop together; only the leader emits.
    """
    if emit:
        print(format_metrics(epoch, values), flush=True)
    loss = values["train_loss"]
    if not math.isfinite(loss):
        raise ContractError(
            f"training diverged: train_loss is {loss} at epoch {epoch}; lower learning_rate "
            f"(now {learning_rate:g}) or check the data for extreme values"
        )

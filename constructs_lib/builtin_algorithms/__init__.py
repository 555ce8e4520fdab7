"""A catalog of SageMaker built-in algorithms, used to validate training definitions at synth.

Each entry knows its image (resolved per region by the SageMaker SDK, offline), its
hyperparameters with their types and ranges, its input channels and content types, the hardware
it trains on, and whether it supports distributed, spot (checkpointed) and incremental
training. Pure Python: no CDK constructs, no AWS calls, and the SDK is imported only when an
image is first resolved.

    >>> from constructs_lib.builtin_algorithms import get_algorithm, validate_training
    >>> xgboost = get_algorithm("xgboost")
    >>> problems = validate_training(
    ...     "xgboost",
    ...     hyperparameters={"num_round": 100, "objective": "binary:logistic"},
    ...     instance_type="ml.m5.xlarge",
    ...     instance_count=1,
    ...     channels={"train": "text/csv", "validation": "text/csv"},
    ... )
    >>> problems
    []
    >>> xgboost.render_hyperparameters({"num_round": 100, "eta": 0.1})
    {'eta': '0.1', 'num_round': '100'}
"""

from constructs_lib.builtin_algorithms.algorithm import (
    DOCUMENTED_GPU_FAMILIES,
    MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS,
    BuiltinAlgorithm,
    ChannelSpec,
    Rule,
    TrainingContext,
)
from constructs_lib.builtin_algorithms.catalog import ALGORITHMS, get_algorithm
from constructs_lib.builtin_algorithms.hyperparameters import (
    Bounds,
    HyperparameterSpec,
    render_hyperparameters,
)
from constructs_lib.builtin_algorithms.problems import Problem
from constructs_lib.builtin_algorithms.validation import validate_training, validate_tuning_range

__all__ = [
    "ALGORITHMS",
    "DOCUMENTED_GPU_FAMILIES",
    "MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS",
    "Bounds",
    "BuiltinAlgorithm",
    "ChannelSpec",
    "HyperparameterSpec",
    "Problem",
    "Rule",
    "TrainingContext",
    "get_algorithm",
    "render_hyperparameters",
    "validate_training",
    "validate_tuning_range",
]

"""The catalog: every supported built-in algorithm by its canonical name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from constructs_lib.builtin_algorithms._tabular import (
    FACTORIZATION_MACHINES,
    KNN,
    LINEAR_LEARNER,
    XGBOOST,
)
from constructs_lib.builtin_algorithms._text_and_time_series import BLAZINGTEXT, DEEPAR, LDA, NTM
from constructs_lib.builtin_algorithms._unsupervised import (
    IP_INSIGHTS,
    KMEANS,
    PCA,
    RANDOM_CUT_FOREST,
)
from constructs_lib.builtin_algorithms._vision import (
    IMAGE_CLASSIFICATION,
    OBJECT_DETECTION,
    SEMANTIC_SEGMENTATION,
)
from constructs_lib.builtin_algorithms.algorithm import BuiltinAlgorithm
from constructs_lib.builtin_algorithms.problems import unknown_name_message

ALGORITHMS: Mapping[str, BuiltinAlgorithm] = MappingProxyType(
    {
        algorithm.name: algorithm
        for algorithm in sorted(
            (
                BLAZINGTEXT,
                DEEPAR,
                FACTORIZATION_MACHINES,
                IMAGE_CLASSIFICATION,
                IP_INSIGHTS,
                KMEANS,
                KNN,
                LDA,
                LINEAR_LEARNER,
                NTM,
                OBJECT_DETECTION,
                PCA,
                RANDOM_CUT_FOREST,
                SEMANTIC_SEGMENTATION,
                XGBOOST,
            ),
            key=lambda algorithm: algorithm.name,
        )
    }
)
"""Canonical name -> algorithm, sorted by name."""


def unknown_algorithm_message(name: str) -> str:
    """Why `name` is not in the catalog, with the closest canonical name when there is one.

    Names are also matched against the SDK framework keys, so `randomcutforest` suggests
    `random-cut-forest` and `forecasting-deepar` suggests `deepar`.
    """
    by_sdk_key = {algorithm.sdk_framework: algorithm.name for algorithm in ALGORITHMS.values()}
    if name in by_sdk_key and name not in ALGORITHMS:
        return (
            f"unknown built-in algorithm {name!r}; {name!r} is the SageMaker SDK key, the "
            f"catalog name is {by_sdk_key[name]!r}"
        )
    return unknown_name_message(
        f"unknown built-in algorithm {name!r}",
        name,
        ALGORITHMS,
        listing=f"known algorithms: {', '.join(ALGORITHMS)}",
    )


def get_algorithm(name: str) -> BuiltinAlgorithm:
    """The catalog entry for a canonical name such as `xgboost` or `random-cut-forest`.

    Raises:
        ValueError: for an unknown name, suggesting the closest known one.
    """
    algorithm = ALGORITHMS.get(name)
    if algorithm is None:
        raise ValueError(unknown_algorithm_message(name))
    return algorithm

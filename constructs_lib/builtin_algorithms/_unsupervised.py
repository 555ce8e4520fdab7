"""Unsupervised algorithms on tabular data: K-Means, PCA, Random Cut Forest and IP Insights.

Sources (docs.aws.amazon.com/sagemaker/latest/dg):
- K-Means: k-means-api-config; k-means ("We recommend training k-means on CPU instances. You
  can train on GPU instances"); CSV trains in File mode only.
- PCA: PCA-reference; pca ("PCA supports both GPU and CPU computation"). `feature_dim`,
  `mini_batch_size` and `num_components` are required for raw CreateTrainingJob requests.
- Random Cut Forest: rcf_hyperparameters; randomcutforest ("we recommend the ml.m4, ml.c4, and
  ml.c5 instance families ... it does not take advantage of GPU hardware"; train channel
  ShardedByS3Key, test channel `text/csv;label_size=1` or recordIO-protobuf).
- IP Insights: ip-insights-hyperparameters; ip-insights (CSV only, File mode; "supports all
  available GPUs"; 1 <= random + shuffled negative sampling rates <= 500).
"""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.builtin_algorithms._common import CSV, TABULAR
from constructs_lib.builtin_algorithms._spec_builders import (
    boolean,
    categorical,
    integer,
    number,
    text_list,
)
from constructs_lib.builtin_algorithms.algorithm import (
    BuiltinAlgorithm,
    ChannelSpec,
    TrainingContext,
)
from constructs_lib.builtin_algorithms.problems import Problem

_TRAIN_AND_TEST = (
    ChannelSpec(name="train", content_types=TABULAR, required=True),
    ChannelSpec(name="test", content_types=TABULAR),
)

KMEANS = BuiltinAlgorithm(
    name="kmeans",
    title="K-Means",
    sdk_framework="kmeans",
    hyperparameters=(
        integer("k", required=True, minimum=1),
        integer("feature_dim", required=True, minimum=1),
        integer("mini_batch_size", minimum=1),
        categorical("init_method", "random", "kmeans++"),
        integer("extra_center_factor", minimum=1, special=("auto",)),
        integer("local_lloyd_max_iter", minimum=1),
        number("local_lloyd_tol", minimum=0, maximum=1),
        categorical("local_lloyd_init_method", "random", "kmeans++"),
        integer("local_lloyd_num_trials", minimum=1, special=("auto",)),
        integer("half_life_time_size", minimum=0),
        integer("epochs", minimum=1),
        text_list("eval_metrics", "msd", "ssd"),
    ),
    channels=_TRAIN_AND_TEST,
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/k-means.html",
)

PCA = BuiltinAlgorithm(
    name="pca",
    title="Principal Component Analysis (PCA)",
    sdk_framework="pca",
    hyperparameters=(
        integer("feature_dim", required=True, minimum=1),
        integer("mini_batch_size", required=True, minimum=1),
        integer("num_components", required=True, minimum=1),
        categorical("algorithm_mode", "regular", "randomized"),
        boolean("subtract_mean"),
        # "Non-negative integer or -1" (-1: the maximum of 10 and num_components).
        integer("extra_components", minimum=-1),
    ),
    channels=_TRAIN_AND_TEST,
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/pca.html",
)

RANDOM_CUT_FOREST = BuiltinAlgorithm(
    name="random-cut-forest",
    title="Random Cut Forest",
    sdk_framework="randomcutforest",
    hyperparameters=(
        integer("feature_dim", required=True, minimum=1, maximum=10_000),
        text_list("eval_metrics", "accuracy", "precision_recall_fscore"),
        integer("num_samples_per_tree", minimum=1, maximum=2048),
        integer("num_trees", minimum=50, maximum=1000),
    ),
    channels=_TRAIN_AND_TEST,
    supports_gpu=False,
    cpu_families=("m4", "c4", "c5"),
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/randomcutforest.html",
)


def _ip_insights_negative_sampling(context: TrainingContext) -> Iterator[Problem]:
    random_rate = context.value("random_negative_sampling_rate")
    shuffled_rate = context.value("shuffled_negative_sampling_rate")
    random_rate = 1 if random_rate is None else random_rate
    shuffled_rate = 1 if shuffled_rate is None else shuffled_rate
    if isinstance(random_rate, int) and isinstance(shuffled_rate, int):
        total = random_rate + shuffled_rate
        if not 1 <= total <= 500:
            yield Problem(
                field="hyperparameters.random_negative_sampling_rate",
                message=(
                    "ip-insights random_negative_sampling_rate + shuffled_negative_sampling_rate "
                    f"must be in [1, 500]; got {random_rate} + {shuffled_rate} = {total}"
                ),
            )


IP_INSIGHTS = BuiltinAlgorithm(
    name="ip-insights",
    title="IP Insights",
    sdk_framework="ipinsights",
    hyperparameters=(
        integer("num_entity_vectors", required=True, minimum=1, maximum=250_000_000),
        integer("vector_dim", required=True, minimum=4, maximum=4096),
        integer("batch_metrics_publish_interval", minimum=1),
        integer("epochs", minimum=1),
        number("learning_rate", minimum=1e-6, maximum=10.0),
        integer("mini_batch_size", minimum=1, maximum=500_000),
        integer("num_ip_encoder_layers", minimum=0, maximum=100),
        integer("random_negative_sampling_rate", minimum=0, maximum=500),
        integer("shuffled_negative_sampling_rate", minimum=0, maximum=500),
        number("weight_decay", minimum=0.0, maximum=10.0),
    ),
    channels=(
        ChannelSpec(name="train", content_types=(CSV,), required=True),
        ChannelSpec(name="validation", content_types=(CSV,)),
    ),
    gpu_families=None,
    supports_distributed_training=True,
    rules=(_ip_insights_negative_sampling,),
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/ip-insights.html",
)

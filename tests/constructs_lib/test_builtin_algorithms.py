"""The built-in algorithm catalog: images via the SDK, validation messages, rendering, tuning."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

from constructs_lib.builtin_algorithms import (
    ALGORITHMS,
    Bounds,
    HyperparameterSpec,
    Problem,
    get_algorithm,
    render_hyperparameters,
    validate_training,
    validate_tuning_range,
)

REPOSITORIES = {
    "blazingtext": "blazingtext",
    "deepar": "forecasting-deepar",
    "factorization-machines": "factorization-machines",
    "image-classification": "image-classification",
    "ip-insights": "ipinsights",
    "kmeans": "kmeans",
    "knn": "knn",
    "lda": "lda",
    "linear-learner": "linear-learner",
    "ntm": "ntm",
    "object-detection": "object-detection",
    "pca": "pca",
    "random-cut-forest": "randomcutforest",
    "semantic-segmentation": "semantic-segmentation",
    "xgboost": "sagemaker-xgboost",
}

RECORDIO_PROTOBUF = "application/x-recordio-protobuf"

# algorithm -> (hyperparameters, instance type, channels): the smallest valid definition.
MINIMAL: dict[str, tuple[dict[str, object], str, dict[str, str | None]]] = {
    "blazingtext": ({"mode": "supervised"}, "ml.c5.4xlarge", {"train": "text/plain"}),
    "deepar": (
        {"context_length": 72, "prediction_length": 24, "time_freq": "H", "epochs": 20},
        "ml.c5.2xlarge",
        {"train": "application/jsonlines", "test": "application/jsonlines"},
    ),
    "factorization-machines": (
        {"feature_dim": 10_000, "num_factors": 64, "predictor_type": "binary_classifier"},
        "ml.c5.xlarge",
        {"train": RECORDIO_PROTOBUF},
    ),
    "image-classification": (
        {"num_classes": 257, "num_training_samples": 15_420},
        "ml.g4dn.xlarge",
        {"train": "application/x-recordio", "validation": "application/x-recordio"},
    ),
    "ip-insights": (
        {"num_entity_vectors": 20_000, "vector_dim": 128},
        "ml.m5.xlarge",
        {"train": "text/csv"},
    ),
    "kmeans": ({"k": 10, "feature_dim": 50}, "ml.c5.xlarge", {"train": RECORDIO_PROTOBUF}),
    "knn": (
        {"feature_dim": 50, "k": 5, "predictor_type": "classifier", "sample_size": 10_000},
        "ml.m5.2xlarge",
        {"train": "text/csv"},
    ),
    "lda": (
        {"num_topics": 10, "feature_dim": 10_000, "mini_batch_size": 1000},
        "ml.c5.xlarge",
        {"train": RECORDIO_PROTOBUF},
    ),
    "linear-learner": (
        {"predictor_type": "binary_classifier"},
        "ml.m5.xlarge",
        {"train": "text/csv", "validation": "text/csv"},
    ),
    "ntm": ({"feature_dim": 10_000, "num_topics": 20}, "ml.c5.xlarge", {"train": None}),
    "object-detection": (
        {"num_classes": 20, "num_training_samples": 16_551},
        "ml.g5.2xlarge",
        {"train": "application/x-recordio", "validation": "application/x-recordio"},
    ),
    "pca": (
        {"feature_dim": 50, "mini_batch_size": 500, "num_components": 5},
        "ml.m5.xlarge",
        {"train": "text/csv"},
    ),
    "random-cut-forest": ({"feature_dim": 10}, "ml.m5.xlarge", {"train": "text/csv;label_size=0"}),
    "semantic-segmentation": (
        {"num_classes": 21, "num_training_samples": 1464},
        "ml.g5.2xlarge",
        {
            "train": "image/jpeg",
            "validation": "image/jpeg",
            "train_annotation": "image/png",
            "validation_annotation": "image/png",
        },
    ),
    "xgboost": ({"num_round": 100}, "ml.m5.xlarge", {"train": "text/csv"}),
}

REQUIRED_HYPERPARAMETERS = {
    "blazingtext": ("mode",),
    "deepar": ("context_length", "epochs", "prediction_length", "time_freq"),
    "factorization-machines": ("feature_dim", "num_factors", "predictor_type"),
    "image-classification": ("num_classes", "num_training_samples"),
    "ip-insights": ("num_entity_vectors", "vector_dim"),
    "kmeans": ("k", "feature_dim"),
    "knn": ("feature_dim", "k", "predictor_type", "sample_size"),
    "lda": ("num_topics", "feature_dim", "mini_batch_size"),
    "linear-learner": ("predictor_type",),
    "ntm": ("feature_dim", "num_topics"),
    "object-detection": ("num_classes", "num_training_samples"),
    "pca": ("feature_dim", "mini_batch_size", "num_components"),
    "random-cut-forest": ("feature_dim",),
    "semantic-segmentation": ("num_classes", "num_training_samples"),
    "xgboost": ("num_round",),
}


def messages(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


def check(
    algorithm: str,
    *,
    hyperparameters: Mapping[str, object] | None = None,
    instance_type: str | None = None,
    instance_count: int = 1,
    channels: Mapping[str, str | None] | None = None,
    version: str | None = None,
    region: str | None = None,
    spot_max_wait_seconds: int | None = None,
    tuned_hyperparameters: Collection[str] = (),
) -> list[str]:
    """Validate the minimal definition of `algorithm` with some parts replaced."""
    minimal_hyperparameters, minimal_instance, minimal_channels = MINIMAL[algorithm]
    return messages(
        validate_training(
            algorithm,
            hyperparameters=minimal_hyperparameters if hyperparameters is None else hyperparameters,
            instance_type=instance_type or minimal_instance,
            instance_count=instance_count,
            channels=minimal_channels if channels is None else channels,
            version=version,
            region=region,
            spot_max_wait_seconds=spot_max_wait_seconds,
            tuned_hyperparameters=tuned_hyperparameters,
        )
    )


def test_catalog_covers_the_algorithms_and_their_required_hyperparameters() -> None:
    assert list(ALGORITHMS) == sorted(REPOSITORIES)
    for name, algorithm in ALGORITHMS.items():
        assert algorithm.name == name
        assert set(algorithm.required_hyperparameters) == set(REQUIRED_HYPERPARAMETERS[name])


def test_documentation_lists_every_algorithm() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "builtin-algorithms.md").read_text()
    for algorithm in ALGORITHMS.values():
        row = f"| `{algorithm.name}` | `{algorithm.sdk_framework}` | {algorithm.default_version} |"
        assert row in text, f"docs/builtin-algorithms.md has no catalog row for {algorithm.name}"


@pytest.mark.parametrize("name", sorted(REPOSITORIES))
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_images_resolve_through_the_sdk(name: str, region: str) -> None:
    algorithm = get_algorithm(name)
    tag = "1.7-1" if name == "xgboost" else "1"
    shape = re.compile(
        rf"\d{{12}}\.dkr\.ecr\.{region}\.amazonaws\.com/{re.escape(REPOSITORIES[name])}:"
        rf"{re.escape(tag)}"
    )
    assert shape.fullmatch(algorithm.training_image(region))
    assert shape.fullmatch(algorithm.inference_image(region))


@pytest.mark.parametrize(
    ("name", "region", "uri"),
    [
        (
            "xgboost",
            "us-east-1",
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ),
        (
            "xgboost",
            "eu-west-1",
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ),
        (
            "linear-learner",
            "us-east-1",
            "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
        ),
        (
            "linear-learner",
            "eu-west-1",
            "438346466558.dkr.ecr.eu-west-1.amazonaws.com/linear-learner:1",
        ),
        (
            "random-cut-forest",
            "eu-west-1",
            "438346466558.dkr.ecr.eu-west-1.amazonaws.com/randomcutforest:1",
        ),
        (
            "deepar",
            "us-east-1",
            "522234722520.dkr.ecr.us-east-1.amazonaws.com/forecasting-deepar:1",
        ),
    ],
)
def test_full_image_uris(name: str, region: str, uri: str) -> None:
    assert get_algorithm(name).training_image(region) == uri


def test_xgboost_versions_exclude_the_legacy_image() -> None:
    xgboost = get_algorithm("xgboost")
    assert xgboost.default_version == "1.7-1"
    assert "1.7-1" in xgboost.versions()
    assert "latest" not in xgboost.versions()
    assert "1" not in xgboost.versions()
    assert xgboost.training_image("us-east-1", "1.5-1").endswith("/sagemaker-xgboost:1.5-1")


def test_image_errors() -> None:
    xgboost = get_algorithm("xgboost")
    with pytest.raises(ValueError, match=r"^xgboost version 'latest' is the legacy XGBoost 0\.72"):
        xgboost.training_image("us-east-1", "latest")
    with pytest.raises(ValueError, match=r"^xgboost has no version '9\.9-9' in the bundled"):
        xgboost.inference_image("us-east-1", "9.9-9")
    with pytest.raises(ValueError, match=r"^Linear Learner image version 1 is not published in"):
        get_algorithm("linear-learner").training_image("mars-east-1")


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_minimal_definitions_are_valid(name: str) -> None:
    assert check(name, region="eu-west-1") == []


def test_capabilities() -> None:
    flags = {
        name: (
            algorithm.supports_cpu,
            algorithm.supports_gpu,
            algorithm.supports_distributed_training,
            algorithm.supports_checkpointing,
            algorithm.supports_incremental_training,
        )
        for name, algorithm in ALGORITHMS.items()
    }
    assert flags["random-cut-forest"] == (True, False, True, False, False)
    assert flags["lda"] == (True, False, False, False, False)
    assert flags["xgboost"] == (True, True, True, True, False)
    assert flags["linear-learner"] == (True, True, True, True, False)
    assert flags["object-detection"] == (False, True, True, True, True)
    assert flags["image-classification"] == (False, True, True, True, True)
    assert flags["semantic-segmentation"] == (False, True, False, True, True)
    assert all(algorithm.supports_spot for algorithm in ALGORITHMS.values())
    incremental = {name for name, flag in flags.items() if flag[4]}
    assert incremental == {"image-classification", "object-detection", "semantic-segmentation"}
    for name in incremental:
        model = get_algorithm(name).channel("model")
        assert model is not None
        assert model.content_types == ("application/x-sagemaker-model",)


def test_get_algorithm_errors() -> None:
    with pytest.raises(ValueError) as error:
        get_algorithm("xgbost")
    assert str(error.value) == "unknown built-in algorithm 'xgbost'; did you mean 'xgboost'?"
    with pytest.raises(ValueError) as error:
        get_algorithm("randomcutforest")
    assert str(error.value) == (
        "unknown built-in algorithm 'randomcutforest'; 'randomcutforest' is the SageMaker SDK "
        "key, the catalog name is 'random-cut-forest'"
    )


def test_unknown_algorithm() -> None:
    problems = validate_training(
        "gradient-boost",
        hyperparameters={},
        instance_type="ml.m5.xlarge",
        instance_count=1,
        channels={},
    )
    assert messages(problems) == [
        "algorithm: unknown built-in algorithm 'gradient-boost'; known algorithms: "
        + ", ".join(ALGORITHMS)
    ]


def test_missing_required_hyperparameter() -> None:
    assert check("xgboost", hyperparameters={}) == [
        "hyperparameters.num_round: xgboost requires hyperparameter 'num_round' (an integer >= 1)"
    ]


def test_required_hyperparameter_may_be_tuned() -> None:
    assert check("xgboost", hyperparameters={}, tuned_hyperparameters=["num_round"]) == []


def test_unknown_hyperparameter_with_and_without_a_suggestion() -> None:
    assert check("xgboost", hyperparameters={"num_round": 10, "max_dept": 3}) == [
        "hyperparameters.max_dept: xgboost has no hyperparameter 'max_dept'; did you mean "
        "'max_depth'?"
    ]
    assert check("random-cut-forest", hyperparameters={"feature_dim": 3, "zzz": 1}) == [
        "hyperparameters.zzz: random-cut-forest has no hyperparameter 'zzz'; its hyperparameters "
        "are feature_dim, eval_metrics, num_samples_per_tree, num_trees"
    ]


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        (
            {"num_round": "ten"},
            "hyperparameters.num_round: xgboost hyperparameter 'num_round' must be an integer "
            ">= 1; got 'ten'",
        ),
        (
            {"num_round": 10.0},
            "hyperparameters.num_round: xgboost hyperparameter 'num_round' must be an integer "
            ">= 1; got 10.0",
        ),
        (
            {"num_round": True},
            "hyperparameters.num_round: xgboost hyperparameter 'num_round' must be an integer "
            ">= 1; got True",
        ),
        (
            {"num_round": 0},
            "hyperparameters.num_round: xgboost hyperparameter 'num_round' must be an integer "
            ">= 1; got 0",
        ),
        (
            {"num_round": 10, "eta": 1.5},
            "hyperparameters.eta: xgboost hyperparameter 'eta' must be a number in [0, 1]; got 1.5",
        ),
        (
            {"num_round": 10, "subsample": 0},
            "hyperparameters.subsample: xgboost hyperparameter 'subsample' must be a number in "
            "(0, 1]; got 0",
        ),
        (
            {"num_round": 10, "eta": math.nan},
            "hyperparameters.eta: xgboost hyperparameter 'eta' must be a number in [0, 1]; got nan",
        ),
        (
            {"num_round": 10, "booster": "gbtre"},
            "hyperparameters.booster: xgboost hyperparameter 'booster' must be one of 'gbtree', "
            "'gblinear', 'dart'; got 'gbtre'; did you mean 'gbtree'?",
        ),
        (
            {"num_round": 10, "save_model_on_termination": "yes"},
            "hyperparameters.save_model_on_termination: xgboost hyperparameter "
            "'save_model_on_termination' must be true or false; got 'yes'",
        ),
        (
            {"num_round": 10, "monotone_constraints": [0, 2]},
            "hyperparameters.monotone_constraints: xgboost hyperparameter 'monotone_constraints' "
            "must be a tuple of integers in [-1, 1]; got [0, 2]",
        ),
    ],
)
def test_wrong_hyperparameter_values(hyperparameters: dict[str, object], expected: str) -> None:
    assert check("xgboost", hyperparameters=hyperparameters) == [expected]


def test_special_values_and_strings_are_accepted() -> None:
    hyperparameters = {
        "predictor_type": "regressor",
        "feature_dim": "auto",
        "learning_rate": "0.01",
        "use_bias": "false",
        "normalize_data": "auto",
        "mini_batch_size": "200",
    }
    assert check("linear-learner", hyperparameters=hyperparameters) == []
    assert check(
        "linear-learner", hyperparameters={"predictor_type": "regressor", "wd": "sometimes"}
    ) == [
        "hyperparameters.wd: linear-learner hyperparameter 'wd' must be a number >= 0 or 'auto'; "
        "got 'sometimes'"
    ]


def test_alias_given_twice() -> None:
    assert check("xgboost", hyperparameters={"num_round": 5, "eta": 0.1, "learning_rate": 0.2}) == [
        "hyperparameters.learning_rate: 'eta' and 'learning_rate' name the same xgboost "
        "hyperparameter; set only one"
    ]
    assert check("xgboost", hyperparameters={"num_round": 5, "learning_rate": 0.2}) == []


def test_api_limits_on_hyperparameters() -> None:
    too_long = check("xgboost", hyperparameters={"num_round": 5, "eval_metric": "x" * 2501})
    assert too_long == [
        "hyperparameters.eval_metric: xgboost hyperparameter 'eval_metric' renders to 2501 "
        "characters; CreateTrainingJob allows 2500"
    ]
    too_many = check("xgboost", hyperparameters={f"h{index}": 1 for index in range(101)})
    assert too_many[-1] == (
        "hyperparameters: CreateTrainingJob allows at most 100 hyperparameters; got 101"
    )


def test_gpu_instance_for_a_cpu_only_algorithm() -> None:
    assert check("random-cut-forest", instance_type="ml.g5.xlarge") == [
        "instance_type: random-cut-forest trains on CPU instances only; ml.g5.xlarge is a GPU "
        "instance: use a CPU instance type (recommended: ml.m4, ml.c4 or ml.c5)"
    ]


def test_cpu_instance_for_a_gpu_only_algorithm() -> None:
    assert check("object-detection", instance_type="ml.m5.xlarge") == [
        "instance_type: object-detection trains on GPU instances only; ml.m5.xlarge is a CPU "
        "instance: use a GPU family (ml.g4dn or ml.g5)"
    ]


def test_gpu_family_the_algorithm_is_not_documented_for() -> None:
    assert check("linear-learner", instance_type="ml.p5.48xlarge") == [
        "instance_type: linear-learner is documented to train on GPU families ml.g4dn or ml.g5; "
        "ml.p5.48xlarge is not one of them"
    ]
    assert check("ip-insights", instance_type="ml.p5.48xlarge") == []


def test_retired_gpu_family() -> None:
    assert check("linear-learner", instance_type="ml.p3.2xlarge") == [
        "instance_type: ml.p3.2xlarge (NVIDIA V100) cannot be used: CUDA 13 and current PyTorch "
        "builds dropped the V100 (sm_70) and AWS has retired P3. Use a supported GPU family: "
        "ml.g4dn or ml.g5"
    ]


def test_unknown_and_non_nvidia_instance_types() -> None:
    assert check("xgboost", instance_type="ml.m5.xlarg") == [
        "instance_type: ml.m5.xlarg is not a SageMaker training instance type; did you mean "
        "ml.m5.xlarge?"
    ]
    assert check("xgboost", instance_type="ml.trn1.2xlarge") == [
        "instance_type: ml.trn1.2xlarge is an AWS Trainium instance; built-in algorithms train on "
        "CPU or NVIDIA GPU instances: use a CPU instance type (recommended: ml.m5 or ml.c5)"
    ]


def test_instance_count() -> None:
    assert check("lda", instance_count=2) == [
        "instance_count: lda does not support distributed (multi-instance) training; "
        "instance_count must be 1, got 2"
    ]
    assert check("xgboost", instance_count=0) == [
        "instance_count: instance_count must be at least 1; got 0"
    ]
    assert check("xgboost", instance_count=4) == []


def test_channels() -> None:
    assert check("random-cut-forest", channels={"train": "application/json"}) == [
        "channels.train.content_type: random-cut-forest does not read content type "
        "'application/json' on channel 'train'; allowed: application/x-recordio-protobuf, text/csv"
    ]
    assert check("xgboost", channels={"train": "text/csv", "valdation": "text/csv"}) == [
        "channels.valdation: xgboost has no channel 'valdation'; did you mean 'validation'?"
    ]
    assert check("xgboost", channels={"validation": "text/csv"}) == [
        "channels.train: xgboost needs a 'train' channel; given channels: validation"
    ]
    assert check("object-detection", channels={"train": "application/x-recordio"}) == [
        "channels.validation: object-detection needs a 'validation' channel; given channels: train"
    ]
    assert check("factorization-machines", channels={"train": "text/csv"}) == [
        "channels.train.content_type: factorization-machines does not read content type "
        "'text/csv' on channel 'train'; allowed: application/x-recordio-protobuf"
    ]
    assert check("xgboost", channels={"train": "Text/CSV; charset=utf-8"}) == []


def test_versions() -> None:
    assert check("xgboost", version="latest") == [
        "version: xgboost version 'latest' is the legacy XGBoost 0.72 image "
        "(811284229777.../xgboost:1); use one of 0.90-1, 0.90-2, 1.0-1, 1.2-1, 1.2-2, 1.3-1, "
        "1.5-1, 1.7-1, 3.0-5, 3.2-0 (default 1.7-1)"
    ]
    assert check("lda", version="2") == [
        "version: lda has no version '2' in the bundled SageMaker SDK config "
        "(sagemaker-core 2.27.0); known versions: 1"
    ]
    assert check("xgboost", version="1.5-1") == []


def test_spot_wait_without_checkpoints() -> None:
    assert check("kmeans", spot_max_wait_seconds=7200) == [
        "spot_max_wait_seconds: kmeans does not checkpoint, so managed spot training allows a "
        "maximum wait of 3600 seconds; got 7200"
    ]
    assert check("kmeans", spot_max_wait_seconds=3600) == []
    assert check("xgboost", spot_max_wait_seconds=86_400) == []


def test_region_without_the_image() -> None:
    problems = check("pca", region="mars-east-1")
    assert len(problems) == 1
    assert problems[0].startswith(
        "region: Principal Component Analysis (PCA) image version 1 is not published in region "
        "'mars-east-1' (bundled SageMaker SDK config, sagemaker-core 2.27.0); available regions: "
        "af-south-1, "
    )


def test_linear_learner_multiclass_needs_num_classes() -> None:
    assert check("linear-learner", hyperparameters={"predictor_type": "multiclass_classifier"}) == [
        "hyperparameters.num_classes: linear-learner needs hyperparameter 'num_classes' "
        "(an integer in [3, 1000000]) when predictor_type is 'multiclass_classifier'"
    ]
    assert (
        check(
            "linear-learner",
            hyperparameters={"predictor_type": "multiclass_classifier", "num_classes": 5},
        )
        == []
    )


def test_xgboost_cross_field_rules() -> None:
    assert check("xgboost", hyperparameters={"num_round": 5, "objective": "multi:softprob"}) == [
        "hyperparameters.num_class: xgboost needs hyperparameter 'num_class' (an integer >= 2) "
        "when objective is 'multi:softprob'"
    ]
    assert check("xgboost", hyperparameters={"num_round": 5, "num_class": 3}) == [
        "hyperparameters.num_class: xgboost hyperparameter 'num_class' applies to multi-class "
        "objectives only: set objective to 'multi:softmax' or 'multi:softprob', or remove "
        "num_class"
    ]
    assert check("xgboost", hyperparameters={"num_round": 5, "monotone_constraints": "(1,0)"}) == [
        "hyperparameters.monotone_constraints: xgboost hyperparameter 'monotone_constraints' "
        "needs tree_method 'exact' or 'hist'; tree_method is 'auto'"
    ]
    assert check("xgboost", hyperparameters={"num_round": 5, "eval_metric": "auc"}) == [
        "hyperparameters.eval_metric: xgboost eval_metric 'auc' applies to classification and "
        "ranking only; objective is 'reg:squarederror' (use a binary: or rank: objective)"
    ]


def test_xgboost_on_gpu() -> None:
    gpu = {"num_round": 5, "tree_method": "gpu_hist"}
    assert check("xgboost", hyperparameters=gpu, instance_type="ml.g5.xlarge") == []
    assert check("xgboost", hyperparameters={"num_round": 5}, instance_type="ml.g5.xlarge") == [
        "hyperparameters.tree_method: xgboost 1.7-1 uses the GPU of ml.g5.xlarge only with "
        "tree_method 'gpu_hist'; tree_method is 'auto' (set 'gpu_hist' or use a CPU instance)"
    ]
    assert check("xgboost", hyperparameters=gpu, instance_type="ml.g5.xlarge", version="1.0-1") == [
        "instance_type: xgboost 1.0-1 trains on CPU only; ml.g5.xlarge is a GPU instance "
        "(GPU training needs version 1.2-2 or later)"
    ]


def test_knn_cross_field_rules() -> None:
    base = {"feature_dim": 50, "k": 5, "predictor_type": "classifier", "sample_size": 100}
    assert check("knn", hyperparameters={**base, "dimension_reduction_type": "sign"}) == [
        "hyperparameters.dimension_reduction_target: knn needs hyperparameter "
        "'dimension_reduction_target' (an integer >= 1) when dimension_reduction_type is 'sign'"
    ]
    assert check("knn", hyperparameters={**base, "dimension_reduction_target": 50}) == [
        "hyperparameters.dimension_reduction_target: knn hyperparameter "
        "'dimension_reduction_target' must be less than feature_dim (50); got 50"
    ]
    assert check(
        "knn", hyperparameters={**base, "index_type": "faiss.IVFPQ", "index_metric": "COSINE"}
    ) == [
        "hyperparameters.index_metric: knn index_metric 'COSINE' is not supported with "
        "index_type 'faiss.IVFPQ'; use 'L2' or another index_type"
    ]


def test_ip_insights_negative_sampling_total() -> None:
    base = {"num_entity_vectors": 100, "vector_dim": 16}
    assert check(
        "ip-insights",
        hyperparameters={**base, "random_negative_sampling_rate": 500},
    ) == [
        "hyperparameters.random_negative_sampling_rate: ip-insights "
        "random_negative_sampling_rate + shuffled_negative_sampling_rate must be in [1, 500]; "
        "got 500 + 1 = 501"
    ]


def test_blazingtext_modes() -> None:
    assert check(
        "blazingtext",
        hyperparameters={"mode": "batch_skipgram", "word_ngrams": 2},
        instance_type="ml.g5.xlarge",
        channels={"train": "text/plain", "validation": "text/plain"},
    ) == [
        "hyperparameters.word_ngrams: blazingtext hyperparameter 'word_ngrams' applies to mode "
        "'supervised' only; mode is 'batch_skipgram'",
        "instance_type: blazingtext mode 'batch_skipgram' trains on CPU instances only; "
        "ml.g5.xlarge is a GPU instance",
        "channels.validation: blazingtext mode 'batch_skipgram' (Word2Vec) reads only the "
        "'train' channel; a 'validation' channel applies to mode 'supervised'",
    ]
    assert check("blazingtext", hyperparameters={"mode": "skipgram"}, instance_count=2) == [
        "instance_count: blazingtext mode 'skipgram' trains on a single instance (only "
        "'batch_skipgram' is distributed); got instance_count 2"
    ]
    assert check("blazingtext", hyperparameters={"mode": "batch_skipgram"}, instance_count=4) == []


def test_problems_come_in_a_stable_order() -> None:
    def validate() -> list[Problem]:
        return validate_training(
            "random-cut-forest",
            hyperparameters={"zz": 1, "eta": 2},
            instance_type="ml.g5.xlarge",
            instance_count=0,
            channels={"other": None},
        )

    problems = validate()
    assert [problem.field for problem in problems] == [
        "hyperparameters.eta",
        "hyperparameters.zz",
        "hyperparameters.feature_dim",
        "instance_type",
        "instance_count",
        "channels.other",
        "channels.train",
    ]
    assert problems == validate()


def test_tuning_ranges() -> None:
    assert validate_tuning_range("xgboost", "eta", min_value=0.1, max_value=0.5) == []
    assert validate_tuning_range("xgboost", "max_depth", min_value=3, max_value=10) == []
    assert validate_tuning_range("xgboost", "objective", values=["binary:logistic"]) == []
    assert validate_tuning_range("linear-learner", "use_bias", values=[True, False]) == []
    assert messages(validate_tuning_range("xgboost", "eta", min_value=0.1, max_value=1.5)) == [
        "hyperparameter_ranges.eta: tuning range bound for xgboost hyperparameter 'eta' must be a "
        "number in [0, 1]; got 1.5"
    ]
    assert messages(validate_tuning_range("xgboost", "max_depth", min_value=8, max_value=2)) == [
        "hyperparameter_ranges.max_depth: tuning range for xgboost hyperparameter 'max_depth' "
        "has min_value 8 greater than max_value 2"
    ]
    assert messages(
        validate_tuning_range("xgboost", "max_depth", min_value=1.5, max_value=4, field="t.md")
    ) == [
        "t.md: tuning range bound for xgboost hyperparameter 'max_depth' must be an integer "
        ">= 0; got 1.5"
    ]
    assert messages(validate_tuning_range("xgboost", "objective", min_value=0, max_value=1)) == [
        "hyperparameter_ranges.objective: xgboost hyperparameter 'objective' is categorical: "
        "tune it with values, not a min/max range"
    ]
    assert messages(validate_tuning_range("xgboost", "eta", values=[0.1, 0.2])) == [
        "hyperparameter_ranges.eta: xgboost hyperparameter 'eta' is numeric: tune it with "
        "min_value and max_value, not values"
    ]
    assert messages(validate_tuning_range("xgboost", "booster", values=["gbtree", "forest"])) == [
        "hyperparameter_ranges.booster: tuning value for xgboost hyperparameter 'booster' must "
        "be one of 'gbtree', 'gblinear', 'dart'; got 'forest'"
    ]
    assert messages(validate_tuning_range("xgboost", "etta", min_value=0, max_value=1)) == [
        "hyperparameter_ranges.etta: xgboost has no hyperparameter 'etta'; did you mean 'eta'?"
    ]
    assert messages(validate_tuning_range("xgboost", "updater", values=["prune"])) == [
        "hyperparameter_ranges.updater: xgboost hyperparameter 'updater' cannot be tuned: it "
        "takes free text"
    ]
    assert messages(validate_tuning_range("xgboost", "eta")) == [
        "hyperparameter_ranges.eta: give either min_value and max_value or values for xgboost "
        "hyperparameter 'eta'"
    ]
    assert messages(validate_tuning_range("xgbost", "eta", min_value=0, max_value=1)) == [
        "algorithm: unknown built-in algorithm 'xgbost'; did you mean 'xgboost'?"
    ]


def test_render_hyperparameters_without_an_algorithm() -> None:
    rendered = render_hyperparameters(
        {
            "use_bias": True,
            "early_stopping": False,
            "epochs": 15,
            "learning_rate": 0.1,
            "tolerance": 1e-8,
            "scale": 100.0,
            "mode": "supervised",
            "layers": [64, 32],
        }
    )
    assert rendered == {
        "early_stopping": "false",
        "epochs": "15",
        "layers": "64,32",
        "learning_rate": "0.1",
        "mode": "supervised",
        "scale": "100.0",
        "tolerance": "1e-08",
        "use_bias": "true",
    }
    assert list(rendered) == sorted(rendered)


@pytest.mark.parametrize("value", [None, math.inf, math.nan, {"a": 1}])
def test_render_refuses_values_without_a_string_form(value: object) -> None:
    with pytest.raises(ValueError, match="cannot render"):
        render_hyperparameters({"x": value})


def test_render_hyperparameters_the_way_each_algorithm_reads_them() -> None:
    assert get_algorithm("xgboost").render_hyperparameters(
        {
            "num_round": "100",
            "eta": "0.10",
            "alpha": 1e-8,
            "monotone_constraints": [0, 1, -1],
            "save_model_on_termination": True,
        }
    ) == {
        "alpha": "1e-08",
        "eta": "0.1",
        "monotone_constraints": "(0,1,-1)",
        "num_round": "100",
        "save_model_on_termination": "true",
    }
    assert get_algorithm("blazingtext").render_hyperparameters(
        {"mode": "supervised", "early_stopping": True}
    ) == {"early_stopping": "True", "mode": "supervised"}
    assert get_algorithm("deepar").render_hyperparameters(
        {"cardinality": [2, 3], "test_quantiles": [0.1, 0.5], "num_dynamic_feat": "auto"}
    ) == {"cardinality": "[2, 3]", "num_dynamic_feat": "auto", "test_quantiles": "[0.1, 0.5]"}
    assert get_algorithm("ntm").render_hyperparameters({"encoder_layers": "100, 50"}) == {
        "encoder_layers": "100,50"
    }
    assert get_algorithm("random-cut-forest").render_hyperparameters(
        {"eval_metrics": ["accuracy"]}
    ) == {"eval_metrics": '["accuracy"]'}
    with pytest.raises(ValueError, match=r"^xgboost has no hyperparameter 'rounds'$"):
        get_algorithm("xgboost").render_hyperparameters({"rounds": 1})
    with pytest.raises(ValueError, match=r"^hyperparameter 'eta' must be a number in \[0, 1\]"):
        get_algorithm("xgboost").render_hyperparameters({"eta": 2})


def test_spec_expectations() -> None:
    spec = HyperparameterSpec(
        name="x",
        kind="number",
        bounds=Bounds(minimum=0, maximum=1, exclusive_maximum=True),
        special_values=("auto", "ignore"),
    )
    assert spec.expectation() == "a number in [0, 1) or one of 'auto', 'ignore'"
    assert Bounds(maximum=5).describe() == "<= 5"
    assert Bounds(minimum=1e-6).describe() == ">= 1e-06"
    assert Bounds().describe() == ""
    deepar = get_algorithm("deepar")
    time_freq = deepar.hyperparameter("time_freq")
    assert time_freq is not None
    assert time_freq.parse("5min") == "5min"
    with pytest.raises(ValueError, match="an optional integer followed by min, H, D, W or M"):
        time_freq.parse("5 minutes")

"""Supervised tabular algorithms: Linear Learner, XGBoost, Factorization Machines and k-NN.

Sources, besides each algorithm's page linked from `documentation`:
- Linear Learner: ll_hyperparameters (docs.aws.amazon.com/sagemaker/latest/dg). `feature_dim`
  is optional (`auto`) in the current table although the overview still calls it required.
- XGBoost: aws/sagemaker-xgboost-container `algorithm_mode/hyperparameter_validation.py` and
  `channel_validation.py` (the container's own checks, so its ranges win over the docs: e.g.
  `subsample` is (0, 1]), and `data_utils.VALID_CONTENT_TYPES`. GPU training needs 1.2-2 or
  later and `tree_method=gpu_hist` (xgboost.html, "EC2 instance recommendation").
- Factorization Machines: fact-machines-hyperparameters; recordIO-protobuf Float32 only.
- k-NN: kNN_hyperparameters; train and test channels, CSV or recordIO-protobuf.
"""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.builtin_algorithms._common import (
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    TABULAR,
    needs_hyperparameter,
)
from constructs_lib.builtin_algorithms._spec_builders import (
    boolean,
    categorical,
    integer,
    integer_list,
    number,
    text,
)
from constructs_lib.builtin_algorithms.algorithm import (
    BuiltinAlgorithm,
    ChannelSpec,
    TrainingContext,
)
from constructs_lib.builtin_algorithms.problems import Problem

_AUTO = ("auto",)


def _linear_learner_multiclass(context: TrainingContext) -> Iterator[Problem]:
    if context.value("predictor_type") == "multiclass_classifier":
        problem = needs_hyperparameter(
            context, "num_classes", "predictor_type is 'multiclass_classifier'"
        )
        if problem is not None:
            yield problem


LINEAR_LEARNER = BuiltinAlgorithm(
    name="linear-learner",
    title="Linear Learner",
    sdk_framework="linear-learner",
    hyperparameters=(
        categorical(
            "predictor_type",
            "binary_classifier",
            "multiclass_classifier",
            "regressor",
            required=True,
        ),
        integer("feature_dim", minimum=1, special=_AUTO),
        integer("num_classes", minimum=3, maximum=1_000_000),
        integer("accuracy_top_k", minimum=1),
        boolean("balance_multiclass_weights"),
        number("beta_1", minimum=0, maximum=1, special=_AUTO),
        number("beta_2", minimum=0, maximum=1, special=_AUTO),
        number("bias_lr_mult", minimum=0, exclusive_minimum=True, special=_AUTO),
        number("bias_wd_mult", minimum=0, special=_AUTO),
        categorical(
            "binary_classifier_model_selection_criteria",
            "accuracy",
            "f_beta",
            "precision_at_target_recall",
            "recall_at_target_precision",
            "loss_function",
        ),
        integer("early_stopping_patience", minimum=1),
        number("early_stopping_tolerance", minimum=0, exclusive_minimum=True),
        integer("epochs", minimum=1),
        number("f_beta", minimum=0, exclusive_minimum=True),
        number("huber_delta", minimum=0, exclusive_minimum=True),
        number("init_bias"),
        categorical("init_method", "uniform", "normal"),
        number("init_scale", minimum=0, exclusive_minimum=True),
        number("init_sigma", minimum=0, exclusive_minimum=True),
        number("l1", minimum=0, special=_AUTO),
        number("learning_rate", minimum=0, exclusive_minimum=True, special=_AUTO),
        categorical(
            "loss",
            "auto",
            "logistic",
            "squared_loss",
            "absolute_loss",
            "hinge_loss",
            "eps_insensitive_squared_loss",
            "eps_insensitive_absolute_loss",
            "quantile_loss",
            "huber_loss",
            "softmax_loss",
        ),
        number("loss_insensitivity", minimum=0, exclusive_minimum=True),
        number(
            "lr_scheduler_factor",
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
            special=_AUTO,
        ),
        number("lr_scheduler_minimum_lr", minimum=0, exclusive_minimum=True, special=_AUTO),
        integer("lr_scheduler_step", minimum=1, special=_AUTO),
        number("margin", minimum=0, exclusive_minimum=True),
        integer("mini_batch_size", minimum=1),
        number("momentum", minimum=0, maximum=1, special=_AUTO),
        boolean("normalize_data", special=_AUTO),
        boolean("normalize_label", special=_AUTO),
        integer("num_calibration_samples", minimum=1, special=_AUTO),
        integer("num_models", minimum=1, special=_AUTO),
        integer("num_point_for_scaler", minimum=1),
        categorical("optimizer", "auto", "sgd", "adam", "rmsprop"),
        number(
            "positive_example_weight_mult",
            minimum=0,
            exclusive_minimum=True,
            special=("auto", "balanced"),
        ),
        number("quantile", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True),
        number("target_precision", minimum=0, maximum=1),
        number("target_recall", minimum=0, maximum=1),
        boolean("unbias_data", special=_AUTO),
        boolean("unbias_label", special=_AUTO),
        boolean("use_bias"),
        boolean("use_lr_scheduler"),
        number("wd", minimum=0, special=_AUTO),
    ),
    channels=(
        ChannelSpec(name="train", content_types=TABULAR, required=True),
        ChannelSpec(name="validation", content_types=TABULAR),
        ChannelSpec(name="test", content_types=TABULAR),
    ),
    supports_distributed_training=True,
    # linear-learner.html: "If you're using Managed Spot Training, the linear learner
    # algorithm supports using checkpoints".
    supports_checkpointing=True,
    rules=(_linear_learner_multiclass,),
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html",
)


def _xgboost_version(version: str) -> tuple[int, ...]:
    """`1.7-1` -> (1, 7, 1); anything else sorts first."""
    try:
        return tuple(int(part) for part in version.replace("-", ".").split("."))
    except ValueError:
        return (0,)


def _xgboost_num_class(context: TrainingContext) -> Iterator[Problem]:
    objective = context.value("objective")
    if objective in ("multi:softmax", "multi:softprob"):
        problem = needs_hyperparameter(context, "num_class", f"objective is {objective!r}")
        if problem is not None:
            yield problem
    elif "objective" not in context.given and "num_class" in context.given:
        yield Problem(
            field="hyperparameters.num_class",
            message=(
                "xgboost hyperparameter 'num_class' applies to multi-class objectives only: "
                "set objective to 'multi:softmax' or 'multi:softprob', or remove num_class"
            ),
        )


def _xgboost_tree_method(context: TrainingContext) -> Iterator[Problem]:
    tree_method = context.value("tree_method") or "auto"
    allowed = {
        "monotone_constraints": ("exact", "hist"),
        "interaction_constraints": ("exact", "hist", "approx"),
    }
    for name, methods in allowed.items():
        if context.value(name) is not None and tree_method not in methods:
            yield Problem(
                field=f"hyperparameters.{name}",
                message=(
                    f"xgboost hyperparameter {name!r} needs tree_method "
                    f"{' or '.join(repr(method) for method in methods)}; "
                    f"tree_method is {tree_method!r}"
                ),
            )


def _xgboost_auc(context: TrainingContext) -> Iterator[Problem]:
    metrics = str(context.value("eval_metric") or "")
    objective = str(context.value("objective") or "reg:squarederror")
    if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
        yield Problem(
            field="hyperparameters.eval_metric",
            message=(
                "xgboost eval_metric 'auc' applies to classification and ranking only; "
                f"objective is {objective!r} (use a binary: or rank: objective)"
            ),
        )


def _xgboost_gpu(context: TrainingContext) -> Iterator[Problem]:
    if context.instance is None or not context.instance.is_gpu:
        return
    version = _xgboost_version(context.version)
    if version < (1, 2, 2):
        yield Problem(
            field="instance_type",
            message=(
                f"xgboost {context.version} trains on CPU only; {context.instance.name} is a GPU "
                "instance (GPU training needs version 1.2-2 or later)"
            ),
        )
    elif version < (2,) and context.value("tree_method") != "gpu_hist":
        yield Problem(
            field="hyperparameters.tree_method",
            message=(
                f"xgboost {context.version} uses the GPU of {context.instance.name} only with "
                f"tree_method 'gpu_hist'; tree_method is "
                f"{context.value('tree_method') or 'auto'!r} (set 'gpu_hist' or use a CPU "
                "instance)"
            ),
        )


_XGBOOST_CONTENT_TYPES = (LIBSVM, CSV, PARQUET, RECORDIO_PROTOBUF)

XGBOOST = BuiltinAlgorithm(
    name="xgboost",
    title="XGBoost",
    sdk_framework="xgboost",
    hyperparameters=(
        integer("num_round", required=True, minimum=1),
        integer("csv_weights", minimum=0, maximum=1),
        integer("early_stopping_rounds", minimum=1),
        categorical("booster", "gbtree", "gblinear", "dart"),
        integer("verbosity", minimum=0, maximum=3),
        integer("nthread", minimum=1),
        number("eta", minimum=0, maximum=1, aliases=("learning_rate",)),
        number("gamma", minimum=0, aliases=("min_split_loss",)),
        integer("max_depth", minimum=0),
        number("min_child_weight", minimum=0),
        number("max_delta_step", minimum=0),
        number("subsample", minimum=0, maximum=1, exclusive_minimum=True),
        number("colsample_bytree", minimum=0, maximum=1, exclusive_minimum=True),
        number("colsample_bylevel", minimum=0, maximum=1, exclusive_minimum=True),
        number("colsample_bynode", minimum=0, maximum=1, exclusive_minimum=True),
        number("lambda", minimum=0, aliases=("reg_lambda",)),
        number("alpha", minimum=0, aliases=("reg_alpha",)),
        categorical("tree_method", "auto", "exact", "approx", "hist", "gpu_hist"),
        number("sketch_eps", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True),
        number("scale_pos_weight", minimum=0, exclusive_minimum=True),
        text("updater", pattern=r"[a-z_]+(,[a-z_]+)*", pattern_hint="comma-separated updaters"),
        categorical("dsplit", "row", "col"),
        integer("refresh_leaf", minimum=0, maximum=1),
        categorical("process_type", "default", "update"),
        categorical("grow_policy", "depthwise", "lossguide"),
        integer("max_leaves", minimum=0),
        integer("max_bin", minimum=0),
        categorical("predictor", "auto", "cpu_predictor", "gpu_predictor"),
        integer_list("monotone_constraints", minimum=-1, maximum=1, list_format="tuple"),
        text(
            "interaction_constraints",
            pattern=r"\[\s*\[.*\]\s*\]",
            pattern_hint="a nested list of feature indices such as [[0, 1], [2, 3, 4]]",
        ),
        categorical("sample_type", "uniform", "weighted"),
        categorical("normalize_type", "tree", "forest"),
        number("rate_drop", minimum=0, maximum=1),
        integer("one_drop", minimum=0, maximum=1),
        number("skip_drop", minimum=0, maximum=1),
        number("lambda_bias", minimum=0, maximum=1),
        number(
            "tweedie_variance_power",
            minimum=1,
            maximum=2,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
        categorical(
            "objective",
            "binary:logistic",
            "binary:logitraw",
            "binary:hinge",
            "count:poisson",
            "multi:softmax",
            "multi:softprob",
            "rank:pairwise",
            "rank:ndcg",
            "rank:map",
            "reg:linear",
            "reg:squarederror",
            "reg:logistic",
            "reg:gamma",
            "reg:pseudohubererror",
            "reg:squaredlogerror",
            "reg:tweedie",
            "survival:aft",
            "survival:cox",
        ),
        integer("num_class", minimum=2),
        number("base_score", minimum=0),
        integer("_kfold", minimum=2),
        integer("_num_cv_round", minimum=1),
        text("_tuning_objective_metric"),
        text("eval_metric", pattern=r"[^,]+(,[^,]+)*", pattern_hint="comma-separated metrics"),
        integer(
            "seed",
            minimum=-(2**31),
            maximum=2**31 - 1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
        integer("num_parallel_tree", minimum=1),
        boolean("save_model_on_termination"),
        categorical("aft_loss_distribution", "normal", "logistic", "extreme"),
        number("aft_loss_distribution_scale", minimum=0),
        boolean("single_precision_histogram"),
        boolean("deterministic_histogram"),
        categorical("sampling_method", "uniform", "gradient_based"),
        integer("prob_buffer_row", minimum=1, exclusive_minimum=True),
    ),
    channels=(
        ChannelSpec(name="train", content_types=_XGBOOST_CONTENT_TYPES, required=True),
        ChannelSpec(name="validation", content_types=_XGBOOST_CONTENT_TYPES),
    ),
    supports_distributed_training=True,
    # model-checkpoints: XGBoost 0.90-1 or later checkpoints in algorithm mode.
    supports_checkpointing=True,
    default_version="1.7-1",
    legacy_versions=("1", "latest"),
    legacy_note="the legacy XGBoost 0.72 image (811284229777.../xgboost:1)",
    rules=(_xgboost_num_class, _xgboost_tree_method, _xgboost_auc, _xgboost_gpu),
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html",
)

_FM_INIT_METHODS = ("uniform", "normal", "constant")

FACTORIZATION_MACHINES = BuiltinAlgorithm(
    name="factorization-machines",
    title="Factorization Machines",
    sdk_framework="factorization-machines",
    hyperparameters=(
        integer("feature_dim", required=True, minimum=1),
        integer("num_factors", required=True, minimum=1),
        categorical("predictor_type", "binary_classifier", "regressor", required=True),
        integer("mini_batch_size", minimum=1),
        integer("epochs", minimum=1),
        number("clip_gradient"),
        number("eps"),
        number("rescale_grad"),
        *(number(f"{term}_lr", minimum=0) for term in ("bias", "linear", "factors")),
        *(number(f"{term}_wd", minimum=0) for term in ("bias", "linear", "factors")),
        *(
            spec
            for term in ("bias", "linear", "factors")
            for spec in (
                categorical(f"{term}_init_method", *_FM_INIT_METHODS),
                number(f"{term}_init_scale", minimum=0),
                number(f"{term}_init_sigma", minimum=0),
                number(f"{term}_init_value"),
            )
        ),
    ),
    channels=(
        # fact-machines.html: training reads recordIO-protobuf with Float32 tensors only.
        ChannelSpec(name="train", content_types=(RECORDIO_PROTOBUF,), required=True),
        ChannelSpec(name="test", content_types=(RECORDIO_PROTOBUF,)),
    ),
    # GPU training works on dense data only; CPU is recommended for sparse data.
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/fact-machines.html",
)


def _knn_dimension_reduction(context: TrainingContext) -> Iterator[Problem]:
    reduction = context.value("dimension_reduction_type")
    if reduction is not None:
        problem = needs_hyperparameter(
            context, "dimension_reduction_target", f"dimension_reduction_type is {reduction!r}"
        )
        if problem is not None:
            yield problem
    target = context.value("dimension_reduction_target")
    feature_dim = context.value("feature_dim")
    if isinstance(target, int) and isinstance(feature_dim, int) and target >= feature_dim:
        yield Problem(
            field="hyperparameters.dimension_reduction_target",
            message=(
                "knn hyperparameter 'dimension_reduction_target' must be less than feature_dim "
                f"({feature_dim}); got {target}"
            ),
        )


def _knn_index_metric(context: TrainingContext) -> Iterator[Problem]:
    metric = context.value("index_metric")
    if context.value("index_type") == "faiss.IVFPQ" and metric in ("INNER_PRODUCT", "COSINE"):
        yield Problem(
            field="hyperparameters.index_metric",
            message=(
                f"knn index_metric {metric!r} is not supported with index_type 'faiss.IVFPQ'; "
                "use 'L2' or another index_type"
            ),
        )


KNN = BuiltinAlgorithm(
    name="knn",
    title="k-Nearest Neighbors (k-NN)",
    sdk_framework="knn",
    hyperparameters=(
        integer("feature_dim", required=True, minimum=1),
        integer("k", required=True, minimum=1),
        categorical("predictor_type", "classifier", "regressor", required=True),
        integer("sample_size", required=True, minimum=1),
        integer("mini_batch_size", minimum=1),
        categorical("dimension_reduction_type", "sign", "fjlt"),
        integer("dimension_reduction_target", minimum=1),
        categorical("index_type", "faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"),
        categorical("index_metric", "L2", "INNER_PRODUCT", "COSINE"),
        integer("faiss_index_ivf_nlists", minimum=1, special=_AUTO),
        integer(
            "faiss_index_pq_m",
            choices=(1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96),
        ),
    ),
    channels=(
        ChannelSpec(name="train", content_types=TABULAR, required=True),
        ChannelSpec(name="test", content_types=TABULAR),
    ),
    supports_distributed_training=True,
    rules=(_knn_dimension_reduction, _knn_index_metric),
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/k-nearest-neighbors.html",
)

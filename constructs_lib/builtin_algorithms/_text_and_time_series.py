"""Text and time-series algorithms: DeepAR, BlazingText, NTM and LDA.

Sources (docs.aws.amazon.com/sagemaker/latest/dg):
- DeepAR: deepar_hyperparameters; deepar (train and test channels, JSON Lines or Parquet, the
  format is inferred from the file extension when no content type is given; CPU and GPU,
  single and multi-machine).
- BlazingText: blazingtext_hyperparameters (Word2Vec and text classification tables; booleans
  are spelled `True`/`False`); blazingtext ("modes supported on different types of
  instances": cbow and skipgram on one CPU or GPU instance, batch_skipgram on one or more CPU
  instances, supervised on one CPU or GPU instance; Word2Vec reads only the train channel).
- NTM: ntm_hyperparameters; ntm (train, validation, test and an auxiliary `text/plain`
  vocabulary channel).
- LDA: lda_hyperparameters; lda ("LDA currently only supports single-instance CPU training").
"""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.builtin_algorithms._common import (
    JSON,
    JSON_LINES,
    PARQUET,
    PLAIN_TEXT,
    RECORDIO,
    TABULAR,
)
from constructs_lib.builtin_algorithms._spec_builders import (
    boolean,
    categorical,
    integer,
    integer_list,
    number,
    number_list,
    text,
)
from constructs_lib.builtin_algorithms.algorithm import (
    BuiltinAlgorithm,
    ChannelSpec,
    TrainingContext,
)
from constructs_lib.builtin_algorithms.problems import Problem

_DEEPAR_CONTENT_TYPES = (JSON_LINES, JSON, PARQUET)

DEEPAR = BuiltinAlgorithm(
    name="deepar",
    title="DeepAR Forecasting",
    sdk_framework="forecasting-deepar",
    hyperparameters=(
        integer("context_length", required=True, minimum=1),
        integer("epochs", required=True, minimum=1),
        integer("prediction_length", required=True, minimum=1),
        text(
            "time_freq",
            required=True,
            pattern=r"(\d+)?(min|H|D|W|M)",
            pattern_hint="an optional integer followed by min, H, D, W or M, e.g. '5min' or 'D'",
        ),
        integer_list("cardinality", minimum=1, list_format="json", special=("auto", "ignore", "")),
        number("dropout_rate", minimum=0, maximum=1, exclusive_maximum=True),
        integer("early_stopping_patience", minimum=1),
        integer("embedding_dimension", minimum=1),
        number("learning_rate", minimum=0, exclusive_minimum=True),
        categorical(
            "likelihood", "gaussian", "beta", "negative-binomial", "student-T", "deterministic-L1"
        ),
        integer("mini_batch_size", minimum=1),
        integer("num_cells", minimum=1),
        integer("num_dynamic_feat", minimum=1, special=("auto", "ignore", "")),
        integer("num_eval_samples", minimum=1),
        integer("num_layers", minimum=1),
        number_list(
            "test_quantiles",
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
    ),
    channels=(
        ChannelSpec(name="train", content_types=_DEEPAR_CONTENT_TYPES, required=True),
        ChannelSpec(name="test", content_types=_DEEPAR_CONTENT_TYPES),
    ),
    cpu_families=("c5", "m5"),
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/deepar.html",
)

_BLAZINGTEXT_TRUE_FALSE = ("True", "False")
_WORD2VEC_ONLY = (
    "batch_size",
    "evaluation",
    "max_char",
    "min_char",
    "negative_samples",
    "sampling_threshold",
    "subwords",
    "window_size",
)
_SUPERVISED_ONLY = ("early_stopping", "min_epochs", "patience", "word_ngrams")


def _blazingtext_mode(context: TrainingContext) -> Iterator[Problem]:
    mode = context.value("mode")
    if not isinstance(mode, str):
        return
    other_mode = _WORD2VEC_ONLY if mode == "supervised" else _SUPERVISED_ONLY
    for name in sorted(context.given.intersection(other_mode)):
        applies_to = "Word2Vec modes" if name in _WORD2VEC_ONLY else "mode 'supervised'"
        yield Problem(
            field=f"hyperparameters.{name}",
            message=(
                f"blazingtext hyperparameter {name!r} applies to {applies_to} only; "
                f"mode is {mode!r}"
            ),
        )
    if "batch_size" in context.given and mode in ("skipgram", "cbow"):
        yield Problem(
            field="hyperparameters.batch_size",
            message=(
                f"blazingtext hyperparameter 'batch_size' applies to mode 'batch_skipgram' "
                f"only; mode is {mode!r}"
            ),
        )
    yield from _blazingtext_hardware(context, mode)
    if mode != "supervised" and "validation" in context.channels:
        yield Problem(
            field="channels.validation",
            message=(
                f"blazingtext mode {mode!r} (Word2Vec) reads only the 'train' channel; "
                "a 'validation' channel applies to mode 'supervised'"
            ),
        )


def _blazingtext_hardware(context: TrainingContext, mode: str) -> Iterator[Problem]:
    if mode == "batch_skipgram":
        if context.instance is not None and context.instance.is_gpu:
            yield Problem(
                field="instance_type",
                message=(
                    "blazingtext mode 'batch_skipgram' trains on CPU instances only; "
                    f"{context.instance.name} is a GPU instance"
                ),
            )
    elif context.instance_count > 1:
        yield Problem(
            field="instance_count",
            message=(
                f"blazingtext mode {mode!r} trains on a single instance (only "
                f"'batch_skipgram' is distributed); got instance_count {context.instance_count}"
            ),
        )


BLAZINGTEXT = BuiltinAlgorithm(
    name="blazingtext",
    title="BlazingText",
    sdk_framework="blazingtext",
    hyperparameters=(
        categorical("mode", "batch_skipgram", "skipgram", "cbow", "supervised", required=True),
        integer("batch_size", minimum=1),
        integer("buckets", minimum=1),
        integer("epochs", minimum=1),
        boolean("evaluation", literals=_BLAZINGTEXT_TRUE_FALSE),
        number("learning_rate", minimum=0, exclusive_minimum=True),
        integer("min_char", minimum=1),
        integer("min_count", minimum=0),
        integer("max_char", minimum=1),
        integer("negative_samples", minimum=1),
        number(
            "sampling_threshold",
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
        boolean("subwords", literals=_BLAZINGTEXT_TRUE_FALSE),
        integer("vector_dim", minimum=1),
        integer("window_size", minimum=1),
        boolean("early_stopping", literals=_BLAZINGTEXT_TRUE_FALSE),
        integer("min_epochs", minimum=1),
        integer("patience", minimum=1),
        integer("word_ngrams", minimum=1),
    ),
    channels=(
        # text/plain: one sentence per line. application/x-recordio: an augmented manifest in
        # Pipe mode (mode 'supervised').
        ChannelSpec(name="train", content_types=(PLAIN_TEXT, RECORDIO), required=True),
        ChannelSpec(name="validation", content_types=(PLAIN_TEXT, RECORDIO)),
    ),
    cpu_families=("c5", "m5"),
    supports_distributed_training=True,
    rules=(_blazingtext_mode,),
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext.html",
)

NTM = BuiltinAlgorithm(
    name="ntm",
    title="Neural Topic Model (NTM)",
    sdk_framework="ntm",
    hyperparameters=(
        integer("feature_dim", required=True, minimum=1, maximum=1_000_000),
        integer("num_topics", required=True, minimum=2, maximum=1000),
        boolean("batch_norm"),
        number("clip_gradient", minimum=1e-3),
        integer_list("encoder_layers", minimum=1, special=("auto",)),
        categorical("encoder_layers_activation", "sigmoid", "tanh", "relu"),
        integer("epochs", minimum=1),
        number("learning_rate", minimum=1e-6, maximum=1.0),
        integer("mini_batch_size", minimum=1, maximum=10_000),
        integer("num_patience_epochs", minimum=1),
        categorical("optimizer", "sgd", "adam", "adagrad", "adadelta", "rmsprop"),
        number("rescale_gradient", minimum=1e-3, maximum=1.0),
        number("sub_sample", minimum=0.0, maximum=1.0),
        number("tolerance", minimum=1e-6, maximum=0.1),
        number("weight_decay", minimum=0.0, maximum=1.0),
    ),
    channels=(
        ChannelSpec(name="train", content_types=TABULAR, required=True),
        ChannelSpec(name="validation", content_types=TABULAR),
        ChannelSpec(name="test", content_types=TABULAR),
        ChannelSpec(name="auxiliary", content_types=(PLAIN_TEXT,)),
    ),
    supports_distributed_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/ntm.html",
)

LDA = BuiltinAlgorithm(
    name="lda",
    title="Latent Dirichlet Allocation (LDA)",
    sdk_framework="lda",
    hyperparameters=(
        integer("num_topics", required=True, minimum=1),
        integer("feature_dim", required=True, minimum=1),
        integer("mini_batch_size", required=True, minimum=1),
        number("alpha0", minimum=0, exclusive_minimum=True),
        integer("max_restarts", minimum=1),
        integer("max_iterations", minimum=1),
        number("tol", minimum=0, exclusive_minimum=True),
    ),
    channels=(
        ChannelSpec(name="train", content_types=TABULAR, required=True),
        ChannelSpec(name="test", content_types=TABULAR),
    ),
    supports_gpu=False,
    supports_distributed_training=False,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/lda.html",
)

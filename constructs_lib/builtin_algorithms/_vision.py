"""Vision algorithms (MXNet): Object Detection, Image Classification, Semantic Segmentation.

All three train on GPU instances only, checkpoint, and support incremental training from a
previous model of the same algorithm on a `model` channel (content type
`application/x-sagemaker-model`): incremental-training ("Only three built-in algorithms
currently support incremental training"), model-checkpoints.

Sources (docs.aws.amazon.com/sagemaker/latest/dg):
- Object Detection: object-detection-api-config; object-detection (RecordIO or images with
  JSON annotations on train_annotation / validation_annotation; multi-GPU and multi-machine).
- Image Classification: IC-Hyperparameter (the current page adds early stopping,
  multi_label, precision_dtype and use_weighted_loss to the 2023 table); image-classification
  (RecordIO, or images with .lst files on train_lst / validation_lst; multi-machine).
- Semantic Segmentation: segmentation-hyperparameters; semantic-segmentation (train,
  validation and their annotation channels, an optional label_map; "single machine
  configurations" only). Its booleans are spelled `True`/`False`.
"""

from __future__ import annotations

from constructs_lib.builtin_algorithms._common import (
    IMAGE,
    IMAGES,
    JPEG,
    JSON,
    PNG,
    SAGEMAKER_MODEL,
)
from constructs_lib.builtin_algorithms._spec_builders import (
    boolean,
    categorical,
    integer,
    integer_list,
    number,
    text,
)
from constructs_lib.builtin_algorithms.algorithm import BuiltinAlgorithm, ChannelSpec

_TRUE_FALSE = ("True", "False")
_MODEL_CHANNEL = ChannelSpec(name="model", content_types=(SAGEMAKER_MODEL,))

OBJECT_DETECTION = BuiltinAlgorithm(
    name="object-detection",
    title="Object Detection - MXNet",
    sdk_framework="object-detection",
    hyperparameters=(
        integer("num_classes", required=True, minimum=1),
        integer("num_training_samples", required=True, minimum=1),
        categorical("base_network", "vgg-16", "resnet-50"),
        boolean("early_stopping", literals=_TRUE_FALSE),
        integer("early_stopping_min_epochs", minimum=1),
        integer("early_stopping_patience", minimum=1),
        number("early_stopping_tolerance", minimum=0, maximum=1),
        integer("image_shape", minimum=300),
        integer("epochs", minimum=1),
        text("freeze_layer_pattern"),
        categorical("kv_store", "dist_sync", "dist_async"),
        integer("label_width", minimum=1),
        number("learning_rate", minimum=0, maximum=1, exclusive_minimum=True),
        number(
            "lr_scheduler_factor",
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            exclusive_maximum=True,
        ),
        integer_list("lr_scheduler_step", minimum=1),
        integer("mini_batch_size", minimum=1),
        number("momentum", minimum=0, maximum=1, exclusive_minimum=True),
        number("nms_threshold", minimum=0, maximum=1, exclusive_minimum=True),
        categorical("optimizer", "sgd", "adam", "rmsprop", "adadelta"),
        number("overlap_threshold", minimum=0, maximum=1, exclusive_minimum=True),
        integer("use_pretrained_model", minimum=0, maximum=1),
        number(
            "weight_decay", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True
        ),
    ),
    channels=(
        ChannelSpec(name="train", content_types=IMAGES, required=True),
        ChannelSpec(name="validation", content_types=IMAGES, required=True),
        # JSON annotations, one per image; the docs give them the images' content type.
        ChannelSpec(name="train_annotation", content_types=(PNG, JPEG, IMAGE)),
        ChannelSpec(name="validation_annotation", content_types=(PNG, JPEG, IMAGE)),
        _MODEL_CHANNEL,
    ),
    supports_cpu=False,
    supports_distributed_training=True,
    supports_checkpointing=True,
    supports_incremental_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/object-detection.html",
)

IMAGE_CLASSIFICATION = BuiltinAlgorithm(
    name="image-classification",
    title="Image Classification - MXNet",
    sdk_framework="image-classification",
    hyperparameters=(
        integer("num_classes", required=True, minimum=1),
        integer("num_training_samples", required=True, minimum=1),
        categorical("augmentation_type", "crop", "crop_color", "crop_color_transform"),
        number("beta_1", minimum=0, maximum=1),
        number("beta_2", minimum=0, maximum=1),
        integer("checkpoint_frequency", minimum=1),
        boolean("early_stopping", literals=_TRUE_FALSE),
        integer("early_stopping_min_epochs", minimum=1),
        integer("early_stopping_patience", minimum=1),
        number("early_stopping_tolerance", minimum=0, maximum=1),
        integer("epochs", minimum=1),
        number("eps", minimum=0, maximum=1),
        number("gamma", minimum=0, maximum=1),
        text(
            "image_shape",
            pattern=r"\d+\s*,\s*\d+\s*,\s*\d+",
            pattern_hint="'num_channels,height,width', e.g. '3,224,224'",
        ),
        categorical("kv_store", "dist_sync", "dist_async"),
        number("learning_rate", minimum=0, maximum=1),
        number("lr_scheduler_factor", minimum=0, maximum=1),
        integer_list("lr_scheduler_step", minimum=1),
        integer("mini_batch_size", minimum=1),
        number("momentum", minimum=0, maximum=1),
        integer("multi_label", minimum=0, maximum=1),
        integer("num_layers", choices=(18, 34, 50, 101, 152, 200, 20, 32, 44, 56, 110)),
        categorical("optimizer", "sgd", "adam", "rmsprop", "nag"),
        categorical("precision_dtype", "float32", "float16"),
        integer("resize", minimum=1),
        integer("top_k", minimum=2),
        integer("use_pretrained_model", minimum=0, maximum=1),
        integer("use_weighted_loss", minimum=0, maximum=1),
        number("weight_decay", minimum=0, maximum=1),
    ),
    channels=(
        ChannelSpec(name="train", content_types=IMAGES, required=True),
        ChannelSpec(name="validation", content_types=IMAGES, required=True),
        ChannelSpec(name="train_lst", content_types=(IMAGE,)),
        ChannelSpec(name="validation_lst", content_types=(IMAGE,)),
        _MODEL_CHANNEL,
    ),
    supports_cpu=False,
    supports_distributed_training=True,
    supports_checkpointing=True,
    supports_incremental_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html",
)

SEMANTIC_SEGMENTATION = BuiltinAlgorithm(
    name="semantic-segmentation",
    title="Semantic Segmentation",
    sdk_framework="semantic-segmentation",
    hyperparameters=(
        integer("num_classes", required=True, minimum=2, maximum=254),
        integer("num_training_samples", required=True, minimum=1),
        categorical("backbone", "resnet-50", "resnet-101"),
        boolean("use_pretrained_model", literals=_TRUE_FALSE),
        categorical("algorithm", "fcn", "psp", "deeplab"),
        integer("base_size", minimum=16, exclusive_minimum=True),
        integer("crop_size", minimum=16, exclusive_minimum=True),
        boolean("early_stopping", literals=_TRUE_FALSE),
        integer("early_stopping_min_epochs", minimum=1),
        integer("early_stopping_patience", minimum=1),
        number("early_stopping_tolerance", minimum=0, maximum=1),
        integer("epochs", minimum=1),
        number("gamma1", minimum=0, maximum=1),
        number("gamma2", minimum=0, maximum=1),
        number("learning_rate", minimum=0, maximum=1, exclusive_minimum=True),
        categorical("lr_scheduler", "step", "cosine", "poly"),
        integer("mini_batch_size", minimum=1),
        number("momentum", minimum=0, maximum=1, exclusive_minimum=True),
        categorical("optimizer", "adam", "adagrad", "nag", "rmsprop", "sgd"),
        boolean("syncbn", literals=_TRUE_FALSE),
        integer("validation_mini_batch_size", minimum=1),
        number(
            "weight_decay", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True
        ),
    ),
    channels=(
        # Images (JPEG) in train/validation, PNG annotations; an augmented manifest in Pipe
        # mode reads application/x-recordio on train and validation only.
        ChannelSpec(name="train", content_types=IMAGES, required=True),
        ChannelSpec(name="validation", content_types=IMAGES, required=True),
        ChannelSpec(name="train_annotation", content_types=(PNG, IMAGE)),
        ChannelSpec(name="validation_annotation", content_types=(PNG, IMAGE)),
        ChannelSpec(name="label_map", content_types=(JSON,)),
        _MODEL_CHANNEL,
    ),
    supports_cpu=False,
    supports_distributed_training=False,
    supports_checkpointing=True,
    supports_incremental_training=True,
    documentation="https://docs.aws.amazon.com/sagemaker/latest/dg/semantic-segmentation.html",
)

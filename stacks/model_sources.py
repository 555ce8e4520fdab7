"""How a `model:` section of the config (an endpoint's or a batch transform's) becomes a
`ModelSource`: an artifact with a built-in algorithm's or framework's image, or a package."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from config.schema import EndpointModelConfig
from constructs_lib import BucketPrefixes
from constructs_lib.framework_images import resolve_framework_image
from constructs_lib.serving import ModelData, ModelSource
from stacks.training_stack import MODEL_OUTPUT_PREFIX


def model_source(
    scope: Construct, model: EndpointModelConfig, *, artifacts: s3.IBucket, instance_type: str
) -> ModelSource:
    """The model a definition names. A key-only artifact is in `artifacts`; a model package's
    artifacts may be anywhere under its `models/`; a framework image suits `instance_type`."""
    if model.model_package_arn is not None:
        return ModelSource.from_model_package(
            model.model_package_arn, artifacts=[BucketPrefixes(artifacts, (MODEL_OUTPUT_PREFIX,))]
        )
    assert model.artifact is not None
    data = (
        ModelData.from_uri(model.artifact)
        if model.artifact.startswith("s3://")
        else ModelData.from_bucket(artifacts, model.artifact)
    )
    if model.algorithm is not None:
        return ModelSource.from_builtin_algorithm(model.algorithm, data, version=model.version)
    assert model.framework is not None
    image = resolve_framework_image(
        model.framework,
        region=Stack.of(scope).region,
        instance_type=instance_type,
        scope="inference",
        version=model.version,
    )
    return ModelSource.from_image(image.uri, data)

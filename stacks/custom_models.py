"""What a custom (PyTorch / TensorFlow) training definition trains with: image, code, metrics.

`training_code/` is both the Docker build context of the images and the script-mode source
folder; see docs/training-code.md for its layout and contracts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Stage
from constructs import Construct

from config.schema import TrainingConfig
from constructs_lib import SageMakerExecutionRole, SourceBundle, TrainingImage, TrainingInput
from constructs_lib.framework_images import resolve_framework_image

TRAINING_CODE = Path(__file__).resolve().parent.parent / "training_code"
#: Kept out of images and code bundles: the local harness is for laptops and tests only.
LOCAL_ONLY = ("local_sagemaker", "metric_definitions.json")
FRAMEWORKS = ("pytorch", "tensorflow")
METRIC_DEFINITIONS: list[dict[str, str]] = json.loads(
    (TRAINING_CODE / "metric_definitions.json").read_text()
)


@dataclass(frozen=True)
class CustomCode:
    """How a custom job runs: its images, extra hyperparameters and extra input channels."""

    training_image: str
    inference_image: str
    hyperparameters: dict[str, str]
    inputs: tuple[TrainingInput, ...]


class CustomCodeFactory:
    """Builds images and code bundles once per stack, shared by the definitions that need them."""

    def __init__(self, scope: Construct, role: SageMakerExecutionRole) -> None:
        self._scope = scope
        self._role = role
        self._images: dict[str, TrainingImage] = {}
        self._bundle: SourceBundle | None = None

    def code_for(self, training: TrainingConfig, *, region: str) -> CustomCode:
        framework = training.framework
        if framework is None or training.instance_type is None:
            raise ValueError("code_for() is for framework definitions, which have instance_type")
        base = resolve_framework_image(
            framework, region=region, instance_type=training.instance_type, version=training.version
        )
        if training.code == "image":
            image = self._image(framework, base.uri, base.processor)
            return CustomCode(image.image_uri, image.image_uri, {}, ())
        bundle = self._source_bundle()
        serving = resolve_framework_image(
            framework, region=region, instance_type="ml.m5.large", scope="inference"
        )
        # With network isolation the container cannot download code: it arrives as the
        # `code` channel, as the SageMaker SDK does it.
        code_channel = TrainingInput(
            name="code", bucket=bundle.asset.bucket, prefix=bundle.asset.s3_object_key
        )
        return CustomCode(
            training_image=base.uri,
            inference_image=serving.uri,
            hyperparameters={
                "sagemaker_program": json.dumps(f"{framework}/train.py"),
                "sagemaker_submit_directory": json.dumps(
                    f"/opt/ml/input/data/code/{bundle.asset.s3_object_key}"
                ),
            },
            inputs=(code_channel,),
        )

    def _image(self, framework: str, base_uri: str, processor: str) -> TrainingImage:
        key = f"{framework}-{processor}"
        if key not in self._images:
            image = TrainingImage(
                self._scope,
                f"{framework.capitalize()}{processor.upper()}Image",
                directory=TRAINING_CODE,
                dockerfile=f"{framework}/Dockerfile",
                base_image_uri=base_uri,
                # An edit to the other framework's code must not rebuild this image.
                exclude=[*LOCAL_ONLY, *(f for f in FRAMEWORKS if f != framework)],
            )
            image.grant_pull(self._role)
            self._images[key] = image
        return self._images[key]

    def _source_bundle(self) -> SourceBundle:
        if self._bundle is None:
            self._bundle = SourceBundle(
                self._scope,
                "TrainingCode",
                directory=TRAINING_CODE,
                staging_dir=Path(Stage.of(self._scope).asset_outdir) / "source-bundles",  # type: ignore[union-attr]
                exclude=LOCAL_ONLY,
            )
            self._bundle.grant_read(self._role)
        return self._bundle

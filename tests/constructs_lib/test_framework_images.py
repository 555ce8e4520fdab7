"""Deep Learning Container images through the SDK: defaults, URIs and refusal messages.

The expected versions are those of the pinned sagemaker-core (2.27.0); a new pin that knows
newer framework versions changes the defaults, and these tests say so.
"""

from __future__ import annotations

import pytest

from constructs_lib.framework_images import (
    FrameworkImage,
    FrameworkImageError,
    check_framework_image,
    default_version,
    known_versions,
    python_versions,
    resolve_framework_image,
)

GPU_FAMILIES = "ml.g4dn, ml.g5, ml.g6, ml.p4d or ml.p5"


@pytest.mark.parametrize(
    ("framework", "scope", "version", "python"),
    [
        ("pytorch", "training", "2.10.0", ("py313",)),
        ("pytorch", "inference", "2.6.0", ("py312",)),
        ("tensorflow", "training", "2.21.0", ("py312",)),
        ("tensorflow", "inference", "2.20.0", ("py312",)),
    ],
)
def test_defaults_are_the_newest_versions_the_sdk_knows(
    framework: str, scope: str, version: str, python: tuple[str, ...]
) -> None:
    assert default_version(framework, scope) == version  # type: ignore[arg-type]
    assert python_versions(framework, version, scope) == python  # type: ignore[arg-type]


def test_known_versions_are_in_numeric_order() -> None:
    versions = known_versions("pytorch")
    assert versions.index("2.9.0") < versions.index("2.10.0")
    assert versions[-1] == "2.10.0"


def test_pytorch_training_gpu_image() -> None:
    image = resolve_framework_image("pytorch", region="us-east-1", instance_type="ml.g5.xlarge")
    assert image == FrameworkImage(
        uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10.0-gpu-py313",
        framework="pytorch",
        scope="training",
        version="2.10.0",
        py_version="py313",
        processor="gpu",
        region="us-east-1",
    )
    assert image.repository == "pytorch-training"
    assert image.tag == "2.10.0-gpu-py313"


def test_tensorflow_images() -> None:
    training = resolve_framework_image(
        "tensorflow", region="eu-west-1", instance_type="ml.m5.xlarge"
    )
    assert training.uri == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-training:2.21.0-cpu-py312"
    )
    inference = resolve_framework_image(
        "tensorflow", region="eu-west-1", instance_type="ml.g5.xlarge", scope="inference"
    )
    assert inference.uri == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-inference:2.20.0-gpu-py312"
    )
    assert inference.processor == "gpu"


def test_alias_versions_keep_the_alias_tag() -> None:
    image = resolve_framework_image(
        "pytorch", region="eu-west-1", instance_type="ml.m5.xlarge", version="2.10"
    )
    assert image.uri.endswith("/pytorch-training:2.10-cpu-py313")
    assert image.version == "2.10.0"


def test_pytorch_inference_stops_at_2_6() -> None:
    image = resolve_framework_image(
        "pytorch", region="us-east-1", instance_type="ml.g5.xlarge", scope="inference"
    )
    assert image.uri.endswith("/pytorch-inference:2.6.0-gpu-py312")
    problems = check_framework_image(
        "pytorch",
        region="us-east-1",
        instance_type="ml.g5.xlarge",
        scope="inference",
        version="2.10",
    )
    assert [problem.field for problem in problems] == ["version"]
    assert problems[0].message.startswith(
        "PyTorch inference version '2.10' is not in the bundled SageMaker SDK config "
        "(sagemaker-core 2.27.0); known versions: 0.4.0, "
    )
    assert problems[0].message.endswith(", 2.5.1, 2.6.0")


def test_graviton_inference() -> None:
    image = resolve_framework_image(
        "pytorch", region="eu-west-1", instance_type="ml.c7g.xlarge", scope="inference"
    )
    assert image.scope == "inference_graviton"
    assert image.repository == "pytorch-inference-arm64"


def test_p2_is_refused_by_the_sdk_with_our_message() -> None:
    assert [
        str(problem)
        for problem in check_framework_image(
            "pytorch", region="us-east-1", instance_type="ml.p2.xlarge"
        )
    ] == [
        "instance_type: ml.p2.xlarge (NVIDIA K80) cannot run PyTorch 2.10.0 images: the SageMaker "
        "SDK refuses P2 instances for PyTorch 1.13+ and TensorFlow 2.12+ (CUDA 12 removed the "
        f"K80). Use a supported GPU family: {GPU_FAMILIES}"
    ]
    tensorflow = check_framework_image(
        "tensorflow", region="us-east-1", instance_type="ml.p2.8xlarge", scope="inference"
    )
    assert tensorflow[0].message.startswith(
        "ml.p2.8xlarge (NVIDIA K80) cannot run TensorFlow 2.20.0 images"
    )


def test_p2_with_an_old_version_and_p3_are_refused_by_our_rule() -> None:
    old = check_framework_image(
        "pytorch", region="us-east-1", instance_type="ml.p2.xlarge", version="1.12"
    )
    assert [str(problem) for problem in old] == [
        "instance_type: ml.p2.xlarge (NVIDIA K80) cannot be used: CUDA 12 removed the K80 (sm_37) "
        "and current PyTorch and TensorFlow containers refuse it. Use a supported GPU family: "
        f"{GPU_FAMILIES}"
    ]
    p3 = check_framework_image("tensorflow", region="us-east-1", instance_type="ml.p3.2xlarge")
    assert [str(problem) for problem in p3] == [
        "instance_type: ml.p3.2xlarge (NVIDIA V100) cannot be used: CUDA 13 and current PyTorch "
        "builds dropped the V100 (sm_70) and AWS has retired P3. Use a supported GPU family: "
        f"{GPU_FAMILIES}"
    ]


def test_resolve_raises_with_every_problem() -> None:
    with pytest.raises(FrameworkImageError) as error:
        resolve_framework_image(
            "pytorch", region="mars-east-1", instance_type="ml.m5.xlarge", py_version="py39"
        )
    assert [problem.field for problem in error.value.problems] == ["py_version", "region"]
    assert str(error.value).startswith(
        "py_version: PyTorch 2.10.0 training images have no Python version 'py39'; available: "
        "py313; region: PyTorch 2.10.0 training images are not published in region 'mars-east-1'"
    )
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            {"framework": "pytorc", "instance_type": "ml.m5.xlarge"},
            "framework: unknown framework 'pytorc'; did you mean 'pytorch'?",
        ),
        (
            {"framework": "jax", "instance_type": "ml.m5.xlarge"},
            "framework: unknown framework 'jax'; supported frameworks: pytorch, tensorflow",
        ),
        (
            {"framework": "pytorch", "instance_type": "ml.m5.xlarge", "scope": "serving"},
            "scope: unknown image scope 'serving'; use one of training, inference, "
            "inference_graviton",
        ),
        (
            {"framework": "pytorch", "instance_type": "ml.m5.xlarg"},
            "instance_type: ml.m5.xlarg is not a SageMaker training instance type; did you mean "
            "ml.m5.xlarge?",
        ),
        (
            {"framework": "pytorch", "instance_type": "ml.trn1.2xlarge"},
            "instance_type: ml.trn1.2xlarge has AWS Trainium accelerators, which need the Neuron "
            "Deep Learning Containers, not the PyTorch CPU/GPU Deep Learning Containers resolved "
            "here: use a CPU or NVIDIA GPU instance type",
        ),
        (
            {
                "framework": "pytorch",
                "instance_type": "ml.g5.xlarge",
                "scope": "inference_graviton",
            },
            "instance_type: PyTorch 2.6.0 inference_graviton images are CPU-only; ml.g5.xlarge "
            "is a GPU instance",
        ),
        (
            {
                "framework": "tensorflow",
                "instance_type": "ml.m5.xlarge",
                "scope": "inference_graviton",
            },
            "instance_type: TensorFlow inference_graviton images are arm64; ml.m5.xlarge is an "
            "x86_64 instance: use one of ml.c6g, ml.c6gd, ml.c6gn, ml.c7g, ml.m6g, ml.m6gd, "
            "ml.r6g or ml.r6gd, or scope 'inference'",
        ),
        (
            {"framework": "pytorch", "instance_type": "ml.c8g.xlarge", "scope": "inference"},
            "instance_type: ml.c8g.xlarge is a Graviton (arm64) instance the SageMaker SDK maps "
            "to no PyTorch image (sagemaker-core 2.27.0); use one of ml.c6g, ml.c6gd, ml.c6gn, "
            "ml.c7g, ml.m6g, ml.m6gd, ml.r6g or ml.r6gd",
        ),
        (
            {"framework": "pytorch", "instance_type": "ml.m5.xlarge", "version": "2.10.0"},
            None,
        ),
    ],
)
def test_request_problems(request_: dict[str, str], expected: str | None) -> None:
    problems = [str(problem) for problem in check_framework_image(region="us-east-1", **request_)]
    assert problems == ([] if expected is None else [expected])

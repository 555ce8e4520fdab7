"""Instance types: the botocore enums per use, hardware helpers and validation messages."""

from __future__ import annotations

import pytest

from constructs_lib.instance_types import (
    InstanceType,
    accelerator_kind,
    closest_instance_type,
    family,
    hosting_instance_types,
    is_burstable,
    is_gpu,
    is_graviton,
    join_families,
    parse_instance_type,
    training_instance_types,
    transform_instance_types,
    validate_instance_type,
)


def test_enums_come_from_the_service_model() -> None:
    assert {"ml.m5.xlarge", "ml.g5.2xlarge", "ml.p5.48xlarge"} <= training_instance_types()
    assert {"ml.c6g.large", "ml.inf2.xlarge", "ml.t2.medium"} <= hosting_instance_types()
    assert {"ml.m5.xlarge", "ml.g4dn.xlarge"} <= transform_instance_types()
    assert "ml.c6g.large" not in training_instance_types()
    # botocore still lists the retired families, which is why validate_instance_type refuses them.
    assert {"ml.p2.xlarge", "ml.p3.2xlarge"} <= training_instance_types()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ml.m5.xlarge", ("m5", "cpu", False, False, False)),
        ("ml.g5.2xlarge", ("g5", "gpu", True, False, False)),
        ("ml.p6-b200.48xlarge", ("p6-b200", "gpu", True, False, False)),
        ("ml.p4d.24xlarge", ("p4d", "gpu", True, False, False)),
        ("ml.inf2.xlarge", ("inf2", "inferentia", False, False, False)),
        ("ml.trn1.2xlarge", ("trn1", "trainium", False, False, False)),
        ("ml.dl1.24xlarge", ("dl1", "gaudi", False, False, False)),
        ("ml.t3.medium", ("t3", "cpu", False, True, False)),
        ("ml.t2.large", ("t2", "cpu", False, True, False)),
        ("ml.c7g.xlarge", ("c7g", "cpu", False, False, True)),
        ("ml.r7gd.large", ("r7gd", "cpu", False, False, True)),
        ("ml.c7i-flex.large", ("c7i-flex", "cpu", False, False, False)),
    ],
)
def test_hardware_helpers(name: str, expected: tuple[str, str, bool, bool, bool]) -> None:
    """(family, accelerator kind, GPU, burstable, Graviton)."""
    assert (
        family(name),
        accelerator_kind(name),
        is_gpu(name),
        is_burstable(name),
        is_graviton(name),
    ) == expected


def test_parse_instance_type() -> None:
    assert parse_instance_type("ml.g5.2xlarge") == InstanceType(
        name="ml.g5.2xlarge", family="g5", size="2xlarge"
    )
    with pytest.raises(ValueError) as error:
        family("m5.xlarge")
    assert str(error.value) == (
        "'m5.xlarge' is not a SageMaker instance type name: expected ml.<family>.<size>, "
        "e.g. ml.m5.xlarge"
    )


def test_valid_instance_types_have_no_message() -> None:
    assert validate_instance_type("ml.m5.xlarge", "training") is None
    assert validate_instance_type("ml.c6g.large", "hosting") is None
    assert validate_instance_type("ml.g5.xlarge", "transform") is None
    assert validate_instance_type("ml.m5.xlarge", "processing") is None


@pytest.mark.parametrize(
    ("name", "use", "expected"),
    [
        (
            "ml.m5.xlarg",
            "training",
            "ml.m5.xlarg is not a SageMaker training instance type; did you mean ml.m5.xlarge?",
        ),
        (
            "m5.xlarge",
            "training",
            "m5.xlarge is not a SageMaker training instance type; did you mean ml.m5.xlarge?",
        ),
        (
            "ml.t2.medium",
            "training",
            "ml.t2.medium is not a SageMaker training instance type; did you mean ml.t3.medium?",
        ),
        (
            "ml.g55.xlarge",
            "hosting",
            "ml.g55.xlarge is not a SageMaker hosting instance type; did you mean ml.g5.xlarge?",
        ),
        (
            "ml.c6g.large",
            "training",
            "ml.c6g.large is not a SageMaker training instance type; did you mean ml.c6i.xlarge?",
        ),
        (
            "ml.m5.hugex",
            "training",
            "ml.m5.hugex is not a SageMaker training instance type; ml.m5 sizes are large, "
            "xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge",
        ),
    ],
)
def test_unknown_instance_types(name: str, use: str, expected: str) -> None:
    assert validate_instance_type(name, use) == expected  # type: ignore[arg-type]


def test_unknown_family_lists_the_families() -> None:
    message = validate_instance_type("ml.zz.xlarge", "training")
    assert message is not None
    assert message.startswith(
        "ml.zz.xlarge is not a SageMaker training instance type; valid names are "
        "ml.<family>.<size> with one of the families ml.c4, ml.c5, "
    )
    assert closest_instance_type("ml.zz.xlarge", "training") is None


def test_retired_gpu_families_name_the_supported_ones() -> None:
    assert validate_instance_type("ml.p2.xlarge", "training") == (
        "ml.p2.xlarge (NVIDIA K80) cannot be used: CUDA 12 removed the K80 (sm_37) and current "
        "PyTorch and TensorFlow containers refuse it. Use a supported GPU family: ml.g4dn, ml.g5, "
        "ml.g6, ml.p4d or ml.p5"
    )
    assert validate_instance_type("ml.p3.16xlarge", "hosting") == (
        "ml.p3.16xlarge (NVIDIA V100) cannot be used: CUDA 13 and current PyTorch builds dropped "
        "the V100 (sm_70) and AWS has retired P3. Use a supported GPU family: ml.g4dn, ml.g5, "
        "ml.g6, ml.p4d or ml.p5"
    )
    assert validate_instance_type("ml.p3dn.24xlarge", "training") is not None
    assert validate_instance_type("ml.p4d.24xlarge", "training") is None


def test_join_families() -> None:
    assert join_families(("g5",)) == "ml.g5"
    assert join_families(("g4dn", "g5")) == "ml.g4dn or ml.g5"
    assert join_families(("g4dn", "g5", "p5")) == "ml.g4dn, ml.g5 or ml.p5"
    assert join_families(()) == ""

"""TrainingImage and SourceBundle on the real training_code/ folder."""

from __future__ import annotations

import json
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib import BucketPrefixes, SageMakerExecutionRole, SourceBundle, TrainingImage
from constructs_lib.custom_code import ALWAYS_EXCLUDED, pack_source
from tests.conftest import REPO_ROOT, cdk_json_context

pytestmark = pytest.mark.xdist_group("custom-code")

TRAINING_CODE = REPO_ROOT / "training_code"
DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com"


def _stack(outdir: Path) -> tuple[App, Stack, SageMakerExecutionRole]:
    app = App(context=cdk_json_context(), outdir=str(outdir))
    stack = Stack(app, "Custom", env=Environment(account="123456789012", region="us-east-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Data")
    role = SageMakerExecutionRole(
        stack, "Role", encryption_key=key, read=[BucketPrefixes(bucket, ("datasets/",))]
    )
    return app, stack, role


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_each_framework_image_is_built_from_its_dockerfile_for_amd64(
    tmp_path: Path, framework: str
) -> None:
    app, stack, role = _stack(tmp_path)
    base = f"{DLC}/{framework}-training:2.10.0-gpu-py313"
    image = TrainingImage(
        stack,
        "Image",
        directory=TRAINING_CODE,
        dockerfile=f"{framework}/Dockerfile",
        base_image_uri=base,
    )
    image.grant_pull(role)
    app.synth()
    manifest = json.loads((tmp_path / "Custom.assets.json").read_text())
    (asset,) = manifest["dockerImages"].values()
    assert asset["source"]["dockerFile"] == f"{framework}/Dockerfile"
    assert asset["source"]["dockerBuildArgs"] == {"BASE_IMAGE": base}
    assert asset["source"]["platform"] == "linux/amd64"
    staged = tmp_path / asset["source"]["directory"]
    assert (staged / "entrypoint.py").is_file()
    assert not list(staged.rglob("__pycache__"))


def test_a_missing_dockerfile_is_named(tmp_path: Path) -> None:
    _, stack, _ = _stack(tmp_path)
    with pytest.raises(ValueError) as raised:
        TrainingImage(
            stack, "Image", directory=TRAINING_CODE, dockerfile="jax/Dockerfile", base_image_uri="x"
        )
    assert str(raised.value) == f"dockerfile 'jax/Dockerfile' not found in {TRAINING_CODE}"


def test_the_source_bundle_is_byte_identical_and_leaves_caches_out(tmp_path: Path) -> None:
    source = tmp_path / "code"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / ".mypy_cache").mkdir()
    (source / "pkg" / "train.py").write_text("print('train')\n")
    (source / "pkg" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (source / ".mypy_cache" / "cache.db").write_bytes(b"\0")
    (source / "local").mkdir()
    (source / "local" / "harness.py").write_text("")

    first = pack_source(source, [*ALWAYS_EXCLUDED, "local"])
    (source / "pkg" / "train.py").touch()  # a new mtime must not change the bytes
    second = pack_source(source, [*ALWAYS_EXCLUDED, "local"])

    assert first == second
    with tarfile.open(fileobj=BytesIO(first), mode="r:gz") as archive:
        assert archive.getnames() == ["pkg/train.py"]
        assert {member.mtime for member in archive.getmembers()} == {0}


def test_the_bundle_is_a_file_asset_the_role_may_read(tmp_path: Path) -> None:
    app, stack, role = _stack(tmp_path)
    bundle = SourceBundle(
        stack,
        "Code",
        directory=TRAINING_CODE,
        staging_dir=tmp_path / "bundles",
        exclude=["local_sagemaker"],
    )
    bundle.grant_read(role)
    app.synth()
    manifest = json.loads((tmp_path / "Custom.assets.json").read_text())
    packaging = {
        f["source"]["packaging"] for f in manifest["files"].values() if "path" in f["source"]
    }
    assert "file" in packaging
    policy = json.dumps(stack.resolve(role.s3_policy.document.to_json()))
    assert bundle.asset.s3_object_key in policy

"""Custom training code: a built image (BYOC), or the AWS image plus code (script mode).

Both come from the same source folder (e.g. `training_code/`):

- `TrainingImage` builds `<folder>/<framework>/Dockerfile` FROM the AWS Deep Learning Container
  (`BASE_IMAGE` build argument) as a CDK Docker image asset for linux/amd64. `cdk deploy` builds
  and pushes it, which needs a Docker engine and a login to the DLC registry.
- `SourceBundle` packs the folder into a deterministic `sourcedir.tar.gz` file asset (SageMaker
  extracts tarballs, not zips) for the AWS image's training toolkit (`sagemaker_program`,
  `sagemaker_submit_directory`). No Docker is needed to deploy it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from constructs_lib.execution_role import SageMakerExecutionRole

#: Left out of a source bundle besides the caller's patterns: hidden files and folders (tool
#: caches such as .mypy_cache), byte code and archives, which differ between machines.
ALWAYS_EXCLUDED = (".*", "__pycache__", "*.pyc", "*.pyo", "*.egg-info", "*.tar.gz")
#: The same, in .dockerignore syntax, for image build contexts.
ALWAYS_EXCLUDED_FROM_IMAGES = ("**/.*", "**/__pycache__", "**/*.py[cod]", "**/*.tar.gz")


class TrainingImage(Construct):
    """An image built from a framework folder, FROM the matching AWS Deep Learning Container.

    Attributes:
        asset: the Docker image asset.
        image_uri: the image URI (in the CDK bootstrap repository) for jobs and models.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        directory: Path,
        dockerfile: str,
        base_image_uri: str,
        exclude: Sequence[str] = (),
    ) -> None:
        """
        Args:
            directory: the build context.
            dockerfile: the Dockerfile, relative to `directory`, e.g. `pytorch/Dockerfile`.
            base_image_uri: the DLC image (from `resolve_framework_image`), passed as
                `--build-arg BASE_IMAGE`.
            exclude: extra patterns left out of the context and the asset hash, besides
                `ALWAYS_EXCLUDED_FROM_IMAGES` and the folder's .dockerignore.
        """
        super().__init__(scope, construct_id)
        if not (directory / dockerfile).is_file():
            raise ValueError(f"dockerfile {dockerfile!r} not found in {directory}")
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Resource",
            directory=str(directory),
            file=dockerfile,
            build_args={"BASE_IMAGE": base_image_uri},
            platform=ecr_assets.Platform.LINUX_AMD64,
            ignore_mode=IgnoreMode.DOCKER,
            exclude=[*ALWAYS_EXCLUDED_FROM_IMAGES, *exclude],
        )
        self.image_uri = self.asset.image_uri

    def grant_pull(self, role: SageMakerExecutionRole) -> None:
        """Let SageMaker pull this image with `role`."""
        role.grant_pull(self.asset.repository)


class SourceBundle(Construct):
    """A source folder as a byte-reproducible `sourcedir.tar.gz` in the CDK assets bucket.

    The tarball is written under `staging_dir` at synth with sorted entries, zeroed times and
    owners, so the same files always give the same asset hash and no template changes by
    accident.

    Attributes:
        asset: the file asset.
        s3_uri: `s3://bucket/key` of the tarball, for `sagemaker_submit_directory`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        directory: Path,
        staging_dir: Path,
        exclude: Sequence[str] = (),
    ) -> None:
        """
        Args:
            directory: the folder to pack; its layout is kept under /opt/ml/code.
            staging_dir: where the tarball is written at synth (outside `directory`).
            exclude: glob patterns (matched on each path part) left out besides
                `ALWAYS_EXCLUDED`.
        """
        super().__init__(scope, construct_id)
        if not directory.is_dir():
            raise ValueError(f"directory {directory} is not a folder")
        data = pack_source(directory, [*ALWAYS_EXCLUDED, *exclude])
        staging_dir.mkdir(parents=True, exist_ok=True)
        tarball = staging_dir / f"sourcedir-{hashlib.sha256(data).hexdigest()[:16]}.tar.gz"
        if not tarball.exists():
            tarball.write_bytes(data)
        self.asset = s3_assets.Asset(self, "Resource", path=str(tarball))
        self.s3_uri = self.asset.s3_object_url

    def grant_read(self, role: SageMakerExecutionRole) -> None:
        """Let SageMaker download the bundle with `role`."""
        role.grant_read_object(self.asset.bucket, self.asset.s3_object_key)


def pack_source(directory: Path, exclude: Sequence[str]) -> bytes:
    """A gzipped tarball of `directory`'s files, identical for identical files."""
    files = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part_matches(part, exclude) for part in path.relative_to(directory).parts)
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in files:
            info = tarfile.TarInfo(path.relative_to(directory).as_posix())
            content = path.read_bytes()
            info.size = len(content)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def part_matches(part: str, patterns: Sequence[str]) -> bool:
    """Whether one path component matches any glob pattern."""
    return any(Path(part).match(pattern) for pattern in patterns)

"""What an endpoint serves: a model artifact with its inference image, or a model package.

A `ModelSource` is a value: it names the model and knows what the hosting role must be allowed
to read (the artifact object, the image's ECR repository), but creates nothing. `ModelEndpoint`
turns it into an `AWS::SageMaker::Model` with a `PrimaryContainer`.
"""

from __future__ import annotations

import abc
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.builtin_algorithms import get_algorithm
from constructs_lib.execution_role import BucketPrefixes

_Environment = tuple[tuple[str, str], ...]

_ARTIFACT_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>[^/].*\.tar\.gz)$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<china>\.cn)?"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/"
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}(/\d+)?$"
)


@dataclass(frozen=True)
class ModelData:
    """A model artifact: one `.tar.gz` object in S3, extracted by SageMaker into /opt/ml/model.

    Create it with `ModelData.from_bucket` or `ModelData.from_uri`.

    Attributes:
        bucket_name: the bucket's name (may be a CDK token).
        key: the object key, ending in `.tar.gz`.
        bucket: the bucket, when known; its own KMS key (if any) is granted to the model role.
    """

    bucket_name: str
    key: str
    bucket: s3.IBucket | None = None

    def __post_init__(self) -> None:
        key = self.key
        if not Token.is_unresolved(key) and (key.startswith("/") or not key.endswith(".tar.gz")):
            raise ValueError(
                f"model_data: key {key!r} must name a .tar.gz object, "
                "e.g. models/churn-xgboost-1/output/model.tar.gz"
            )

    @staticmethod
    def from_bucket(bucket: s3.IBucket, key: str) -> ModelData:
        """The artifact at `key` in `bucket`, e.g. `models/churn-1/output/model.tar.gz`.

        Raises:
            ValueError: if `key` does not name a `.tar.gz` object.
        """
        return ModelData(bucket_name=bucket.bucket_name, key=key, bucket=bucket)

    @staticmethod
    def from_uri(uri: str) -> ModelData:
        """The artifact at an `s3://<bucket>/<key>.tar.gz` URI.

        The model role may read that one object. The object must be readable with the
        endpoint's `encryption_key` (or be SSE-S3 encrypted).

        Raises:
            ValueError: if `uri` does not have that shape.
        """
        match = _ARTIFACT_URI.match(uri)
        bucket = match["bucket"] if match else ""
        if match is None or not (Token.is_unresolved(bucket) or _BUCKET_NAME.match(bucket)):
            raise ValueError(
                f"model_data: {uri!r} is not an S3 model artifact URI: expected "
                "s3://<bucket>/<key>.tar.gz (SageMaker extracts that archive into /opt/ml/model)"
            )
        return ModelData(bucket_name=bucket, key=match["key"])

    @property
    def uri(self) -> str:
        """`s3://<bucket>/<key>`: the container's `ModelDataUrl`."""
        return f"s3://{self.bucket_name}/{self.key}"

    def object_arn(self, scope: Construct) -> str:
        """The ARN of the artifact object (in the partition of `scope`'s stack)."""
        if self.bucket is not None:
            return self.bucket.arn_for_objects(self.key)
        return Stack.of(scope).format_arn(
            service="s3", region="", account="", resource=self.bucket_name, resource_name=self.key
        )


@dataclass(frozen=True)
class ModelBinding:
    """What `ModelSource.bind` returns: the container, and what the model role needs for it.

    Attributes:
        container: the model's `PrimaryContainer`.
        readable_objects: ARNs of objects the model role may read (the artifact).
        readable_prefixes: bucket prefixes the model role may read (model package artifacts).
        repository_arns: ECR repositories the model role may pull from.
        keys: KMS keys, besides the endpoint's, that encrypt the artifacts.
        builtin_algorithm: the built-in algorithm's name, when the image is one.
    """

    container: sagemaker.CfnModel.ContainerDefinitionProperty
    readable_objects: tuple[str, ...] = ()
    readable_prefixes: tuple[BucketPrefixes, ...] = ()
    repository_arns: tuple[str, ...] = ()
    keys: tuple[kms.IKey, ...] = ()
    builtin_algorithm: str | None = None


class ModelSource(abc.ABC):
    """What an endpoint serves. Create one with a factory method:

    - `ModelSource.from_builtin_algorithm("xgboost", model_data)`: a built-in algorithm's
      inference image (resolved for the stack's region) and a trained artifact;
    - `ModelSource.from_image(image_uri, model_data)` or `ModelSource.from_asset(asset,
      model_data)`: your own inference image and its artifact;
    - `ModelSource.from_model_package(arn, artifacts=...)`: a versioned model package from the
      model registry (image and artifact are in the package).
    """

    @staticmethod
    def from_image(
        image_uri: str,
        model_data: ModelData,
        *,
        repository: ecr.IRepository | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """A custom inference image (BYOC or a Deep Learning Container) with its artifact.

        Args:
            image_uri: an Amazon ECR image, `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`
                (or `@sha256:<digest>`). SageMaker hosts images from ECR only.
            model_data: the artifact the image serves.
            repository: the image's repository. Needed when `image_uri` is a CDK token (an
                image built by the app); otherwise the repository is read from the URI.
            environment: the container's environment variables. Default: none.

        Raises:
            ValueError: if the URI is not an ECR image URI, or is a token without `repository`.
        """
        return _ImageSource(
            image_uri=image_uri,
            model_data=model_data,
            repository=repository,
            environment=_frozen(environment),
        )

    @staticmethod
    def from_asset(
        asset: ecr_assets.DockerImageAsset,
        model_data: ModelData,
        *,
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """An inference image built by the app (e.g. from `training_code/pytorch`)."""
        return ModelSource.from_image(
            asset.image_uri, model_data, repository=asset.repository, environment=environment
        )

    @staticmethod
    def from_builtin_algorithm(
        algorithm: str,
        model_data: ModelData,
        *,
        version: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """A built-in algorithm's inference image, for the stack's region, with an artifact.

        Args:
            algorithm: the catalog name, e.g. `xgboost`, `linear-learner`.
            model_data: the artifact a training job of that algorithm produced.
            version: the image version, e.g. `1.7-1`. Default: the catalog's default version.
            environment: the container's environment variables. Default: none.

        Raises:
            ValueError: for an unknown algorithm (the message suggests the closest name) or
                an image version the catalog refuses.
        """
        entry = get_algorithm(algorithm)
        problem = entry.version_problem(version) if version is not None else None
        if problem is not None:
            raise ValueError(f"model: {problem}")
        return _BuiltinAlgorithmSource(
            algorithm=algorithm,
            version=version,
            model_data=model_data,
            environment=_frozen(environment),
        )

    @staticmethod
    def from_model_package(
        model_package_arn: str,
        *,
        artifacts: Sequence[BucketPrefixes],
        image_uris: Sequence[str] = (),
        repositories: Sequence[ecr.IRepository] = (),
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """A model package version from the model registry.

        The package names its image and artifact, which are only known at deploy time, so the
        model role is granted where they may be: `artifacts`, and `image_uris` / `repositories`.

        Args:
            model_package_arn: a model package (version) ARN,
                `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`.
            artifacts: the bucket prefixes that hold the registered artifacts, e.g. the
                artifacts bucket's `models/`.
            image_uris: ECR images the package versions use (e.g. a built-in algorithm's
                inference image). Default: none.
            repositories: ECR repositories the package versions' images live in. Default: none.
            environment: environment variables added to the package's. Default: none.

        Raises:
            ValueError: for a malformed ARN, no `artifacts`, or an image that is not in ECR.
        """
        if not Token.is_unresolved(model_package_arn) and not _MODEL_PACKAGE_ARN.match(
            model_package_arn
        ):
            raise ValueError(
                f"model: {model_package_arn!r} is not a model package ARN: expected "
                "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
            )
        if not artifacts:
            raise ValueError(
                "model: from_model_package needs `artifacts`, the bucket prefixes that hold the "
                "package's model artifacts (e.g. the artifacts bucket's models/), so the model "
                "role may read them"
            )
        for uri in image_uris:
            _ecr_image(uri)
        return _ModelPackageSource(
            model_package_arn=model_package_arn,
            artifacts=tuple(artifacts),
            image_uris=tuple(image_uris),
            repositories=tuple(repositories),
            environment=_frozen(environment),
        )

    @abc.abstractmethod
    def bind(self, scope: Construct) -> ModelBinding:
        """Resolve the source for the stack of `scope` (called once by `ModelEndpoint`)."""


@dataclass(frozen=True)
class _ImageSource(ModelSource):
    image_uri: str
    model_data: ModelData
    repository: ecr.IRepository | None
    environment: _Environment

    def __post_init__(self) -> None:
        if self.repository is None:
            if Token.is_unresolved(self.image_uri):
                raise ValueError(
                    "model: the image URI is a CDK token; pass repository= (or use "
                    "ModelSource.from_asset) so that the model role may pull it"
                )
            _ecr_image(self.image_uri)

    def bind(self, scope: Construct) -> ModelBinding:
        repository = (
            self.repository.repository_arn
            if self.repository is not None
            else _repository_arn(scope, self.image_uri)
        )
        return _artifact_binding(
            scope, self.image_uri, self.model_data, self.environment, repository
        )


@dataclass(frozen=True)
class _BuiltinAlgorithmSource(ModelSource):
    algorithm: str
    version: str | None
    model_data: ModelData
    environment: _Environment

    def bind(self, scope: Construct) -> ModelBinding:
        region = Stack.of(scope).region
        if Token.is_unresolved(region):
            raise ValueError(
                f"model: the {self.algorithm} image is resolved per region; give the stack a "
                "concrete region (env=Environment(region=...))"
            )
        image_uri = get_algorithm(self.algorithm).inference_image(region, self.version)
        binding = _artifact_binding(
            scope, image_uri, self.model_data, self.environment, _repository_arn(scope, image_uri)
        )
        return dataclasses.replace(binding, builtin_algorithm=self.algorithm)


@dataclass(frozen=True)
class _ModelPackageSource(ModelSource):
    model_package_arn: str
    artifacts: tuple[BucketPrefixes, ...]
    image_uris: tuple[str, ...]
    repositories: tuple[ecr.IRepository, ...]
    environment: _Environment

    def bind(self, scope: Construct) -> ModelBinding:
        region = Stack.of(scope).region
        problem = model_package_region_problem(self.model_package_arn, region)
        if problem:
            raise ValueError(f"model: {problem}")
        return ModelBinding(
            container=sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=self.model_package_arn,
                environment=dict(self.environment) or None,
            ),
            readable_prefixes=self.artifacts,
            repository_arns=(
                *(_repository_arn(scope, uri) for uri in self.image_uris),
                *(repository.repository_arn for repository in self.repositories),
            ),
            keys=_bucket_keys(access.bucket for access in self.artifacts),
        )


def model_package_region_problem(model_package_arn: str, region: str) -> str | None:
    """Why a model in `region` cannot serve `model_package_arn`, or None. SageMaker creates
    models only from packages in the model's own region (another account is fine, with the
    group's resource policy)."""
    if Token.is_unresolved(model_package_arn) or Token.is_unresolved(region):
        return None
    parts = model_package_arn.split(":")
    package_region = parts[3] if len(parts) > 3 else ""
    if package_region in ("", region):
        return None
    return (
        f"the model package is in {package_region} but this model is in {region}: SageMaker "
        f"serves a model package only in its own region; register the model in {region}"
    )


def _artifact_binding(
    scope: Construct,
    image_uri: str,
    model_data: ModelData,
    environment: _Environment,
    repository_arn: str,
) -> ModelBinding:
    return ModelBinding(
        container=sagemaker.CfnModel.ContainerDefinitionProperty(
            image=image_uri,
            model_data_url=model_data.uri,
            environment=dict(environment) or None,
        ),
        readable_objects=(model_data.object_arn(scope),),
        repository_arns=(repository_arn,),
        keys=_bucket_keys([model_data.bucket] if model_data.bucket else []),
    )


def _bucket_keys(buckets: Iterable[s3.IBucket]) -> tuple[kms.IKey, ...]:
    keys: list[kms.IKey] = []
    for bucket in buckets:
        key = bucket.encryption_key
        if key is not None and key not in keys:
            keys.append(key)
    return tuple(keys)


def _ecr_image(image_uri: str) -> re.Match[str]:
    match = _ECR_IMAGE.match(image_uri)
    if match is None:
        raise ValueError(
            f"model: {image_uri!r} is not an Amazon ECR image URI: expected "
            "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> "
            "(SageMaker hosts images from ECR)"
        )
    return match


def _repository_arn(scope: Construct, image_uri: str) -> str:
    match = _ecr_image(image_uri)
    return Stack.of(scope).format_arn(
        partition="aws-cn" if match["china"] else None,
        service="ecr",
        region=match["region"],
        account=match["account"],
        resource="repository",
        resource_name=match["repository"],
    )


def _frozen(environment: Mapping[str, str] | None) -> _Environment:
    return tuple(sorted((environment or {}).items()))

"""The `batch_transforms:` section of an environment file: batch inference over an S3 prefix.

Each entry becomes a `BatchTransformPipeline` in the stage's Batch stack: the model (written as
an endpoint's `model:`), the input under the data bucket's `datasets/` folder, the output under
the artifacts bucket's `batch/<name>/` folder, and the instances the jobs run on.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

# config.schema imports this module just before StageConfig, so only the names defined above
# that point are imported by name; field_error (defined after StageConfig) is used at run time.
from config import schema
from config.schema import EndpointModelConfig, S3Prefix, Strict, TrainingName
from constructs_lib.batch_transform import MAX_ENVIRONMENT_ENTRIES, MAX_PAYLOAD_MB
from constructs_lib.instance_types import validate_instance_type

BatchTransformName = TrainingName
EnvironmentName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$"),
    Field(description="a variable name: letters, digits and '_', not starting with a digit"),
]
MimeType = Annotated[
    str,
    StringConstraints(pattern=r"^[\w.+-]+/[\w.+-]+(;\s*[\w.-]+=[\w.-]+)*$", max_length=256),
    Field(description="a MIME type such as text/csv or application/jsonlines"),
]


class BatchInputConfig(Strict):
    """What a batch transform reads and how SageMaker cuts it into requests."""

    prefix: S3Prefix
    """Where the data is, under `s3://<data bucket>/datasets/`. An execution may name another
    prefix under datasets/ (`make batch INPUT=...`)."""
    content_type: MimeType
    """MIME type of the data, sent to the model, e.g. text/csv."""
    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = "None"
    """Cut files into records: by line (CSV, JSON Lines), RecordIO or TFRecord. Default: one
    request per file."""
    compression: Literal["None", "Gzip"] = "None"
    """Gzip when the objects are gzip-compressed."""


class BatchOutputConfig(Strict):
    """What a batch transform writes to `s3://<artifacts bucket>/batch/<name>/<job>/`."""

    accept: MimeType | None = None
    """MIME type asked of the model, e.g. text/csv. Default: the model's default."""
    assemble_with: Literal["None", "Line"] = "None"
    """Line joins the results of one input file with newlines (use with split_type Line)."""


class BatchTransformConfig(Strict):
    """One batch inference pipeline: a model run over an S3 prefix on demand."""

    model: EndpointModelConfig
    """The model, written as an endpoint's: algorithm or framework with artifact, or
    model_package_arn."""
    input: BatchInputConfig
    output: BatchOutputConfig = Field(default_factory=BatchOutputConfig)
    instance_type: str
    """A SageMaker transform instance type, e.g. ml.m5.large."""
    instance_count: int = Field(default=1, ge=1, le=100)
    max_runtime_minutes: int = Field(default=60, ge=1, le=28 * 24 * 60)
    """The job is stopped after this."""
    batch_strategy: Literal["MultiRecord", "SingleRecord"] | None = None
    """Records per request: as many as fit max_payload_mb, or one. Needs a split_type."""
    max_payload_mb: int | None = Field(default=None, ge=0, le=MAX_PAYLOAD_MB)
    """The largest request in MB. Default: SageMaker's 6."""
    max_concurrent_transforms: int | None = Field(default=None, ge=1)
    """Parallel requests per instance. Default: SageMaker's choice."""
    environment: dict[EnvironmentName, str] = Field(
        default_factory=dict, max_length=MAX_ENVIRONMENT_ENTRIES
    )
    """Environment variables of the model container."""

    @model_validator(mode="after")
    def _consistent(self) -> BatchTransformConfig:
        message = validate_instance_type(self.instance_type, "transform")
        if message:
            raise schema.field_error("instance_type", message)
        if self.batch_strategy is not None and self.input.split_type == "None":
            raise schema.field_error(
                "batch_strategy",
                "needs input.split_type Line, RecordIO or TFRecord: SageMaker cannot cut "
                "unsplit files into records",
            )
        payload, concurrency = self.max_payload_mb, self.max_concurrent_transforms
        if (
            payload is not None
            and concurrency is not None
            and payload * concurrency > MAX_PAYLOAD_MB
        ):
            raise schema.field_error(
                "max_payload_mb",
                f"times max_concurrent_transforms ({concurrency}) must be at most "
                f"{MAX_PAYLOAD_MB} MB",
            )
        return self

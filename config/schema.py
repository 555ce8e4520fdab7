"""The schema of an environment file (`config/<env>.yaml`).

Every field a human may write is declared here with its type, its allowed values and its default;
anything else in a file is an error. The models are frozen: the stacks receive them as read-only,
typed values and never see raw YAML.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

AccountId = Annotated[
    str,
    StringConstraints(pattern=r"^\d{12}$"),
    Field(description="12-digit AWS account id, quoted so YAML keeps it a string"),
]
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$"),
    Field(description="AWS region code such as us-east-1"),
]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w .:/=+@-]+$")]
TagValue = Annotated[str, StringConstraints(max_length=256, pattern=r"^[\w .:/=+@-]*$")]


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are never coerced, models frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StorageConfig(Strict):
    """Lifecycle of the data, artifacts and access-log buckets."""

    noncurrent_version_expiration_days: int = Field(default=90, ge=1, le=3650)
    """Days a replaced or deleted object version is kept before it expires."""
    incomplete_multipart_upload_days: int = Field(default=7, ge=1, le=365)
    """Days after which an unfinished multipart upload is aborted."""
    access_log_expiration_days: int = Field(default=365, ge=1, le=3650)
    """Days server access logs are kept."""


class StageConfig(Strict):
    """One deployment environment (Dev, Prod): where it goes and how it differs from the others."""

    account: AccountId
    region: Region
    production: bool = False
    """Production keeps its data: termination protection, RETAIN and no auto-delete required."""
    termination_protection: bool = False
    removal_policy: Literal["retain", "destroy"] = "retain"
    """What CloudFormation does with the key and buckets when they leave the template."""
    auto_delete_objects: bool = False
    """Empty buckets on delete (dev only). Adds a Lambda-backed custom resource per bucket."""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Tags applied to every resource of the stage."""
    storage: StorageConfig = Field(default_factory=StorageConfig)

    @model_validator(mode="after")
    def _production_keeps_data(self) -> StageConfig:
        if not self.production:
            return self
        if not self.termination_protection:
            raise field_error("termination_protection", "a production stage must set it to true")
        if self.removal_policy != "retain":
            raise field_error("removal_policy", "a production stage must use 'retain'")
        if self.auto_delete_objects:
            raise field_error("auto_delete_objects", "a production stage must leave it false")
        return self


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error found by a cross-field rule, reported against `field` (a dotted path)."""
    return PydanticCustomError("config_rule", message, {"field": field})

"""The `autopilot:` section of a training definition: a SageMaker Autopilot (AutoML) job.

Autopilot chooses the preprocessing, algorithms, hyperparameters and instances itself; a
definition says what to predict, how to judge the candidates and how much to spend. The data
is the definition's `channels` (`train`, and optionally `validation`), as for the other kinds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from constructs_lib.automl_job import objective_problem

#: Channel names an Autopilot definition may declare.
AUTOPILOT_CHANNELS = ("train", "validation")
#: Training definition settings that Autopilot decides itself, with why they do not apply.
NOT_FOR_AUTOPILOT = {
    "version": "Autopilot chooses its algorithms and their versions",
    "code": "Autopilot runs no code of yours",
    "instance_type": "Autopilot chooses the instances of its jobs",
    "instance_count": "Autopilot chooses the instances of its jobs",
    "volume_size_gb": "Autopilot chooses the instances of its jobs",
    "max_runtime_minutes": "use autopilot.max_runtime_per_candidate_minutes and "
    "autopilot.max_job_runtime_minutes",
    "spot": "Autopilot does not train on spot capacity",
    "hyperparameters": "Autopilot tunes the hyperparameters itself",
    "tuning": "Autopilot tunes the hyperparameters itself (see autopilot.mode)",
}


class AutopilotConfig(BaseModel):
    """An AutoML job on tabular data: Autopilot trains candidates and keeps the best one.

    Strict, frozen and closed like `config.schema.Strict`, which this module cannot import:
    `config.schema` imports it.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    problem_type: Literal["BinaryClassification", "MulticlassClassification", "Regression"]
    """What kind of prediction: a yes/no label, one of several labels, or a number."""
    target_column: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    """The column of the data to predict."""
    objective_metric: str | None = None
    """What the best candidate is chosen by (see docs/autopilot.md for the metrics of each
    problem type). Default: F1 (binary), Accuracy (multiclass), MSE (regression)."""
    mode: Literal["AUTO", "ENSEMBLING", "HYPERPARAMETER_TUNING"] = "AUTO"
    """ENSEMBLING (stacked AutoGluon models, fast on small data), HYPERPARAMETER_TUNING
    (tuned XGBoost, linear and deep models), or AUTO: Autopilot picks by the data's size."""
    max_candidates: int | None = Field(default=None, ge=1, le=750)
    """Candidates tried at most. Default: Autopilot's."""
    max_runtime_per_candidate_minutes: int | None = Field(default=None, ge=1, le=28 * 24 * 60)
    """Each candidate's training job is stopped after this. Default: Autopilot's."""
    max_job_runtime_minutes: int | None = Field(default=None, ge=1, le=30 * 24 * 60)
    """The whole AutoML job is stopped after this. Default: Autopilot's."""
    content_type: Literal["csv", "parquet"] = "csv"
    """The data's format: CSV with a header row, or Parquet."""
    validation_fraction: float | None = Field(default=None, gt=0, lt=1)
    """Share of the train channel held out for validation, without a validation channel.
    Default: Autopilot's (0.2)."""

    @model_validator(mode="after")
    def _objective_fits(self) -> AutopilotConfig:
        if self.objective_metric is not None:
            problem = objective_problem(self.problem_type, self.objective_metric)
            if problem:
                raise PydanticCustomError("config_rule", problem, {"field": "objective_metric"})
        per_candidate = self.max_runtime_per_candidate_minutes
        whole = self.max_job_runtime_minutes
        if per_candidate is not None and whole is not None and per_candidate > whole:
            raise PydanticCustomError(
                "config_rule",
                f"must not exceed max_job_runtime_minutes ({whole})",
                {"field": "max_runtime_per_candidate_minutes"},
            )
        return self

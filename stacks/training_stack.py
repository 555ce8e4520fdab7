"""The training stack: the SageMaker execution roles and one pipeline per training definition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import StageConfig
from config.autopilot_schema import AutopilotConfig
from config.schema import TrainingConfig
from constructs_lib import (
    AutoMLJob,
    BucketPrefixes,
    BucketSet,
    HyperparameterTuning,
    ParameterRange,
    SageMakerExecutionRole,
    SpotTraining,
    TrainingInput,
    TrainingJob,
    TrainingPipeline,
)
from constructs_lib.automl_job import CSV, PARQUET
from constructs_lib.builtin_algorithms import get_algorithm, render_hyperparameters
from stacks.custom_models import METRIC_DEFINITIONS, CustomCodeFactory
from stacks.naming import pascal_case, state_machine_output

#: Where training reads its data (data bucket) and writes models and checkpoints (artifacts).
TRAINING_DATA_PREFIX = "datasets/"
MODEL_OUTPUT_PREFIX = "models/"
CHECKPOINT_PREFIX = "checkpoints/"


class TrainingStack(Stack):
    """Everything that trains models. Stateless: it can be destroyed and redeployed at will.

    Attributes:
        execution_role: the role SageMaker training jobs run with.
        autopilot_role: the role Autopilot jobs run with, when a definition is an Autopilot
            one. Autopilot starts its own jobs with it, so the training jobs' role does not get
            that right.
        pipelines: the training pipelines, by definition name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        buckets: BucketSet,
        notification_topic: sns.ITopic,
        model_groups: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="SageMaker training: execution role and training pipelines (stateless)",
            **kwargs,
        )
        self._config = config
        self._buckets = buckets
        read = [BucketPrefixes(buckets.data.bucket, (TRAINING_DATA_PREFIX,))]
        self.execution_role = SageMakerExecutionRole(
            self,
            "ExecutionRole",
            encryption_key=key,
            read=read,
            write=[
                BucketPrefixes(buckets.artifacts.bucket, (MODEL_OUTPUT_PREFIX, CHECKPOINT_PREFIX))
            ],
            description="Assumed by SageMaker training jobs of this stage",
        )
        CfnOutput(self, "ExecutionRoleArn", value=self.execution_role.role.role_arn)
        self.autopilot_role: SageMakerExecutionRole | None = None
        if any(training.autopilot for training in config.training.values()):
            self.autopilot_role = SageMakerExecutionRole(
                self,
                "AutopilotRole",
                encryption_key=key,
                read=read,
                write=[BucketPrefixes(buckets.artifacts.bucket, (MODEL_OUTPUT_PREFIX,))],
                description="Assumed by SageMaker Autopilot jobs of this stage and the jobs "
                "they start",
            )
        self._custom_code = CustomCodeFactory(self, self.execution_role)
        self.pipelines: dict[str, TrainingPipeline] = {}
        for name, training in sorted(config.training.items()):
            job: TrainingJob | AutoMLJob
            if training.autopilot is not None:
                job, inference_image = self._automl_job(name, training, training.autopilot), None
            else:
                job, inference_image = self._job(name, training)
            self.pipelines[name] = TrainingPipeline(
                self,
                pascal_case(name),
                job=job,
                execution_role=self.autopilot_role
                if training.autopilot and self.autopilot_role
                else self.execution_role,
                encryption_key=key,
                inference_image_uri=inference_image,
                notification_topic=notification_topic,
                model_package_group_name=model_groups.get(name),
                schedule=events.Schedule.expression(training.schedule)
                if training.schedule
                else None,
                start_on_new_data=buckets.data.bucket if training.start_on_new_data else None,
                log_retention=logs.RetentionDays.ONE_YEAR
                if config.production
                else logs.RetentionDays.ONE_MONTH,
                log_removal_policy=RemovalPolicy(config.removal_policy.upper()),
            )
            CfnOutput(
                self,
                state_machine_output(name),
                value=self.pipelines[name].state_machine.state_machine_arn,
                description=f"Start this state machine to train {name}",
            )

    def _inputs(
        self, training: TrainingConfig, content_type: str | None = None
    ) -> list[TrainingInput]:
        return [
            TrainingInput(
                name=channel,
                bucket=self._buckets.data.bucket,
                prefix=f"{TRAINING_DATA_PREFIX}{spec.prefix}",
                content_type=content_type or spec.content_type,
            )
            for channel, spec in training.channels.items()
        ]

    def _automl_job(
        self, name: str, training: TrainingConfig, autopilot: AutopilotConfig
    ) -> AutoMLJob:
        """The Autopilot job a definition runs."""
        per_candidate = autopilot.max_runtime_per_candidate_minutes
        whole = autopilot.max_job_runtime_minutes
        return AutoMLJob(
            name=name,
            inputs=self._inputs(training, CSV if autopilot.content_type == "csv" else PARQUET),
            target_column=autopilot.target_column,
            problem_type=autopilot.problem_type,
            objective_metric=autopilot.objective_metric,
            mode=autopilot.mode,
            max_candidates=autopilot.max_candidates,
            max_runtime_per_candidate=Duration.minutes(per_candidate) if per_candidate else None,
            max_job_runtime=Duration.minutes(whole) if whole else None,
            validation_fraction=autopilot.validation_fraction,
            output_bucket=self._buckets.artifacts.bucket,
            output_prefix=f"{MODEL_OUTPUT_PREFIX}{name}/",
            tags={"training-definition": name},
        )

    def _job(self, name: str, training: TrainingConfig) -> tuple[TrainingJob, str]:
        """The job a definition runs, and the image its model is served with."""
        artifacts = self._buckets.artifacts.bucket
        inputs = self._inputs(training)
        # The schema requires an instance type of algorithm and framework definitions.
        assert training.instance_type is not None
        if training.algorithm is not None:
            algorithm = get_algorithm(training.algorithm)
            image = algorithm.training_image(self.region, training.version)
            hyperparameters = algorithm.render_hyperparameters(training.hyperparameters)
            metric_definitions: list[dict[str, str]] = []
            inference_image = algorithm.inference_image(self.region, training.version)
        else:
            code = self._custom_code.code_for(training, region=self.region)
            image = code.training_image
            hyperparameters = {
                **render_hyperparameters(training.hyperparameters),
                **code.hyperparameters,
            }
            inputs.extend(code.inputs)
            metric_definitions = METRIC_DEFINITIONS
            inference_image = code.inference_image
        job = TrainingJob(
            name=name,
            image_uri=image,
            inputs=inputs,
            output_bucket=artifacts,
            output_prefix=f"{MODEL_OUTPUT_PREFIX}{name}/",
            instance_type=training.instance_type,
            instance_count=training.instance_count,
            volume_size_gb=training.volume_size_gb,
            max_runtime=Duration.minutes(training.max_runtime_minutes),
            hyperparameters=hyperparameters,
            metric_definitions=metric_definitions,
            spot=SpotTraining(
                max_wait=Duration.minutes(training.spot.max_wait_minutes),
                checkpoint_bucket=artifacts,
                checkpoint_prefix=CHECKPOINT_PREFIX,
            )
            if training.spot
            else None,
            tuning=_tuning(training),
            tags={"training-definition": name},
        )
        return job, inference_image


def _tuning(training: TrainingConfig) -> HyperparameterTuning | None:
    if training.tuning is None:
        return None
    algorithm = get_algorithm(training.algorithm) if training.algorithm else None
    ranges = {}
    for name, spec in training.tuning.ranges.items():
        hyperparameter = algorithm.hyperparameter(name) if algorithm else None
        if spec.values is not None:
            ranges[name] = ParameterRange(kind="Categorical", values=tuple(spec.values))
            continue
        integer = hyperparameter is not None and hyperparameter.kind == "integer"
        ranges[name] = ParameterRange(
            kind="Integer" if integer else "Continuous",
            min_value=spec.min,
            max_value=spec.max,
            scaling=spec.scaling,
        )
    return HyperparameterTuning(
        objective_metric=training.tuning.objective_metric,
        objective_type=training.tuning.objective_type,
        strategy=training.tuning.strategy,
        max_jobs=training.tuning.max_jobs,
        max_parallel_jobs=training.tuning.max_parallel_jobs,
        ranges=ranges,
    )

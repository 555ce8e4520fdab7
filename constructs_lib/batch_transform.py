"""Batch inference as infrastructure: a state machine that runs a SageMaker batch transform.

CloudFormation has no transform-job resource, so the stack provisions the model and a pipeline
that a user (or any tool) starts. Each execution:

1. picks the input: the default S3 prefix, or the one in the execution input
   (`{"input": "s3://bucket/datasets/other/prefix/"}`);
2. runs CreateTransformJob and waits for it (`.sync`); the output goes to a folder of its own,
   `<output prefix><job name>/`, encrypted with the KMS key.

A failed, timed-out or aborted execution is published to the notification topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib.execution_role import BucketPrefixes, SageMakerExecutionRole
from constructs_lib.instance_types import parse_instance_type, validate_instance_type
from constructs_lib.nag import acknowledge_state_machine_policy
from constructs_lib.notifications import notify_failed_executions
from constructs_lib.serving.hosting import INSTANCE_STORE_FAMILIES, check_model
from constructs_lib.serving.model_source import ModelBinding, ModelSource
from constructs_lib.state_machine import logged_state_machine
from constructs_lib.training_job import NAME_PATTERN
from constructs_lib.training_pipeline import JOB_NAME_PATH

SplitType = Literal["None", "Line", "RecordIO", "TFRecord"]
"""How SageMaker cuts input files into records: not at all, by line, RecordIO or TFRecord."""
BatchStrategy = Literal["MultiRecord", "SingleRecord"]
"""Records per request to the container: as many as fit `max_payload_mb`, or one."""

#: Where each execution keeps the input URI it transforms.
INPUT_PATH = "$.data.input"
#: CreateTransformJob's limits (MaxPayloadInMB, Environment).
MAX_PAYLOAD_MB = 100
MAX_ENVIRONMENT_ENTRIES = 16
_ENVIRONMENT_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")


@dataclass(frozen=True, kw_only=True)
class BatchTransformInput:
    """The data a batch transform reads: every object under `prefix` in `bucket`.

    Attributes:
        bucket: the bucket holding the data.
        prefix: the default key prefix, ending in `/`, e.g. `datasets/churn/batch/`.
        content_type: MIME type of the data, sent to the container, e.g. `text/csv`.
        split_type: how files are cut into records. Default: None (one file, one request).
        compression: `Gzip` when the objects are gzip-compressed. Default: None.
        allowed_prefixes: key prefixes in `bucket` an execution's input may point to instead;
            the model role may read these. Default: `prefix` only.
    """

    bucket: s3.IBucket
    prefix: str
    content_type: str
    split_type: SplitType = "None"
    compression: Literal["None", "Gzip"] = "None"
    allowed_prefixes: Sequence[str] = ()

    def __post_init__(self) -> None:
        for name, prefix in [
            ("prefix", self.prefix),
            *(("allowed_prefixes", p) for p in self.allowed_prefixes),
        ]:
            if not _is_key_prefix(prefix):
                raise ValueError(
                    f"BatchTransformInput.{name} {prefix!r} must be a key prefix ending in '/', "
                    "e.g. 'datasets/churn/batch/'"
                )
        if self.allowed_prefixes and not any(
            self.prefix.startswith(p) for p in self.allowed_prefixes
        ):
            raise ValueError(
                f"BatchTransformInput.prefix {self.prefix!r} must lie under one of "
                f"allowed_prefixes ({', '.join(self.allowed_prefixes)})"
            )

    @property
    def readable(self) -> BucketPrefixes:
        """What the model role may read: `allowed_prefixes`, or `prefix`."""
        return BucketPrefixes(self.bucket, tuple(self.allowed_prefixes) or (self.prefix,))

    def default_uri(self) -> str:
        """`s3://<bucket>/<prefix>`: what an execution transforms unless its input names another."""
        return f"s3://{self.bucket.bucket_name}/{self.prefix}"


@dataclass(frozen=True, kw_only=True)
class BatchTransformOutput:
    """Where a batch transform writes: `<prefix><job name>/<input file>.out` in `bucket`.

    Attributes:
        bucket: the bucket the results go to (encrypted with the pipeline's key).
        prefix: key prefix ending in `/`; each job writes to a folder of its own below it.
        accept: MIME type asked of the container, e.g. `text/csv`. Default: the container's.
        assemble_with: `Line` joins the records of a file with newlines. Default: not joined.
    """

    bucket: s3.IBucket
    prefix: str
    accept: str | None = None
    assemble_with: Literal["None", "Line"] = "None"

    def __post_init__(self) -> None:
        if not _is_key_prefix(self.prefix):
            raise ValueError(
                f"BatchTransformOutput.prefix {self.prefix!r} must be a key prefix ending in "
                "'/', e.g. 'batch/churn/'"
            )


def _is_key_prefix(prefix: str) -> bool:
    """`datasets/churn/`: a key prefix ending in `/`, not a URI or an absolute path."""
    return prefix.endswith("/") and not prefix.startswith("/") and "://" not in prefix


class BatchTransformPipeline(Construct):
    """A SageMaker model and a state machine that runs batch transforms with it.

    Creates the `AWS::SageMaker::Model` (network-isolated) with a role that may read only the
    model's artifact and image, the input prefixes, and write only under the output prefix
    with `encryption_key`; and a Step Functions state machine whose every execution runs one
    transform job (`CreateTransformJob`, `.sync`) over the input prefix. The whole request is
    in the template. Output and instance volumes are encrypted with `encryption_key` (instance
    families with local NVMe storage encrypt it themselves and take no volume key).

    Attributes:
        model: the `CfnModel` the jobs run.
        model_role: the role SageMaker runs the model with (reads input, writes output).
        state_machine: start it to run a transform.
        log_group: the state machine's execution log (KMS-encrypted).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        model: ModelSource,
        input_data: BatchTransformInput,
        output: BatchTransformOutput,
        encryption_key: kms.IKey,
        notification_topic: sns.ITopic,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        max_runtime: Duration = Duration.hours(1),
        batch_strategy: BatchStrategy | None = None,
        max_payload_mb: int | None = None,
        max_concurrent_transforms: int | None = None,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        Args:
            name: short name, `[a-z][a-z0-9-]{0,22}`: prefix of every job (`<name>-<uuid>`).
            model: what the jobs run (see `ModelSource`).
            input_data: the data and how it is cut into records.
            output: where results go and how they are assembled.
            encryption_key: encrypts the output, the instance volumes and the execution log.
            notification_topic: receives failed, timed-out and aborted executions.
            instance_type: a SageMaker transform instance type. Default: ml.m5.large.
            instance_count: instances per job. Default: 1.
            max_runtime: the Transform state's timeout (CreateTransformJob has no stopping
                condition): the execution times out and Step Functions asks SageMaker to stop
                the job. Default: 1 hour.
            batch_strategy: records per request; needs a `split_type`. Default: SageMaker's.
            max_payload_mb: the largest request, 0 to 100 MB (times
                `max_concurrent_transforms` at most 100). Default: SageMaker's 6 MB.
            max_concurrent_transforms: parallel requests per instance. Default: SageMaker's.
            environment: the container's environment, at most 16 variables. Default: none.
            tags: added to each job. Default: none.
            log_retention: how long execution logs are kept. Default: one year.
            log_removal_policy: what happens to the log group on delete. Default: RETAIN.

        Raises:
            ValueError: for a setting SageMaker would refuse, with what is allowed instead.
        """
        super().__init__(scope, construct_id)
        check_model(model)
        _check_settings(
            name=name,
            input_data=input_data,
            instance_type=instance_type,
            instance_count=instance_count,
            max_runtime=max_runtime,
            batch_strategy=batch_strategy,
            max_payload_mb=max_payload_mb,
            max_concurrent_transforms=max_concurrent_transforms,
            environment=environment or {},
        )
        binding = model.bind(self)
        self._name = name
        self._key = encryption_key

        self.model_role = self._model_role(binding, input_data, output)
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.model_role.role.role_arn,
            primary_container=binding.container,
            enable_network_isolation=True,
        )
        self.model.node.add_dependency(self.model_role.s3_policy, self.model_role.service_policy)

        request = transform_job_request(
            model_name=self.model.attr_model_name,
            input_data=input_data,
            output=output,
            key_arn=encryption_key.key_arn,
            instance_type=instance_type,
            instance_count=instance_count,
            batch_strategy=batch_strategy,
            max_payload_mb=max_payload_mb,
            max_concurrent_transforms=max_concurrent_transforms,
            environment=environment,
            tags=tags,
        )
        chain = self._choose_input(input_data).next(self._transform(request, max_runtime))
        machine = logged_state_machine(
            self,
            chain,
            comment=f"Runs {name} batch transforms on SageMaker",
            encryption_key=encryption_key,
            log_retention=log_retention,
            log_removal_policy=log_removal_policy,
        )
        self.state_machine, self.log_group = machine.state_machine, machine.log_group
        self._grant_transform(self.state_machine.role)
        notify_failed_executions(
            self,
            self.state_machine,
            notification_topic,
            what=f"Batch transform {self._name}",
            description=f"Publishes failed, timed-out or aborted {self._name} batch transforms",
        )
        self._acknowledge_generated_policy()

    # --- the model ---------------------------------------------------------------------------

    def _model_role(
        self, binding: ModelBinding, input_data: BatchTransformInput, output: BatchTransformOutput
    ) -> SageMakerExecutionRole:
        role = SageMakerExecutionRole(
            self,
            "ModelRole",
            encryption_key=self._key,
            read=[input_data.readable, *binding.readable_prefixes],
            write=[BucketPrefixes(output.bucket, (output.prefix,))],
            description=f"Assumed by SageMaker to run {self._name} batch transforms",
        )
        if binding.readable_objects:
            role.s3_policy.add_statements(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=list(binding.readable_objects)
                )
            )
        other_keys = [
            key.key_arn
            for key in dict.fromkeys([*binding.keys, input_data.bucket.encryption_key])
            if key is not None and key is not self._key
        ]
        if other_keys:
            role.service_policy.add_statements(
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=other_keys)
            )
        if binding.repository_arns:
            role.service_policy.add_statements(
                iam.PolicyStatement(
                    actions=[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    resources=list(dict.fromkeys(binding.repository_arns)),
                ),
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            )
        return role

    # --- states -------------------------------------------------------------------------

    def _choose_input(self, input_data: BatchTransformInput) -> sfn.Chain:
        return sfn.Pass(
            self,
            "ChooseInput",
            comment="The default input URI, overridden by the execution input's `input`",
            parameters={
                "defaults": {"input": input_data.default_uri()},
                "given.$": "$$.Execution.Input",
            },
            result_path="$.choice",
        ).next(
            sfn.Pass(
                self,
                "NameJob",
                comment="One name per execution, shared by the job and its output folder",
                parameters={
                    "data.$": "States.JsonMerge($.choice.defaults, $.choice.given, false)",
                    "job_name.$": f"States.Format('{self._name}-{{}}', States.UUID())",
                },
            )
        )

    def _transform(self, request: dict[str, Any], max_runtime: Duration) -> sfn.CustomState:
        return sfn.CustomState(
            self,
            "Transform",
            state_json={
                "Type": "Task",
                "Comment": "CreateTransformJob and wait for it",
                "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createTransformJob.sync",
                "Parameters": request,
                "TimeoutSeconds": int(max_runtime.to_seconds()),
                "ResultSelector": {
                    "job_name.$": "$.TransformJobName",
                    "output.$": "$.TransformOutput.S3OutputPath",
                },
                "ResultPath": "$.transform",
            },
        )

    # --- permissions and notifications --------------------------------------------------------

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _grant_transform(self, role: iam.IRole) -> None:
        jobs = self._arn("transform-job", f"{self._name}-*")
        statements = [
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopTransformJob",
                ],
                resources=[jobs],
            ),
            iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[jobs]),
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    Stack.of(self).format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerTransformJobsRule",
                    )
                ],
            ),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)

    def _acknowledge_generated_policy(self) -> None:
        acknowledge_state_machine_policy(
            self.state_machine,
            names="this pipeline's transform jobs, key or log group",
            suffixes=[f":transform-job/{self._name}-*"],
            reason="Transform job names are generated per execution under this pipeline's prefix.",
        )


def transform_job_request(
    *,
    model_name: str,
    input_data: BatchTransformInput,
    output: BatchTransformOutput,
    key_arn: str,
    instance_type: str,
    instance_count: int,
    batch_strategy: BatchStrategy | None = None,
    max_payload_mb: int | None = None,
    max_concurrent_transforms: int | None = None,
    environment: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateTransformJob request, with the job name and input URI taken from the state.

    The output goes to `<output prefix><job name>/`, so executions never overwrite each other.
    """
    output_config: dict[str, Any] = {
        "S3OutputPath.$": (
            f"States.Format('s3://{output.bucket.bucket_name}/{output.prefix}{{}}/', "
            f"{JOB_NAME_PATH})"
        ),
        "AssembleWith": output.assemble_with,
        "KmsKeyId": key_arn,
    }
    if output.accept:
        output_config["Accept"] = output.accept
    resources: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": instance_count}
    if parse_instance_type(instance_type).family not in INSTANCE_STORE_FAMILIES:
        resources["VolumeKmsKeyId"] = key_arn
    request: dict[str, Any] = {
        "TransformJobName.$": JOB_NAME_PATH,
        "ModelName": model_name,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": INPUT_PATH}},
            "ContentType": input_data.content_type,
            "SplitType": input_data.split_type,
            "CompressionType": input_data.compression,
        },
        "TransformOutput": output_config,
        "TransformResources": resources,
    }
    optional = {
        "BatchStrategy": batch_strategy,
        "MaxPayloadInMB": max_payload_mb,
        "MaxConcurrentTransforms": max_concurrent_transforms,
    }
    request.update({key: value for key, value in optional.items() if value is not None})
    if environment:
        request["Environment"] = dict(sorted(environment.items()))
    if tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return request


def _check_settings(
    *,
    name: str,
    input_data: BatchTransformInput,
    instance_type: str,
    instance_count: int,
    max_runtime: Duration,
    batch_strategy: BatchStrategy | None,
    max_payload_mb: int | None,
    max_concurrent_transforms: int | None,
    environment: Mapping[str, str],
) -> None:
    """Raise one ValueError listing every setting CreateTransformJob would refuse."""
    instance_problem = validate_instance_type(instance_type, "transform")
    payload, concurrency = max_payload_mb, max_concurrent_transforms
    runtime_s = float(max_runtime.to_seconds(integral=False))
    bad_names = sorted(k for k in environment if not _ENVIRONMENT_NAME.match(k))
    checks = [
        (
            NAME_PATTERN.fullmatch(name) is not None,
            f"name {name!r} must match {NAME_PATTERN.pattern}",
        ),
        (instance_problem is None, f"instance_type: {instance_problem}"),
        (instance_count >= 1, f"instance_count must be at least 1 (got {instance_count})"),
        (
            runtime_s >= 1 and runtime_s.is_integer(),
            f"max_runtime must be whole seconds, at least 1 (got {runtime_s:g} s)",
        ),
        (
            batch_strategy is None or input_data.split_type != "None",
            f"batch_strategy {batch_strategy} needs input_data.split_type Line, RecordIO or "
            "TFRecord (SageMaker cannot cut unsplit files into records)",
        ),
        (
            payload is None or 0 <= payload <= MAX_PAYLOAD_MB,
            f"max_payload_mb must be 0 to {MAX_PAYLOAD_MB} (got {payload})",
        ),
        (
            concurrency is None or concurrency >= 1,
            f"max_concurrent_transforms must be at least 1 (got {concurrency})",
        ),
        (
            payload is None or concurrency is None or payload * concurrency <= MAX_PAYLOAD_MB,
            f"max_payload_mb x max_concurrent_transforms must be at most {MAX_PAYLOAD_MB} MB "
            f"(got {payload} x {concurrency})",
        ),
        (
            len(environment) <= MAX_ENVIRONMENT_ENTRIES,
            f"environment may hold at most {MAX_ENVIRONMENT_ENTRIES} variables "
            f"(got {len(environment)})",
        ),
        (not bad_names, f"environment names must match {_ENVIRONMENT_NAME.pattern}: {bad_names}"),
    ]
    problems = [message for ok, message in checks if not ok]
    if problems:
        raise ValueError(f"BatchTransformPipeline {name!r}: " + "; ".join(problems))

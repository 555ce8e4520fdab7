"""A training job as infrastructure: a Step Functions state machine that trains and creates a model.

CloudFormation has no training-job resource, so the stack provisions the pipeline and a user, a
schedule or new data starts it. Each execution:

1. picks the data: the default channel URIs, or those given in the execution input
   (`{"train": "s3://bucket/other/prefix/"}`);
2. runs CreateTrainingJob (or CreateHyperParameterTuningJob) and waits for it (`.sync`), or,
   for an Autopilot job, runs CreateAutoMLJobV2 and polls DescribeAutoMLJobV2 until it ends
   (Step Functions has no `.sync` for AutoML);
3. creates a SageMaker model from the artifact (of the best job, after tuning), or from the
   best AutoML candidate's inference containers;
4. registers it as a model package version, pending approval, when a group is given.

A failed, timed-out or aborted execution is published to the notification topic.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Aws, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib.automl_job import AutoMLJob, automl_job_request
from constructs_lib.execution_role import SageMakerExecutionRole
from constructs_lib.nag import (
    acknowledge_inline_policy,
    acknowledge_state_machine_policy,
    acknowledge_wildcard_resources,
)
from constructs_lib.notifications import notify_failed_executions
from constructs_lib.schedules import eventbridge_schedule_problem
from constructs_lib.state_machine import logged_state_machine
from constructs_lib.training_job import TrainingJob, training_job_request, tuning_job_request

#: Where each execution keeps its job name (`<name>-<uuid>`, or `<name>-<8 hex>` when tuning
#: or for an AutoML job, whose names are limited to 32 characters).
JOB_NAME_PATH = "$.job_name"
#: How often an AutoML job's status is checked, unless the pipeline says otherwise.
DEFAULT_POLL_INTERVAL = Duration.minutes(1)
#: The content types an Autopilot model reads and answers with.
AUTOML_CONTENT_TYPES = ["text/csv"]


class TrainingPipeline(Construct):
    """A state machine that trains `job`, creates its model and optionally registers it.

    `job` is a `TrainingJob` (one training job, or a tuning job) or an `AutoMLJob` (Autopilot).

    Attributes:
        state_machine: the Step Functions state machine; start it to train.
        log_group: the state machine's execution log (KMS-encrypted).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: TrainingJob | AutoMLJob,
        execution_role: SageMakerExecutionRole,
        encryption_key: kms.IKey,
        notification_topic: sns.ITopic,
        inference_image_uri: str | None = None,
        model_package_group_name: str | None = None,
        schedule: events.Schedule | None = None,
        start_on_new_data: s3.IBucket | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        status_poll_interval: Duration = DEFAULT_POLL_INTERVAL,
    ) -> None:
        """
        Args:
            job: what to train (see `TrainingJob` and `AutoMLJob`).
            execution_role: the role SageMaker runs the job and the model with. For an
                `AutoMLJob` it is also allowed to start Autopilot's own processing, training,
                tuning and transform jobs and to pass itself to them, so give Autopilot a role
                of its own rather than one shared with other pipelines.
            encryption_key: encrypts the volume, the output and the execution log.
            notification_topic: receives failed, timed-out and aborted executions.
            inference_image_uri: the image the created model serves with. Required for a
                `TrainingJob`; an `AutoMLJob`'s best candidate brings its own containers.
            model_package_group_name: register each model in this group, pending approval.
                Default: no registration.
            schedule: start the pipeline on this schedule. Default: not scheduled.
            start_on_new_data: start when an object lands under the first input's prefix in
                this bucket (its EventBridge notifications must be on). Default: off.
            log_retention: how long execution logs are kept. Default: one year.
            log_removal_policy: what happens to the log group on delete. Default: RETAIN.
            status_poll_interval: how often an `AutoMLJob`'s status is checked. Default:
                every minute.

        Raises:
            ValueError: without `inference_image_uri` for a `TrainingJob`, or with one for an
                `AutoMLJob`.
        """
        super().__init__(scope, construct_id)
        self._job = job
        self._role = execution_role
        self._key = encryption_key

        chain = self._choose_data()
        service = "SageMaker"
        if isinstance(job, AutoMLJob):
            service = "SageMaker Autopilot"
            if inference_image_uri is not None:
                raise ValueError(
                    f"TrainingPipeline {job.name!r}: remove inference_image_uri; an AutoML "
                    "job's best candidate brings its own inference containers"
                )
            chain = chain.next(self._automl(job, status_poll_interval, model_package_group_name))
        else:
            if inference_image_uri is None:
                raise ValueError(
                    f"TrainingPipeline {job.name!r}: inference_image_uri is required for a "
                    "TrainingJob (the image its model serves with)"
                )
            train = self._tune(job) if job.tuning else self._train(job)
            chain = chain.next(train).next(self._create_model(job, inference_image_uri))
            if model_package_group_name:
                chain = chain.next(self._register(model_package_group_name, inference_image_uri))

        machine = logged_state_machine(
            self,
            chain,
            comment=f"Trains {job.name} on {service} and creates its model",
            encryption_key=encryption_key,
            log_retention=log_retention,
            log_removal_policy=log_removal_policy,
        )
        self.state_machine, self.log_group = machine.state_machine, machine.log_group
        if isinstance(job, AutoMLJob):
            self._grant_automl(self.state_machine.role)
        else:
            self._grant_training(job, self.state_machine.role)
        notify_failed_executions(
            self,
            self.state_machine,
            notification_topic,
            what=f"Training pipeline {self._job.name}",
            description=f"Publishes failed, timed-out or aborted {self._job.name} trainings",
        )
        self._add_triggers(schedule, start_on_new_data)
        self._acknowledge_generated_policy()

    # --- states -------------------------------------------------------------------------

    def _choose_data(self) -> sfn.Chain:
        defaults = {i.name: i.default_uri() for i in self._job.inputs}
        return sfn.Pass(
            self,
            "ChooseData",
            comment="Default channel URIs, overridden by the execution input's",
            parameters={"defaults": defaults, "input.$": "$$.Execution.Input"},
            result_path="$.choice",
        ).next(
            sfn.Pass(
                self,
                "NameJob",
                comment="One name per execution, shared by the job, its checkpoints and model",
                parameters={
                    "data.$": "States.JsonMerge($.choice.defaults, $.choice.input, false)",
                    "job_name.$": self._job_name_expression(),
                },
            )
        )

    def _job_name_expression(self) -> str:
        unique = "States.UUID()"
        if isinstance(self._job, AutoMLJob) or self._job.tuning:
            unique = f"States.ArrayGetItem(States.StringSplit({unique}, '-'), 0)"
        return f"States.Format('{self._job.name}-{{}}', {unique})"

    def _train(self, job: TrainingJob) -> sfn.CustomState:
        request = training_job_request(
            job,
            role_arn=self._role.role.role_arn,
            key_arn=self._key.key_arn,
            job_name_path=JOB_NAME_PATH,
        )
        return sfn.CustomState(
            self,
            "Train",
            state_json={
                "Type": "Task",
                "Comment": "CreateTrainingJob and wait for it",
                "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync",
                "Parameters": request,
                "ResultSelector": {
                    "job_name.$": "$.TrainingJobName",
                    "model_data.$": "$.ModelArtifacts.S3ModelArtifacts",
                },
                "ResultPath": "$.training",
            },
        )

    def _tune(self, job: TrainingJob) -> sfn.IChainable:
        request = tuning_job_request(
            job,
            role_arn=self._role.role.role_arn,
            key_arn=self._key.key_arn,
            job_name_path=JOB_NAME_PATH,
        )
        tune = sfn.CustomState(
            self,
            "Tune",
            state_json={
                "Type": "Task",
                "Comment": "CreateHyperParameterTuningJob and wait for it",
                "Resource": (
                    f"arn:{Aws.PARTITION}:states:::sagemaker:createHyperParameterTuningJob.sync"
                ),
                "Parameters": request,
                "ResultSelector": {"job_name.$": "$.BestTrainingJob.TrainingJobName"},
                "ResultPath": "$.tuning",
            },
        )
        best = tasks.CallAwsService(
            self,
            "DescribeBestJob",
            service="sagemaker",
            action="describeTrainingJob",
            parameters={"TrainingJobName": sfn.JsonPath.string_at("$.tuning.job_name")},
            iam_resources=[self._arn("training-job", f"{self._job.name}-*")],
            result_selector={
                "job_name.$": "$.TrainingJobName",
                "model_data.$": "$.ModelArtifacts.S3ModelArtifacts",
            },
            result_path="$.training",
        )
        return tune.next(best)

    def _create_model(self, job: TrainingJob, image_uri: str) -> tasks.CallAwsService:
        container = {
            "Image": image_uri,
            "ModelDataUrl": sfn.JsonPath.string_at("$.training.model_data"),
        }
        return self._model_task(
            {"PrimaryContainer": container},
            name_path="$.training.job_name",
            network_isolation=job.network_isolation,
        )

    def _register(self, group_name: str, image_uri: str) -> tasks.CallAwsService:
        container = {
            "Image": image_uri,
            "ModelDataUrl": sfn.JsonPath.string_at("$.training.model_data"),
        }
        return self._registration_task(
            group_name,
            [container],
            name_path="$.training.job_name",
            content_types=["text/csv", "application/json"],
        )

    def _model_task(
        self, containers: dict[str, Any], *, name_path: str, network_isolation: bool
    ) -> tasks.CallAwsService:
        """CreateModel with `containers` (a `PrimaryContainer` or an inference pipeline)."""
        return tasks.CallAwsService(
            self,
            "CreateModel",
            service="sagemaker",
            action="createModel",
            parameters={
                "ModelName": sfn.JsonPath.string_at(name_path),
                **containers,
                "ExecutionRoleArn": self._role.role.role_arn,
                "EnableNetworkIsolation": network_isolation,
                "Tags": [{"Key": "training-definition", "Value": self._job.name}],
            },
            iam_resources=[self._arn("model", f"{self._job.name}-*")],
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["sagemaker:AddTags"],
                    resources=[self._arn("model", f"{self._job.name}-*")],
                )
            ],
            result_selector={"model_arn.$": "$.ModelArn"},
            result_path="$.model",
        )

    def _registration_task(
        self, group_name: str, containers: Any, *, name_path: str, content_types: list[str]
    ) -> tasks.CallAwsService:
        """CreateModelPackage in `group_name`, pending manual approval."""
        return tasks.CallAwsService(
            self,
            "RegisterModel",
            service="sagemaker",
            action="createModelPackage",
            parameters={
                "ModelPackageGroupName": group_name,
                "ModelApprovalStatus": "PendingManualApproval",
                "ModelPackageDescription": sfn.JsonPath.format(
                    "Trained by {}", sfn.JsonPath.string_at(name_path)
                ),
                "InferenceSpecification": {
                    "Containers": containers,
                    "SupportedContentTypes": content_types,
                    "SupportedResponseMIMETypes": content_types,
                },
            },
            iam_resources=[
                self._arn("model-package-group", group_name),
                self._arn("model-package", f"{group_name}/*"),
            ],
            result_selector={"model_package_arn.$": "$.ModelPackageArn"},
            result_path="$.registration",
        )

    # --- Autopilot ---------------------------------------------------------------------------

    def _automl(
        self, job: AutoMLJob, poll_interval: Duration, group_name: str | None
    ) -> sfn.IChainable:
        """Start the AutoML job, poll it to its end, then model (and register) the best."""
        start = sfn.CustomState(
            self,
            "StartAutoML",
            state_json={
                "Type": "Task",
                "Comment": "CreateAutoMLJobV2 (Step Functions has no .sync for AutoML: poll it)",
                "Resource": f"arn:{Aws.PARTITION}:states:::aws-sdk:sagemaker:createAutoMLJobV2",
                "Parameters": automl_job_request(
                    job,
                    role_arn=self._role.role.role_arn,
                    key_arn=self._key.key_arn,
                    job_name_path=JOB_NAME_PATH,
                ),
                "ResultSelector": {"arn.$": "$.AutoMLJobArn"},
                "ResultPath": "$.automl_job",
            },
        )
        wait = sfn.Wait(
            self,
            "WaitForAutoML",
            comment="Autopilot runs for minutes to hours",
            time=sfn.WaitTime.duration(poll_interval),
        )
        status = self._describe_automl(
            "DescribeAutoML",
            result_selector={
                "status.$": "$.AutoMLJobStatus",
                "secondary_status.$": "$.AutoMLJobSecondaryStatus",
            },
            result_path="$.automl",
        )
        best = self._describe_automl(
            "DescribeBestCandidate",
            result_selector={
                "candidate.$": "$.BestCandidate.CandidateName",
                "containers.$": "$.BestCandidate.InferenceContainers",
            },
            result_path="$.best",
        )
        containers = sfn.JsonPath.list_at("$.best.containers")
        model = best.next(
            self._model_task(
                {"Containers": containers}, name_path=JOB_NAME_PATH, network_isolation=True
            )
        )
        if group_name:
            model = model.next(
                self._registration_task(
                    group_name,
                    containers,
                    name_path=JOB_NAME_PATH,
                    content_types=AUTOML_CONTENT_TYPES,
                )
            )
        failed = sfn.Fail(
            self,
            "AutoMLJobFailed",
            comment="The AutoML job failed or was stopped",
            error="AutoMLJobFailed",
            cause_path=sfn.JsonPath.format(
                "AutoML job {} ended {} ({})",
                sfn.JsonPath.string_at(JOB_NAME_PATH),
                sfn.JsonPath.string_at("$.automl.status"),
                sfn.JsonPath.string_at("$.automl.secondary_status"),
            ),
        )
        ended = (
            sfn.Choice(self, "AutoMLJobEnded", comment="Completed, Failed, Stopped or running")
            .when(sfn.Condition.string_equals("$.automl.status", "Completed"), model)
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.automl.status", "Failed"),
                    sfn.Condition.string_equals("$.automl.status", "Stopped"),
                ),
                failed,
            )
            .otherwise(wait)
        )
        return start.next(wait).next(status).next(ended)

    def _describe_automl(
        self, construct_id: str, *, result_selector: dict[str, str], result_path: str
    ) -> tasks.CallAwsService:
        describe = tasks.CallAwsService(
            self,
            construct_id,
            service="sagemaker",
            action="describeAutoMLJobV2",
            iam_action="sagemaker:DescribeAutoMLJobV2",
            parameters={"AutoMLJobName": sfn.JsonPath.string_at(JOB_NAME_PATH)},
            iam_resources=[self._arn("automl-job", f"{self._job.name}-*")],
            result_selector=result_selector,
            result_path=result_path,
        )
        describe.add_retry(errors=["SageMaker.ThrottlingException"], max_attempts=5)
        return describe

    # --- permissions, notifications, triggers -------------------------------------------------

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _grant_training(self, job: TrainingJob, role: iam.IRole) -> None:
        kind = "hyper-parameter-tuning-job" if job.tuning else "training-job"
        verb = "HyperParameterTuningJob" if job.tuning else "TrainingJob"
        rule = "Tuning" if job.tuning else "Training"
        actions = [f"sagemaker:Create{verb}", f"sagemaker:Describe{verb}", f"sagemaker:Stop{verb}"]
        if job.tuning:
            actions.append("sagemaker:ListTrainingJobsForHyperParameterTuningJob")
        statements = [
            iam.PolicyStatement(
                actions=actions,
                resources=[self._arn(kind, f"{self._job.name}-*")],
            ),
            iam.PolicyStatement(
                actions=["sagemaker:AddTags"],
                resources=[self._arn(kind, f"{self._job.name}-*")],
            ),
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    Stack.of(self).format_arn(
                        service="events",
                        resource="rule",
                        resource_name=f"StepFunctionsGetEventsForSageMaker{rule}JobsRule",
                    )
                ],
            ),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)
        self._role.grant_pass_role(role)

    def _grant_automl(self, role: iam.IRole) -> None:
        jobs = self._arn("automl-job", f"{self._job.name}-*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateAutoMLJobV2",
                    "sagemaker:StopAutoMLJob",
                    "sagemaker:AddTags",
                ],
                resources=[jobs],
            )
        )
        self._role.grant_pass_role(role)
        _allow_autopilot_child_jobs(self, self._role, pipeline_name=self._job.name)

    def _add_triggers(self, schedule: events.Schedule | None, bucket: s3.IBucket | None) -> None:
        rules = []
        if schedule:
            expression = schedule.expression_string
            problem = (
                None
                if Token.is_unresolved(expression)
                else eventbridge_schedule_problem(expression)
            )
            if problem:
                raise ValueError(f"TrainingPipeline {self._job.name!r}: schedule: {problem}")
            rules.append(
                events.Rule(
                    self,
                    "Schedule",
                    description=f"Starts {self._job.name} training on a schedule",
                    schedule=schedule,
                )
            )
        if bucket:
            rules.append(
                events.Rule(
                    self,
                    "NewData",
                    description=f"Starts {self._job.name} training when new data lands",
                    event_pattern=events.EventPattern(
                        source=["aws.s3"],
                        detail_type=["Object Created"],
                        detail={
                            "bucket": {"name": [bucket.bucket_name]},
                            "object": {"key": [{"prefix": self._job.inputs[0].prefix}]},
                        },
                    ),
                )
            )
        if not rules:
            return
        start = targets.SfnStateMachine(
            self.state_machine, input=events.RuleTargetInput.from_object({})
        )
        for rule in rules:
            rule.add_target(start)
        events_policy = start_role_policy(self.state_machine)
        if events_policy is not None:
            acknowledge_inline_policy(
                events_policy,
                "EventBridge's role to start this one state machine, generated by CDK.",
            )

    def _acknowledge_generated_policy(self) -> None:
        acknowledge_state_machine_policy(
            self.state_machine,
            names="this pipeline's jobs, models, key, role or log group",
            suffixes=[
                f":training-job/{self._job.name}-*",
                f":hyper-parameter-tuning-job/{self._job.name}-*",
                f":automl-job/{self._job.name}-*",
                f":model/{self._job.name}-*",
                "/*",
            ],
            reason="Job and model names are generated per execution under this pipeline's "
            "prefix; model package versions are numbered by SageMaker within the group.",
        )


#: The jobs and models Autopilot starts with the execution role it was given.
_AUTOPILOT_CHILD_JOBS = {
    "processing-job": "ProcessingJob",
    "training-job": "TrainingJob",
    "hyper-parameter-tuning-job": "HyperParameterTuningJob",
    "transform-job": "TransformJob",
}


def _allow_autopilot_child_jobs(
    scope: Construct, role: SageMakerExecutionRole, *, pipeline_name: str
) -> None:
    """Let `role` run the jobs an Autopilot job starts with it, and pass itself to them.

    Autopilot runs its data analysis, candidate training, tuning and explainability jobs in
    the caller's account with the role it was given, and names them itself (some without the
    AutoML job's name, e.g. `db-1-...`), so they are granted by kind in this account and
    region. The statements go to the role's customer-managed service policy.
    """
    stack = Stack.of(scope)
    resources = [
        stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
        for kind in _AUTOPILOT_CHILD_JOBS
    ]
    automl_jobs = stack.format_arn(
        service="sagemaker", resource="automl-job", resource_name=f"{pipeline_name}-*"
    )
    actions = sorted(
        f"sagemaker:{verb}{noun}"
        for noun in _AUTOPILOT_CHILD_JOBS.values()
        for verb in ("Create", "Describe", "Stop")
    )
    role.service_policy.add_statements(
        iam.PolicyStatement(
            actions=[*actions, "sagemaker:AddTags", "sagemaker:ListTags"], resources=resources
        ),
        iam.PolicyStatement(
            actions=["sagemaker:DescribeAutoMLJob", "sagemaker:DescribeAutoMLJobV2"],
            resources=[automl_jobs],
        ),
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[role.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    )
    acknowledge_wildcard_resources(
        cast(iam.CfnManagedPolicy, role.service_policy.node.default_child),
        suffixes=[
            *(f":{kind}/*" for kind in _AUTOPILOT_CHILD_JOBS),
            f":automl-job/{pipeline_name}-*",
        ],
        reason="Autopilot names the processing, training, tuning and transform jobs it runs "
        "with this role itself; AutoML jobs are named per execution under the pipeline prefix.",
    )


def start_role_policy(state_machine: sfn.StateMachine) -> iam.CfnPolicy | None:
    """The inline policy of the role EventBridge uses to start `state_machine`, if any."""
    role = state_machine.node.try_find_child("EventsRole")
    policy = role.node.try_find_child("DefaultPolicy") if role else None
    return cast(iam.CfnPolicy, policy.node.default_child) if policy else None

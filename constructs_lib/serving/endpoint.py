"""A real-time SageMaker endpoint: model, endpoint config and endpoint, secure by default."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, Names, Stack, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.serving.hosting import Hosting, check_image_architecture, check_model
from constructs_lib.serving.model_role import model_role_policy
from constructs_lib.serving.model_source import ModelSource
from constructs_lib.serving.options import (
    Autoscaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarms,
    ServerlessConfig,
)

VARIANT_NAME = "AllTraffic"
"""The endpoint's one production variant. Fixed: blue/green updates and autoscaling need it."""

_METRICS_NAMESPACE = "AWS/SageMaker"
_FIVE_MINUTES = Duration.minutes(5)
_AUTOSCALING_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


class ModelEndpoint(Construct):
    """A SageMaker real-time (or serverless) endpoint serving one model.

    Creates the `AWS::SageMaker::Model` (with `PrimaryContainer`), an `EndpointConfig` with
    one production variant, and the `Endpoint`, all named by CloudFormation, plus the IAM role
    SageMaker hosts the model with. Secure by default: the model runs with network isolation,
    the instance storage and captured data are encrypted with `encryption_key`, and the role
    may read only this model's artifact and image, write only captured data, and write logs and
    metrics only under SageMaker's names. Used with no options it passes cdk-nag (AwsSolutions,
    HIPAA Security, NIST 800-53 rev 5) and cfn-lint.

    Changing the model, instance type or count replaces the model and endpoint config and
    updates the endpoint in place (blue/green, guarded by `deployment` when given).

    Attributes:
        model: the `CfnModel`.
        endpoint_config: the `CfnEndpointConfig`.
        endpoint: the `CfnEndpoint`.
        endpoint_name: the endpoint's name (`GetAtt EndpointName`), chosen by CloudFormation.
        endpoint_arn: the endpoint's ARN (`Ref`).
        variant_name: the production variant's name, `AllTraffic`.
        role: the IAM role SageMaker assumes to host the model.
        role_policy: the role's permissions (a customer-managed policy).
        connections: the security groups of the model's network interfaces, when in a VPC.
        server_errors_alarm: the `Invocation5XXErrors` alarm, when `alarms` is given.
        model_latency_alarm: the `ModelLatency` alarm, when `alarms` is given.
        scalable_target: the Application Auto Scaling target, when `autoscaling` is given.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ModelSource,
        encryption_key: kms.IKey,
        instance_type: str | None = None,
        initial_instance_count: int | None = None,
        autoscaling: Autoscaling | None = None,
        data_capture: DataCapture | None = None,
        alarms: EndpointAlarms | None = None,
        deployment: DeploymentGuardrails | None = None,
        serverless: ServerlessConfig | None = None,
        network_isolation: bool | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
    ) -> None:
        """
        Args:
            model: what the endpoint serves (see `ModelSource`).
            encryption_key: encrypts the instances' storage volumes (the endpoint config's
                `KmsKeyId`, left out for instance families with local NVMe storage, which
                SageMaker encrypts itself) and captured data; the model role may decrypt
                artifacts with it.
            instance_type: a SageMaker hosting instance type. Default: ml.m5.large (none for
                a serverless endpoint).
            initial_instance_count: instances at creation. Default: 1 (none when serverless).
                Keep at least 2 in production so that one instance can fail.
            autoscaling: scale the instance count on invocations per instance. Default: a
                fixed count.
            data_capture: capture requests and responses to S3. Default: off.
            alarms: alarms on 5XX errors and model latency, sent to a topic. Default: none.
            deployment: blue/green updates with traffic shifting and automatic rollback on
                `alarms` (which it needs). Default: SageMaker's all-at-once blue/green update
                without rollback alarms.
            serverless: host on Serverless Inference instead of instances. Cannot be combined
                with instance settings, autoscaling, data capture, guardrails, a VPC or
                network isolation. Default: instance-based.
            network_isolation: forbid the model container any network access. Default: on
                (off for serverless endpoints, which do not support it).
            vpc: run the model's network interfaces in this VPC (it needs routes or VPC
                endpoints to S3, ECR and CloudWatch). Default: SageMaker's network.
            vpc_subnets: the subnets, in `vpc`. Default: the VPC's private subnets.
            security_groups: the security groups, in `vpc`. Default: one created here that
                allows only outbound HTTPS.

        Raises:
            ValueError: for a setting SageMaker would refuse, with what is allowed instead.
        """
        super().__init__(scope, construct_id)
        check_model(model)
        hosting = Hosting.check(
            instance_type=instance_type,
            initial_instance_count=initial_instance_count,
            autoscaling=autoscaling,
            data_capture=data_capture,
            alarms=alarms,
            deployment=deployment,
            serverless=serverless,
            network_isolation=network_isolation,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )
        binding = model.bind(self)
        check_image_architecture(binding, hosting.instance_type)

        self.variant_name = VARIANT_NAME
        self.connections: ec2.Connections | None = None
        vpc_config = None
        if vpc is not None:
            groups = list(security_groups) or [_https_only_security_group(self, vpc)]
            self.connections = ec2.Connections(security_groups=groups)
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[group.security_group_id for group in groups],
                subnets=_select_subnets(vpc, vpc_subnets).subnet_ids,
            )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Assumed by SageMaker to host one model",
        )
        self.role_policy = model_role_policy(
            self, self.role, binding, encryption_key, data_capture, in_vpc=vpc is not None
        )

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=binding.container,
            enable_network_isolation=hosting.network_isolation,
            vpc_config=vpc_config,
        )
        self.model.node.add_dependency(self.role_policy)

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[self._production_variant(hosting, serverless)],
            kms_key_id=None if hosting.instance_store else encryption_key.key_arn,
            data_capture_config=_data_capture_config(data_capture, encryption_key),
        )
        if hosting.instance_store:
            _acknowledge_instance_store(self.endpoint_config, hosting.instance_type)

        alarm_names = _alarm_names(self) if deployment is not None else {}
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=_deployment_config(deployment, list(alarm_names.values())),
        )
        self.endpoint_name: str = self.endpoint.attr_endpoint_name
        self.endpoint_arn: str = self.endpoint.ref

        self.server_errors_alarm: cloudwatch.Alarm | None = None
        self.model_latency_alarm: cloudwatch.Alarm | None = None
        if alarms is not None:
            self._add_alarms(alarms, alarm_names)
        self.scalable_target: appscaling.ScalableTarget | None = None
        if autoscaling is not None:
            self.scalable_target = self._add_autoscaling(autoscaling)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` call InvokeEndpoint on this endpoint (and no other)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint"],
            resource_arns=[self.endpoint_arn],
        )

    def metric(
        self,
        metric_name: str,
        *,
        statistic: str = "Average",
        period: Duration = _FIVE_MINUTES,
    ) -> cloudwatch.Metric:
        """An `AWS/SageMaker` metric of this endpoint's variant, e.g. `Invocations`.

        Args:
            metric_name: e.g. `Invocations`, `Invocation4XXErrors`, `ModelLatency` (in
                microseconds), `OverheadLatency`.
            statistic: e.g. `Sum`, `Average`, `p99`. Default: Average.
            period: the aggregation period. Default: 5 minutes.
        """
        return cloudwatch.Metric(
            namespace=_METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            statistic=statistic,
            period=period,
        )

    # --- parts ------------------------------------------------------------------------------

    def _production_variant(
        self, hosting: Hosting, serverless: ServerlessConfig | None
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        if serverless is not None:
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=self.variant_name,
                model_name=self.model.attr_model_name,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=serverless.memory_size_mb,
                    max_concurrency=serverless.max_concurrency,
                    provisioned_concurrency=serverless.provisioned_concurrency,
                ),
            )
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=self.variant_name,
            model_name=self.model.attr_model_name,
            instance_type=hosting.instance_type,
            initial_instance_count=hosting.initial_instance_count,
            initial_variant_weight=1,
        )

    def _add_alarms(self, alarms: EndpointAlarms, names: dict[str, str]) -> None:
        notify = cloudwatch_actions.SnsAction(alarms.topic)
        self.server_errors_alarm = cloudwatch.Alarm(
            self,
            "ServerErrors",
            alarm_name=names.get("ServerErrors"),
            alarm_description=(
                f"SageMaker endpoint {self.node.path}: {alarms.server_errors} or more "
                f"5XX errors per period in {alarms.evaluation_periods} consecutive periods"
            ),
            metric=self.metric("Invocation5XXErrors", statistic="Sum", period=alarms.period),
            threshold=alarms.server_errors,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=alarms.evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        latency_ms = alarms.model_latency.to_milliseconds(integral=False)
        self.model_latency_alarm = cloudwatch.Alarm(
            self,
            "ModelLatency",
            alarm_name=names.get("ModelLatency"),
            alarm_description=(
                f"SageMaker endpoint {self.node.path}: {alarms.latency_statistic} model latency "
                f"at or above {latency_ms:g} ms in {alarms.evaluation_periods} consecutive periods"
            ),
            # ModelLatency is in microseconds.
            metric=self.metric(
                "ModelLatency", statistic=alarms.latency_statistic, period=alarms.period
            ),
            threshold=latency_ms * 1000,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=alarms.evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (self.server_errors_alarm, self.model_latency_alarm):
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)

    def _add_autoscaling(self, autoscaling: Autoscaling) -> appscaling.ScalableTarget:
        # Application Auto Scaling acts through its service-linked role (created on first use),
        # as aws-cdk-lib's DynamoDB Table does; ScalableTarget would otherwise add an unused role.
        service_linked_role = iam.Role.from_role_arn(
            self,
            "AutoScalingRole",
            Stack.of(self).format_arn(
                service="iam", region="", resource="role", resource_name=_AUTOSCALING_ROLE
            ),
            mutable=False,
        )
        target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{self.variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=autoscaling.min_instances,
            max_capacity=autoscaling.max_instances,
            role=service_linked_role,
        )
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            target_value=autoscaling.invocations_per_instance,
            scale_in_cooldown=autoscaling.scale_in_cooldown,
            scale_out_cooldown=autoscaling.scale_out_cooldown,
        )
        return target


def _select_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> ec2.SelectedSubnets:
    if selection is None:
        return vpc.select_subnets()
    return vpc.select_subnets(
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    )


def _https_only_security_group(scope: Construct, vpc: ec2.IVpc) -> ec2.SecurityGroup:
    group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description="SageMaker model network interfaces: outbound HTTPS only",
        allow_all_outbound=False,
    )
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3, ECR and CloudWatch")
    return group


def _data_capture_config(
    data_capture: DataCapture | None, key: kms.IKey
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
    if data_capture is None:
        return None
    content_types = None
    if data_capture.csv_content_types or data_capture.json_content_types:
        content_types = sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=list(data_capture.csv_content_types) or None,
            json_content_types=list(data_capture.json_content_types) or None,
        )
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=data_capture.sampling_percentage,
        destination_s3_uri=(
            f"s3://{data_capture.bucket.bucket_name}/{data_capture.prefix.rstrip('/')}"
        ),
        kms_key_id=key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode)
            for mode in data_capture.capture_modes
        ],
        capture_content_type_header=content_types,
    )


def _alarm_names(endpoint: ModelEndpoint) -> dict[str, str]:
    # The rollback configuration names the alarms and the alarms name the endpoint, so one side
    # needs a name known before deploy. The endpoint keeps its CloudFormation name; the alarms
    # get one derived from their construct path (unique per stage, stable across deploys).
    base = Names.unique_resource_name(endpoint, separator="-", max_length=200)
    return {alarm: f"{base}-{alarm}" for alarm in ("ServerErrors", "ModelLatency")}


def _deployment_config(
    deployment: DeploymentGuardrails | None, alarm_names: list[str]
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty | None:
    if deployment is None:
        return None
    shifting = deployment.traffic_shifting
    size = (
        sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=shifting.percent)
        if shifting.percent is not None
        else None
    )
    timeout = deployment.maximum_execution_timeout
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type=shifting.type,
                wait_interval_in_seconds=int(shifting.wait.to_seconds()),
                canary_size=size if shifting.type == "CANARY" else None,
                linear_step_size=size if shifting.type == "LINEAR" else None,
            ),
            termination_wait_in_seconds=int(deployment.termination_wait.to_seconds()),
            maximum_execution_timeout_in_seconds=(
                int(timeout.to_seconds()) if timeout is not None else None
            ),
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in alarm_names]
        ),
    )


def _acknowledge_instance_store(
    config: sagemaker.CfnEndpointConfig, instance_type: str | None
) -> None:
    reason = (
        f"{instance_type} has local NVMe instance storage, which SageMaker encrypts with a "
        "hardware key; CreateEndpointConfig refuses a KmsKeyId for such instances."
    )
    Validations.of(config).acknowledge(
        Acknowledgment(
            id="HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured", reason=reason
        ),
        Acknowledgment(
            id="NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured", reason=reason
        ),
    )

"""A model package group: the registry where trained model versions wait for approval."""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class ModelPackageGroup(Construct):
    """A SageMaker model package group (model registry) for one model.

    Training pipelines register each new model version here as PendingManualApproval; a
    reviewer approves the version that a stage may serve. CloudFormation requires the group's
    name, so it is a prop: derive it from the stack name and model name to keep it unique.

    Attributes:
        group_name: the group's name, for `TrainingPipeline(model_package_group_name=...)`.
        resource: the CloudFormation resource.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        description: str,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        Args:
            group_name: 1 to 63 letters, digits and hyphens (SageMaker's rule).
            description: what model the group holds.
            removal_policy: what happens to the group (and its versions) when it leaves the
                template. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        if not _GROUP_NAME.fullmatch(group_name):
            raise ValueError(
                f"group_name {group_name!r} must be 1 to 63 letters, digits and hyphens, "
                "starting and ending with a letter or digit"
            )
        self.group_name = group_name
        self.resource = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=group_name,
            model_package_group_description=description,
        )
        self.resource.apply_removal_policy(removal_policy)

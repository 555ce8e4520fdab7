#!/usr/bin/env python3
"""A CDK app of another team: it installs `sagemaker-cdk-constructs` and uses nothing else here.

One stack: a KMS key and the encrypted bucket set, an XGBoost training pipeline that reads
`churn/` from the data bucket and writes models to the artifacts bucket, and a real-time
endpoint that serves one of those models. cdk-nag's AwsSolutions, HIPAA Security and NIST
800-53 rev 5 packs check it at synth; the library's constructs need no suppression.

Run it with `cdk synth` (see README.md). The endpoint is added once there is a model to serve:
`-c model_key=<key>` names the artifact, a key in the artifacts bucket that a training run
wrote (its execution output says which: `training.model_data`).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import Construct

from constructs_lib import (
    BucketPrefixes,
    BucketSet,
    EncryptionKey,
    ModelData,
    ModelEndpoint,
    ModelSource,
    NotificationTopic,
    SageMakerExecutionRole,
    TrainingInput,
    TrainingJob,
    TrainingPipeline,
)
from constructs_lib.builtin_algorithms import get_algorithm

#: Built-in algorithm images are resolved per region at synth, so the stack names its region.
REGION = "eu-west-1"


class ChurnModelStack(cdk.Stack):
    """Data, training and serving of one XGBoost model, composed from the library."""

    def __init__(
        self, scope: Construct, construct_id: str, *, model_key: str | None, **kwargs: Any
    ) -> None:
        """
        Args:
            model_key: the artifact to serve, a key in the artifacts bucket; None: no endpoint.
        """
        super().__init__(scope, construct_id, **kwargs)
        xgboost = get_algorithm("xgboost")
        key = EncryptionKey(self, "Key").key
        buckets = BucketSet(self, "Buckets", encryption_key=key)
        data, artifacts = buckets.data.bucket, buckets.artifacts.bucket
        topic = NotificationTopic(self, "Alerts", encryption_key=key).topic
        role = SageMakerExecutionRole(
            self,
            "ExecutionRole",
            encryption_key=key,
            read=[BucketPrefixes(data, ("churn/",))],
            write=[BucketPrefixes(artifacts, ("models/",))],
        )
        job = TrainingJob(
            name="churn",
            image_uri=xgboost.training_image(self.region),
            inputs=[
                TrainingInput(
                    name=channel, bucket=data, prefix=f"churn/{channel}/", content_type="text/csv"
                )
                for channel in ("train", "validation")
            ],
            output_bucket=artifacts,
            output_prefix="models/churn/",
            instance_type="ml.m5.xlarge",
            hyperparameters=xgboost.render_hyperparameters(
                {"objective": "binary:logistic", "num_round": 100, "max_depth": 5}
            ),
        )
        pipeline = TrainingPipeline(
            self,
            "Training",
            job=job,
            execution_role=role,
            encryption_key=key,
            inference_image_uri=xgboost.inference_image(self.region),
            notification_topic=topic,
        )
        cdk.CfnOutput(self, "StateMachineArn", value=pipeline.state_machine.state_machine_arn)
        if model_key is not None:
            endpoint = ModelEndpoint(
                self,
                "Endpoint",
                model=ModelSource.from_builtin_algorithm(
                    "xgboost", ModelData.from_bucket(artifacts, model_key)
                ),
                encryption_key=key,
            )
            cdk.CfnOutput(self, "EndpointName", value=endpoint.endpoint_name)


def main() -> None:
    """Build the app, register the cdk-nag packs and synthesize."""
    app = cdk.App()
    ChurnModelStack(
        app,
        "ChurnModel",
        model_key=app.node.try_get_context("model_key"),
        env=cdk.Environment(region=REGION),
    )
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app)
    )
    app.synth()


if __name__ == "__main__":
    main()

"""The SNS topic that tells people when training or serving goes wrong."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


class NotificationTopic(Construct):
    """A KMS-encrypted, TLS-only SNS topic with optional e-mail subscribers.

    The key must let EventBridge and CloudWatch alarms use it (`EncryptionKey` does).

    Attributes:
        topic: the topic; give it to pipelines and alarms.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        emails: Sequence[str] = (),
    ) -> None:
        """
        Args:
            encryption_key: encrypts messages at rest.
            emails: addresses subscribed to the topic (each confirms by e-mail).
                Default: none.
        """
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Resource",
            master_key=encryption_key,
            enforce_ssl=True,
            display_name="SageMaker platform notifications",
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


def notify_failed_executions(
    scope: Construct,
    state_machine: sfn.IStateMachine,
    topic: sns.ITopic,
    *,
    what: str,
    description: str,
) -> events.Rule:
    """An EventBridge rule (id `Failed`) that publishes to `topic` each execution of
    `state_machine` that fails, times out or is aborted.

    Args:
        what: how the message names the state machine, e.g. "Training pipeline churn-xgboost".
        description: the rule's description.
    """
    return events.Rule(
        scope,
        "Failed",
        description=description,
        event_pattern=events.EventPattern(
            source=["aws.states"],
            detail_type=["Step Functions Execution Status Change"],
            detail={
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                "stateMachineArn": [state_machine.state_machine_arn],
            },
        ),
        targets=[
            targets.SnsTopic(
                topic,
                message=events.RuleTargetInput.from_text(
                    f"{what}: execution {events.EventField.from_path('$.detail.name')} ended "
                    f"{events.EventField.from_path('$.detail.status')}."
                ),
            )
        ],
    )

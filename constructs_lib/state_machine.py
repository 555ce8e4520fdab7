"""The state machine every pipeline of the library runs in: traced, logged in full to a
KMS-encrypted log group."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


@dataclass(frozen=True)
class LoggedStateMachine:
    """A state machine and the log group its executions write to."""

    state_machine: sfn.StateMachine
    log_group: logs.LogGroup


def logged_state_machine(
    scope: Construct,
    chain: sfn.IChainable,
    *,
    comment: str,
    encryption_key: kms.IKey,
    log_retention: logs.RetentionDays,
    log_removal_policy: RemovalPolicy,
) -> LoggedStateMachine:
    """The state machine (id `Resource`) that runs `chain`, with X-Ray tracing and every
    execution's events, input and output in a log group (id `Logs`) encrypted with the key."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        encryption_key=encryption_key,
        retention=log_retention,
        removal_policy=log_removal_policy,
    )
    state_machine = sfn.StateMachine(
        scope,
        "Resource",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        comment=comment,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
        ),
    )
    return LoggedStateMachine(state_machine=state_machine, log_group=log_group)

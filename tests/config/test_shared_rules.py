"""The rule functions the config layer and the constructs share: one rule, the same verdict,
each message naming the setting as its caller writes it."""

from __future__ import annotations

import pytest
from aws_cdk import aws_events as events

from config.schema import DeploymentConfig
from constructs_lib.monitoring import MonitoringResources
from constructs_lib.schedules import eventbridge_schedule_problem
from constructs_lib.serving import TrafficShifting


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 day)",
        "rate(5 minutes)",
        "rate(12 hours)",
        "cron(0 3 ? * MON *)",
        "cron(0/15 * ? * MON-FRI *)",
        "cron(0 3 1 * ? *)",
        "cron(0 3 L * ? *)",
        "cron(0 3 15W * ? *)",
        "cron(0 3 ? * 6L *)",
        "cron(0 3 ? * 2#1 *)",
        "cron(0 3 1 JAN,JUL ? 2027)",
        "cron(30 22 ? * SUN-THU 2026-2030)",
    ],
)
def test_expressions_eventbridge_accepts(expression: str) -> None:
    assert eventbridge_schedule_problem(expression) is None
    # CDK's own parser takes them as they are.
    assert events.Schedule.expression(expression).expression_string == expression


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(1 days)", "EventBridge wants rate(1 day)"),
        ("rate(2 hour)", "EventBridge wants rate(2 hours)"),
        ("rate(0 minutes)", "a rate must be at least 1"),
        ("rate(1.5 hours)", "with N a whole number"),
        ("rate(1 week)", "a rate's unit is minutes, hours or days"),
        ("cron(0 3 * * 1)", "as EventBridge writes it: cron(0 3 ? * MON *)"),
        ("cron(0 3 * * 0)", "as EventBridge writes it: cron(0 3 ? * SUN *)"),
        ("cron(0 3 * * *)", "as EventBridge writes it: cron(0 3 * * ? *)"),
        ("cron(0 3 * * MON *)", "exactly one of day-of-month"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 24 ? * * *)", "cron hours field '24': must be 0-23"),
        ("cron(60 3 ? * * *)", "cron minutes field '60': must be 0-59"),
        ("cron(0 3 ? * 0 *)", "(1 is Sunday, Unix cron's 0)"),
        ("cron(0 3 ? JAM * *)", "cron month field 'JAM': use 1-12 or JAN"),
        ("cron(0 3 ? * 2#6 *)", "the week after '#' must be 1-5"),
        ("cron(0/0 3 ? * * *)", "the step after '/' must be at least 1"),
        ("cron(0 3 ? * * 1969)", "cron year field '1969': must be 1970-2199"),
        ("cron(0 3 ? * MON% *)", "may not contain %"),
        ("every monday", "must be an EventBridge schedule"),
    ],
)
def test_expressions_eventbridge_refuses(expression: str, problem: str) -> None:
    message = eventbridge_schedule_problem(expression)
    assert message is not None
    assert problem in message


def test_a_canary_percent_is_refused_alike_by_the_config_and_the_construct() -> None:
    with pytest.raises(
        ValueError, match=r"TrafficShifting.canary percent must be 1 to 50 \(got 60\)"
    ):
        TrafficShifting.canary(percent=60)
    with pytest.raises(ValueError, match=r"a canary percent must be 1 to 50 \(got 60\)"):
        DeploymentConfig(traffic_shifting="canary", percent=60)
    with pytest.raises(ValueError, match=r"a linear percent must be 10 to 50 \(got 5\)"):
        DeploymentConfig(traffic_shifting="linear", percent=5)
    with pytest.raises(ValueError, match="all_at_once takes no percent"):
        DeploymentConfig(traffic_shifting="all_at_once", percent=20)
    assert DeploymentConfig(traffic_shifting="all_at_once").percent == 10  # unused default


def test_the_monitoring_construct_refuses_an_instance_type_that_does_not_exist() -> None:
    with pytest.raises(
        ValueError, match=r"ml\.m5\.huge is not a SageMaker processing instance type"
    ):
        MonitoringResources(instance_type="ml.m5.huge")

"""When a monitoring schedule runs: only the cron expressions SageMaker Model Monitor accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

HOURLY = "cron(0 * ? * * *)"
"""Every hour, on the hour (UTC)."""
DAILY = "cron(0 0 ? * * *)"
"""Every day at midnight UTC."""

_HOUR = r"(?:[01]?\d|2[0-3])"
_INTERVAL = r"(?:0?[1-9]|1\d|2[0-4])"
_ACCEPTED = re.compile(rf"^cron\(0 (?:\*|{_HOUR}|{_HOUR}/{_INTERVAL}) \? \* \* \*\)$")

ACCEPTED_FORMS = (
    "'hourly', 'daily', cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at hour H, 0-23) "
    "or cron(0 H/N ? * * *) (every N hours from hour H, N 1-24)"
)
"""What SageMaker's ScheduleConfig accepts for a recurring schedule, in words."""


def schedule_expression_problem(expression: str) -> str | None:
    """Why SageMaker would refuse `expression` as a recurring monitoring schedule, or None."""
    if _ACCEPTED.match(expression):
        return None
    hint = ""
    if expression.startswith("rate("):
        hint = "; SageMaker monitoring schedules take no rate() expressions"
    elif expression == "NOW":
        hint = "; NOW runs once and needs an analysis window, it is not a recurring schedule"
    return f"SageMaker Model Monitor accepts only {ACCEPTED_FORMS} (got {expression!r}){hint}"


@dataclass(frozen=True)
class MonitoringSchedule:
    """How often a monitoring schedule runs its job. Use a factory method.

    SageMaker starts each run up to 20 minutes after the time the expression names.

    Attributes:
        expression: the cron expression, one of the forms SageMaker accepts.
    """

    expression: str

    def __post_init__(self) -> None:
        problem = schedule_expression_problem(self.expression)
        if problem:
            raise ValueError(f"MonitoringSchedule: {problem}")

    @property
    def interval_hours(self) -> int:
        """Hours between two runs: 1 (hourly), 24 (daily) or N (every N hours)."""
        hours = self.expression.split(" ")[1]
        if hours == "*":
            return 1
        _, _, interval = hours.partition("/")
        return int(interval) if interval else 24

    @staticmethod
    def hourly() -> MonitoringSchedule:
        """Every hour on the hour (UTC): `cron(0 * ? * * *)`."""
        return MonitoringSchedule(HOURLY)

    @staticmethod
    def daily(hour: int = 0) -> MonitoringSchedule:
        """Every day at `hour` (0-23, UTC). Default: midnight, `cron(0 0 ? * * *)`."""
        return MonitoringSchedule(f"cron(0 {hour} ? * * *)")

    @staticmethod
    def every(hours: int, *, starting_hour: int = 0) -> MonitoringSchedule:
        """Every `hours` hours (1-24) from `starting_hour` (0-23, UTC)."""
        return MonitoringSchedule(f"cron(0 {starting_hour}/{hours} ? * * *)")

    @staticmethod
    def cron(expression: str) -> MonitoringSchedule:
        """A cron expression in one of the forms SageMaker accepts (see `ACCEPTED_FORMS`)."""
        return MonitoringSchedule(expression)

    @staticmethod
    def from_config(value: str) -> MonitoringSchedule:
        """`hourly`, `daily`, or a cron expression SageMaker accepts."""
        named = {"hourly": HOURLY, "daily": DAILY}
        return MonitoringSchedule(named.get(value, value))

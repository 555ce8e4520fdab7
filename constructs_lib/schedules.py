"""The schedule expressions Amazon EventBridge accepts: `rate(...)` and six-field `cron(...)`.

EventBridge refuses a rule whose expression breaks these rules only when CloudFormation creates
it, minutes into a deploy; `eventbridge_schedule_problem` finds the same mistakes at synth.
The rules are those of the EventBridge User Guide, "Schedule expressions for rules":

- `rate(value unit)`: a positive whole number, and `minute`, `hour` or `day` for 1, the plural
  for more;
- `cron(minutes hours day-of-month month day-of-week year)`: six fields, not Unix cron's five;
  one of day-of-month and day-of-week must be `?`; day-of-week counts 1-7 from Sunday (or
  SUN-SAT), not Unix's 0-6.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((?P<value>\S+) (?P<unit>\S+)\)$")
_CRON = re.compile(r"^cron\((?P<fields>.*)\)$")
_CRON_FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
#: Field -> (lowest number, highest number, names allowed, special characters allowed).
_FIELD_RULES: dict[str, tuple[int, int, str, str]] = {
    "minutes": (0, 59, "", ",-*/"),
    "hours": (0, 23, "", ",-*/"),
    "day-of-month": (1, 31, "", ",-*?/LW"),
    "month": (1, 12, _MONTHS, ",-*/"),
    "day-of-week": (1, 7, _DAYS, ",-*?L#"),
    "year": (1970, 2199, "", ",-*/"),
}
EXAMPLES = "rate(1 day), rate(12 hours), cron(0 3 ? * MON *)"


def eventbridge_schedule_problem(expression: str) -> str | None:
    """Why EventBridge would refuse `expression` as a schedule, or None if it accepts it."""
    if expression.startswith("rate("):
        return _rate_problem(expression)
    cron = _CRON.match(expression)
    if cron is None:
        return (
            f"must be an EventBridge schedule, rate(...) or cron(...), e.g. {EXAMPLES} "
            f"(got {expression!r})"
        )
    return _cron_problem(expression, cron["fields"].split())


def _rate_problem(expression: str) -> str | None:
    match = _RATE.match(expression)
    if match is None or not match["value"].isdigit():
        return (
            f"a rate is rate(N minutes|hours|days) with N a whole number, e.g. rate(12 hours) "
            f"(got {expression!r})"
        )
    value, unit = int(match["value"]), match["unit"]
    if value < 1:
        return f"a rate must be at least 1 (got {expression!r})"
    singular = unit.rstrip("s")
    if singular not in ("minute", "hour", "day"):
        return f"a rate's unit is minutes, hours or days (got {unit!r} in {expression!r})"
    wanted = singular if value == 1 else f"{singular}s"
    if unit != wanted:
        return f"EventBridge wants rate({value} {wanted}) (got {expression!r})"
    return None


def _cron_problem(expression: str, fields: list[str]) -> str | None:
    if len(fields) != len(_CRON_FIELDS):
        hint = ""
        if len(fields) == 5:
            minutes, hours, day_of_month, month, day_of_week = fields
            if day_of_week == "*":
                day_of_week = "?"
            else:
                day_of_month = "?"
            if day_of_week.isdigit() and int(day_of_week) <= 7:  # Unix: 0 and 7 are Sunday
                day_of_week = _DAYS.split("|")[int(day_of_week) % 7]
            hint = (
                f"; as EventBridge writes it: cron({minutes} {hours} {day_of_month} {month} "
                f"{day_of_week} *) (days of the week are 1-7 from Sunday, or SUN-SAT)"
            )
        return (
            f"an EventBridge cron has six fields ({' '.join(_CRON_FIELDS)}), got "
            f"{len(fields)} in {expression!r}{hint}"
        )
    for name, value in zip(_CRON_FIELDS, fields, strict=True):
        problem = _field_problem(name, value)
        if problem:
            return f"{problem} in {expression!r}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?', "
            f"e.g. cron(0 3 ? * MON *) or cron(0 3 1 * ? *) (got {expression!r})"
        )
    return None


def _field_problem(name: str, value: str) -> str | None:
    _, _, names, specials = _FIELD_RULES[name]
    if value == "?" and "?" in specials:
        return None
    bad_characters = sorted({c for c in value if not c.isalnum() and c not in specials})
    if bad_characters:
        return f"cron {name} field {value!r} may not contain {', '.join(bad_characters)}"
    # Pieces with the separator before them: "5/10" -> ("", "5"), ("/", "10").
    for separator, piece in re.findall(r"(^|[,/#-])([^,/#-]*)", value):
        if piece in ("*", "L", "LW") or (names and re.fullmatch(names, piece)):
            continue
        problem = _number_problem(name, separator, piece.removesuffix("L").removesuffix("W"))
        if problem:
            return f"cron {name} field {value!r}: {problem}"
    return None


def _number_problem(name: str, separator: str, piece: str) -> str | None:
    low, high, names, _ = _FIELD_RULES[name]
    allowed = f"{low}-{high}" + (f" or {names.replace('|', ', ')}" if names else "")
    if not piece.isdigit():
        return f"use {allowed}"
    number = int(piece)
    if separator == "/":
        return None if number >= 1 else "the step after '/' must be at least 1"
    if separator == "#":
        return None if 1 <= number <= 5 else "the week after '#' must be 1-5"
    if not low <= number <= high:
        sunday = " (1 is Sunday, Unix cron's 0)" if name == "day-of-week" else ""
        return f"must be {allowed}{sunday}"
    return None

"""How definition names from the config become construct ids and stack output names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Stacks output each state machine's ARN as `<PascalName>StateMachineArn`.
STATE_MACHINE_OUTPUT_SUFFIX = "StateMachineArn"


def pascal_case(name: str) -> str:
    """`churn-xgboost` -> `ChurnXgboost`: a PascalCase construct id fixed by a config name."""
    return "".join(part.capitalize() for part in name.split("-"))


def kebab_case(name: str) -> str:
    """The definition name a `pascal_case` id was made from: `ChurnXgboost` -> `churn-xgboost`."""
    words, current = [], ""
    for char in name:
        if char.isupper() and current:
            words.append(current)
            current = ""
        current += char.lower()
    return "-".join([*words, current])


def state_machine_output(name: str) -> str:
    """The stack output id that holds the ARN of definition `name`'s state machine."""
    return f"{pascal_case(name)}{STATE_MACHINE_OUTPUT_SUFFIX}"


def state_machine_arn(outputs: Iterable[Mapping[str, str]], name: str) -> str | None:
    """The ARN of definition `name`'s state machine in a deployed stack's `Outputs`, if any."""
    wanted = state_machine_output(name)
    return next((o["OutputValue"] for o in outputs if o["OutputKey"] == wanted), None)


def state_machine_names(outputs: Iterable[Mapping[str, str]]) -> list[str]:
    """The definitions whose state machines a deployed stack outputs, for messages."""
    return sorted(
        kebab_case(o["OutputKey"].removesuffix(STATE_MACHINE_OUTPUT_SUFFIX))
        for o in outputs
        if o["OutputKey"].endswith(STATE_MACHINE_OUTPUT_SUFFIX)
    )

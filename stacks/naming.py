"""How definition names from the config become construct ids."""

from __future__ import annotations


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

"""How definition names from the config become construct ids."""

from __future__ import annotations


def pascal_case(name: str) -> str:
    """`churn-xgboost` -> `ChurnXgboost`: a PascalCase construct id fixed by a config name."""
    return "".join(part.capitalize() for part in name.split("-"))

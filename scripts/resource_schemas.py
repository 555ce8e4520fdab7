"""Which property changes make CloudFormation replace a resource, from AWS's own schemas.

Every CloudFormation resource type has a resource provider schema; its `createOnlyProperties`
lists the properties that can only be set when the resource is created: changing one creates a
new physical resource and deletes the old one ("Update requires: Replacement" in the reference).
cfn-lint ships these schemas (the us-east-1 set, the most complete) and loads them with
`PROVIDER_SCHEMA_MANAGER`; nothing here keeps its own table.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cfnlint.schema import (  # type: ignore[import-untyped]
    PROVIDER_SCHEMA_MANAGER,
    ResourceNotFoundError,
)

SCHEMA_REGION = "us-east-1"


class _Absent:
    """A property that is not set."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


@cache
def create_only_properties(resource_type: str) -> tuple[str, ...]:
    """The create-only properties of `resource_type` as dotted paths (`PrimaryContainer`,
    `VpcConfig.SubnetIds`); () for a type without a published schema (custom resources)."""
    try:
        schema: dict[str, Any] = PROVIDER_SCHEMA_MANAGER.get_resource_schema(
            SCHEMA_REGION, resource_type
        ).schema
    except ResourceNotFoundError:
        return ()
    pointers: list[str] = schema.get("createOnlyProperties", [])
    return tuple(
        ".".join(pointer.removeprefix("/properties/").split("/"))
        for pointer in pointers
        if pointer.startswith("/properties/")
    )


def replacing_properties(
    resource_type: str, old_properties: dict[str, Any], new_properties: dict[str, Any]
) -> list[str]:
    """The create-only properties whose value differs between the two sides: a non-empty list
    means CloudFormation replaces the resource."""
    return [
        path
        for path in create_only_properties(resource_type)
        if _values_at(old_properties, path.split("."))
        != _values_at(new_properties, path.split("."))
    ]


def _values_at(value: Any, segments: list[str]) -> Any:
    """The value at a dotted path; `*` maps over a list; ABSENT where a step is missing."""
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if head == "*":
        return [_values_at(item, rest) for item in value] if isinstance(value, list) else ABSENT
    if isinstance(value, dict) and head in value:
        return _values_at(value[head], rest)
    return ABSENT

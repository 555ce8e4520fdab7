"""Short constructors for hyperparameter specs, so the catalog reads like the AWS tables."""

from __future__ import annotations

from constructs_lib.builtin_algorithms.hyperparameters import (
    Bounds,
    HyperparameterSpec,
    ListFormat,
)


def _bounds(
    minimum: float | None,
    maximum: float | None,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
) -> Bounds:
    return Bounds(
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        exclusive_maximum=exclusive_maximum,
    )


def integer(
    name: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    choices: tuple[int, ...] = (),
    special: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> HyperparameterSpec:
    """An integer, optionally bounded or restricted to `choices`."""
    return HyperparameterSpec(
        name=name,
        kind="integer",
        required=required,
        bounds=_bounds(minimum, maximum, exclusive_minimum, exclusive_maximum),
        choices=tuple(str(choice) for choice in choices),
        special_values=special,
        aliases=aliases,
    )


def number(
    name: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    special: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> HyperparameterSpec:
    """A real number (an int is accepted too), optionally bounded."""
    return HyperparameterSpec(
        name=name,
        kind="number",
        required=required,
        bounds=_bounds(minimum, maximum, exclusive_minimum, exclusive_maximum),
        special_values=special,
        aliases=aliases,
    )


def boolean(
    name: str,
    *,
    literals: tuple[str, str] = ("true", "false"),
    special: tuple[str, ...] = (),
) -> HyperparameterSpec:
    """A boolean, rendered as `literals` (the spelling the algorithm documents)."""
    return HyperparameterSpec(
        name=name, kind="boolean", boolean_literals=literals, special_values=special
    )


def categorical(name: str, *choices: str, required: bool = False) -> HyperparameterSpec:
    """One string out of `choices`."""
    return HyperparameterSpec(name=name, kind="categorical", required=required, choices=choices)


def text(
    name: str, *, required: bool = False, pattern: str | None = None, pattern_hint: str = ""
) -> HyperparameterSpec:
    """A free-form string, optionally matching `pattern` in full."""
    return HyperparameterSpec(
        name=name, kind="text", required=required, pattern=pattern, pattern_hint=pattern_hint
    )


def integer_list(
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    list_format: ListFormat = "comma",
    special: tuple[str, ...] = (),
) -> HyperparameterSpec:
    """A list of integers, each within the bounds."""
    return HyperparameterSpec(
        name=name,
        kind="list",
        element="integer",
        bounds=_bounds(minimum, maximum, False, False),
        list_format=list_format,
        special_values=special,
    )


def number_list(
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    list_format: ListFormat = "json",
) -> HyperparameterSpec:
    """A list of real numbers, each within the bounds."""
    return HyperparameterSpec(
        name=name,
        kind="list",
        element="number",
        bounds=_bounds(minimum, maximum, exclusive_minimum, exclusive_maximum),
        list_format=list_format,
    )


def text_list(name: str, *choices: str, list_format: ListFormat = "json") -> HyperparameterSpec:
    """A list of strings, each one of `choices` when given."""
    return HyperparameterSpec(
        name=name, kind="list", element="text", choices=choices, list_format=list_format
    )

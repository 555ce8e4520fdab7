"""Hyperparameter specifications: what values a built-in algorithm accepts, and rendering.

CreateTrainingJob takes hyperparameters as a map of strings. A config file gives them as YAML
values (ints, floats, bools, strings, lists), so each value is parsed against its spec, checked,
and rendered back to the exact string the algorithm reads: ints as ints, floats by their
shortest round-trip repr (`0.1`, `1e-08`), bools as the literals the algorithm documents
(`true`/`false` for most, `True`/`False` for a few), lists comma-separated, as JSON or as a
tuple. Rendering is deterministic: the same input always gives the same strings.

The SageMaker SDK holds no hyperparameter schemas for built-in algorithms, so the specs in this
package come from the AWS documentation and, for XGBoost, from the container's own validation
code; each algorithm module names its sources.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from constructs_lib.builtin_algorithms.problems import did_you_mean, quoted

HyperparameterKind = Literal["integer", "number", "boolean", "categorical", "text", "list"]
ListElement = Literal["integer", "number", "text"]
ListFormat = Literal["comma", "json", "tuple"]

Scalar = int | float | str
Value = bool | int | float | str | tuple[Scalar, ...]
"""A parsed hyperparameter value; a special value such as `"auto"` stays a string."""

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity)", re.IGNORECASE)


class InvalidValueError(ValueError):
    """A value that does not fit its spec; the text reads "must be ...; got ..."."""


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """An interval of allowed numbers; no minimum or maximum means unbounded on that side.

    Attributes:
        minimum: smallest allowed value, or None.
        maximum: largest allowed value, or None.
        exclusive_minimum: whether `minimum` itself is excluded.
        exclusive_maximum: whether `maximum` itself is excluded.
    """

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False

    def contains(self, value: float) -> bool:
        """Whether `value` lies in the interval."""
        if self.minimum is not None and (
            value < self.minimum or (self.exclusive_minimum and value == self.minimum)
        ):
            return False
        return self.maximum is None or not (
            value > self.maximum or (self.exclusive_maximum and value == self.maximum)
        )

    def describe(self) -> str:
        """`"in [0, 1]"`, `"in (0, 1]"`, `">= 1"`, `"> 0"`, `"<= 5"`, or `""` if unbounded."""
        if self.minimum is not None and self.maximum is not None:
            low = "(" if self.exclusive_minimum else "["
            high = ")" if self.exclusive_maximum else "]"
            return f"in {low}{format_number(self.minimum)}, {format_number(self.maximum)}{high}"
        if self.minimum is not None:
            return f"{'>' if self.exclusive_minimum else '>='} {format_number(self.minimum)}"
        if self.maximum is not None:
            return f"{'<' if self.exclusive_maximum else '<='} {format_number(self.maximum)}"
        return ""


UNBOUNDED = Bounds()


@dataclass(frozen=True, kw_only=True)
class HyperparameterSpec:
    """What one hyperparameter of a built-in algorithm accepts.

    Attributes:
        name: the name the algorithm reads.
        kind: integer, number, boolean, categorical, text or list.
        required: whether a training job must set it.
        bounds: the allowed interval for integer and number values and list elements.
        choices: the allowed values of a categorical; for an integer, the allowed integers;
            for a list of text, the allowed elements.
        special_values: literal strings accepted besides the kind's values, e.g. `auto`.
        pattern: a regular expression a text value must match in full.
        pattern_hint: how a message describes `pattern`, e.g. "an integer followed by M, W, D,
            H or min".
        element: the kind of a list's elements.
        list_format: how a list is written: `comma` (`10,20`), `json` (`[10, 20]`) or `tuple`
            (`(1,0,-1)`).
        boolean_literals: the strings a boolean renders to, true first.
        aliases: other names the algorithm accepts for this hyperparameter.
    """

    name: str
    kind: HyperparameterKind
    required: bool = False
    bounds: Bounds = UNBOUNDED
    choices: tuple[str, ...] = ()
    special_values: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_hint: str = ""
    element: ListElement = "integer"
    list_format: ListFormat = "comma"
    boolean_literals: tuple[str, str] = ("true", "false")
    aliases: tuple[str, ...] = ()

    @property
    def tunable(self) -> bool:
        """Whether automatic model tuning can search it: integers, numbers (as a range),
        categoricals and booleans (as values); not text or lists."""
        return self.kind in ("integer", "number", "categorical", "boolean")

    def expectation(self) -> str:
        """What the value must be, e.g. `"an integer >= 1 or 'auto'"`."""
        text = self._expectation_without_specials()
        if not self.special_values:
            return text
        if len(self.special_values) == 1:
            return f"{text} or {self.special_values[0]!r}"
        return f"{text} or one of {quoted(self.special_values)}"

    def parse(self, value: object) -> Value:
        """Parse and check a value given in a definition.

        Strings are accepted for every kind (`"0.1"` for a number, `"true"` for a boolean),
        because the API itself carries strings.

        Raises:
            InvalidValueError: if the value does not fit, saying what is expected.
        """
        if isinstance(value, str) and value.strip() in self.special_values:
            return value.strip()
        if self.kind == "list":
            return self._parse_list(value)
        parsed = _parse_scalar(self.kind, value, self.boolean_literals)
        if parsed is None:
            raise self._invalid(value)
        self._check_scalar(parsed, value)
        return parsed

    def render(self, value: object) -> str:
        """Parse a value and render it as the string the algorithm reads.

        Raises:
            InvalidValueError: if the value does not fit the spec.
        """
        parsed = self.parse(value)
        if isinstance(parsed, tuple):
            return _render_list(parsed, self.list_format)
        if isinstance(parsed, bool):
            return self.boolean_literals[0] if parsed else self.boolean_literals[1]
        return render_scalar(parsed)

    def _expectation_without_specials(self) -> str:
        if self.kind == "list":
            return self._list_expectation()
        if self.kind in ("integer", "number"):
            if self.choices:
                return f"one of {', '.join(self.choices)}"
            noun = "an integer" if self.kind == "integer" else "a number"
            return f"{noun} {self.bounds.describe()}".rstrip()
        if self.kind == "boolean":
            return f"{self.boolean_literals[0]} or {self.boolean_literals[1]}"
        if self.kind == "categorical":
            return f"one of {quoted(self.choices)}"
        return self.pattern_hint or "a string"

    def _list_expectation(self) -> str:
        container = {
            "comma": "a comma-separated list",
            "json": "a JSON list",
            "tuple": "a tuple",
        }[self.list_format]
        if self.element == "text":
            if self.choices:
                return f"{container} of values from {quoted(self.choices)}"
            return f"{container} of strings"
        noun = "integers" if self.element == "integer" else "numbers"
        return f"{container} of {noun} {self.bounds.describe()}".rstrip()

    def _invalid(self, value: object) -> InvalidValueError:
        return InvalidValueError(f"must be {self.expectation()}; got {value!r}")

    def _check_scalar(self, parsed: Value, value: object) -> None:
        if self.kind == "integer" and self.choices:
            if str(parsed) not in self.choices:
                raise self._invalid(value)
        elif isinstance(parsed, int | float) and not isinstance(parsed, bool):
            if math.isnan(parsed) or not self.bounds.contains(parsed):
                raise self._invalid(value)
        elif self.kind == "categorical":
            if parsed not in self.choices:
                hint = did_you_mean(str(parsed), self.choices)
                raise InvalidValueError(f"must be {self.expectation()}; got {value!r}{hint}")
        elif (
            self.kind == "text"
            and self.pattern is not None
            and re.fullmatch(self.pattern, str(parsed)) is None
        ):
            raise self._invalid(value)

    def _parse_list(self, value: object) -> tuple[Scalar, ...]:
        items = _split_list(value, self.list_format)
        if not items:
            raise self._invalid(value)
        parsed: list[Scalar] = []
        for item in items:
            element = _parse_scalar(self.element, item, self.boolean_literals)
            if element is None or isinstance(element, bool):
                raise self._invalid(value)
            if self.element == "text":
                if self.choices and element not in self.choices:
                    raise self._invalid(value)
            elif not isinstance(element, str) and (
                math.isnan(element) or not self.bounds.contains(element)
            ):
                raise self._invalid(value)
            parsed.append(element)
        return tuple(parsed)


def _parse_scalar(
    kind: HyperparameterKind | ListElement, value: object, literals: tuple[str, str]
) -> bool | Scalar | None:
    """The value as the kind's Python type, or None if it is not of that kind."""
    if kind == "boolean":
        return _parse_boolean(value, literals)
    if kind == "integer":
        return _parse_integer(value)
    if kind == "number":
        return _parse_number(value)
    return value.strip() if isinstance(value, str) else None


def _parse_boolean(value: object, literals: tuple[str, str]) -> bool | None:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered in (literals[0].lower(), "true"):
        return True
    if lowered in (literals[1].lower(), "false"):
        return False
    return None


def _parse_integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _parse_number(value: object) -> int | float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value.strip())
    return None


def _split_list(value: object, list_format: ListFormat) -> list[object]:
    if isinstance(value, list | tuple):
        return list(value)
    if not isinstance(value, str):
        return []
    text = value.strip()
    if list_format == "json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            return []
        return list(loaded) if isinstance(loaded, list) else []
    if list_format == "tuple":
        if not (text.startswith("(") and text.endswith(")")):
            return []
        text = text[1:-1]
    return [item.strip() for item in text.split(",") if item.strip()]


def _render_list(items: tuple[Scalar, ...], list_format: ListFormat) -> str:
    if list_format == "json":
        return json.dumps(list(items))
    joined = ",".join(render_scalar(item) for item in items)
    return f"({joined})" if list_format == "tuple" else joined


def render_scalar(value: Scalar) -> str:
    """An int as `42`, a float by its shortest round-trip repr (`0.1`, `1e-08`), a str as is."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_number(value: float) -> str:
    """A bound for a message: `1.0` -> `1`, `1e-06` -> `1e-06`."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def render_value(value: object) -> str:
    """Render one value without a spec: the conventions `render_hyperparameters` documents.

    Raises:
        ValueError: for None, NaN or infinite floats, mappings and other objects that have no
            unambiguous string form.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot render {value!r} as a hyperparameter value")
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(render_value(item) for item in value)
    raise ValueError(
        f"cannot render {value!r} ({type(value).__name__}) as a hyperparameter value: use a "
        "string, number, boolean or list"
    )


def render_hyperparameters(
    values: Mapping[str, object], specs: Mapping[str, HyperparameterSpec] | None = None
) -> dict[str, str]:
    """Render hyperparameters as the string map CreateTrainingJob takes, sorted by name.

    Without specs: bools become `true`/`false`, ints stay ints, floats use their shortest
    round-trip repr, strings are kept and lists are joined with commas. With specs (an
    algorithm's), each value is rendered as its spec says: the algorithm's boolean literals and
    list format.

    Raises:
        ValueError: if a value cannot be rendered or does not fit its spec.
    """
    rendered: dict[str, str] = {}
    for name in sorted(values):
        spec = specs.get(name) if specs is not None else None
        try:
            rendered[name] = spec.render(values[name]) if spec else render_value(values[name])
        except InvalidValueError as error:
            raise ValueError(f"hyperparameter {name!r} {error}") from None
    return rendered

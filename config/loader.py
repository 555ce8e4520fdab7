"""Reads and validates the environment files.

`load_stage_config(path)` is the only place where configuration enters the app. It turns every
problem into a `ConfigError` whose message names the file, the line, the field and what is
allowed, so `cdk synth` can print one readable message instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import yaml
from pydantic import BaseModel, StringConstraints, ValidationError
from pydantic.fields import FieldInfo

from config.catalog_checks import catalog_problems
from config.schema import StageConfig
from constructs_lib.builtin_algorithms.problems import did_you_mean

#: The environments the app builds, in order: file stem -> Stage construct id.
ENVIRONMENTS: Mapping[str, str] = {"dev": "Dev", "prod": "Prod"}

#: The folder `cdk synth` reads environment files from unless `-c config_dir=PATH` says otherwise.
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent


class ConfigError(Exception):
    """A configuration file is missing, unreadable or invalid. The message is for humans."""


Location = tuple[str | int, ...]


class _LineTrackingLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys and remembers where each key was written."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.key_lines: dict[Location, int] = {}
        self._visited: set[int] = set()

    def construct_document(self, node: yaml.Node) -> Any:
        self._record_lines(node, ())
        return super().construct_document(node)

    def _record_lines(self, node: yaml.Node, location: Location) -> None:
        # An alias is the same node object again: visit it once, or nested aliases expand
        # exponentially ("billion laughs").
        if id(node) in self._visited:
            return
        self._visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise ConfigError(
                        f"{line}: {_dotted((*location, key))}: duplicate key "
                        f"(first written on line {seen[key]}); each key may appear once"
                    )
                seen[key] = line
                self.key_lines[(*location, key)] = line
                self._record_lines(value_node, (*location, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.key_lines[(*location, index)] = item.start_mark.line + 1
                self._record_lines(item, (*location, index))


def load_stage_config(path: Path) -> StageConfig:
    """Read one environment file and validate it against the schema.

    Raises:
        ConfigError: with a message of the form `<file>:<line>: <field>: <problem>`.
    """
    display = _display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{display}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{display}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{display}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
        ) from None

    try:
        loader = _LineTrackingLoader(text)
        document = loader.get_single_data()
        loader.dispose()
    except ConfigError as error:
        raise ConfigError(f"{display}:{error}") from None
    except yaml.MarkedYAMLError as error:
        raise ConfigError(_syntax_error(display, text, error)) from None
    except yaml.reader.ReaderError as error:
        raise ConfigError(_reader_error(display, text, error)) from None
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0]
        raise ConfigError(f"{display}: YAML syntax error: {first_line}") from None

    if not isinstance(document, dict):
        raise ConfigError(
            f"{display}: the file must hold a mapping of settings (account, region, ...), "
            f"not {type(document).__name__ if document is not None else 'nothing'}"
        )
    try:
        config = StageConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_format_errors(display, error, loader.key_lines)) from None
    problems = catalog_problems(config)
    if problems:
        raise ConfigError(
            "\n".join(
                _located(display, location, message, loader.key_lines)
                for location, message in problems
            )
        )
    return config


def _syntax_error(display: str, text: str, error: yaml.MarkedYAMLError) -> str:
    """`file:line: YAML syntax error: ...` at the line a person should look at."""
    mark = error.problem_mark
    problem = str(error.problem)
    if error.context_mark is not None and (mark is None or mark.index >= len(text)):
        # The file ended inside something (a quote, a bracket): point at where it opened.
        mark = error.context_mark
        problem = f"{problem} ({error.context} that starts here)"
    elif error.context and problem.startswith("but "):
        # PyYAML splits some sentences: "expected a single document" / "but found another".
        problem = f"{error.context}, {problem}"
    where = f"{display}:{mark.line + 1}" if mark is not None else display
    return f"{where}: YAML syntax error: {problem}"


def _reader_error(display: str, text: str, error: yaml.reader.ReaderError) -> str:
    """`file:line: ...` for a character YAML does not allow (a control character)."""
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    return (
        f"{display}:{line}: YAML syntax error: unacceptable character #x{error.character:04x} "
        f"(column {column}): control characters are not allowed; remove it"
    )


def load_all(config_dir: Path) -> dict[str, StageConfig]:
    """Load every environment file of `ENVIRONMENTS` from `config_dir`, keyed by file stem."""
    return {name: load_stage_config(config_dir / f"{name}.yaml") for name in ENVIRONMENTS}


def _format_errors(display: str, error: ValidationError, key_lines: Mapping[Location, int]) -> str:
    lines = []
    for detail in error.errors(include_url=False):
        location: Location = tuple(detail["loc"])
        field = (detail.get("ctx") or {}).get("field")
        if isinstance(field, str):
            location = location + tuple(field.split("."))
        lines.append(_located(display, location, _describe(detail), key_lines))
    return "\n".join(lines)


#: The last part of pydantic's location for an error in a mapping's key, not its value.
DICT_KEY = "[key]"


def _located(
    display: str, location: Location, message: str, key_lines: Mapping[Location, int]
) -> str:
    if location and location[-1] == DICT_KEY:
        # pydantic reports a bad name as `(..., name, "[key]")`: the name is the field.
        location, message = location[:-1], f"this name {message}"
    line = _nearest_line(location, key_lines)
    where = f"{display}:{line}" if line else display
    return f"{where}: {_dotted(location) or '(top level)'}: {message}"


def _describe(detail: Mapping[str, Any]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_setting(tuple(detail["loc"]))
    if kind == "missing":
        return "required setting is missing"
    message = str(detail["msg"])
    if kind == "string_type" and isinstance(detail.get("input"), int):
        message = f'must be text: quote it, e.g. "{detail["input"]}"'
    elif kind == "string_pattern_mismatch":
        pattern = detail["ctx"]["pattern"]
        described = _pattern_descriptions().get(pattern)
        if described:
            return f"must be {described}; got {detail['input']!r}"
        message = f"does not match the pattern {pattern}"
    if "input" in detail and not isinstance(detail["input"], (dict, list)):
        message += f" (got {detail['input']!r})"
    return message


def _unknown_setting(location: Location) -> str:
    """`unknown setting; did you mean 'x'? Allowed here: ...` for the key at `location`."""
    model = _model_at(location[:-1])
    if model is None:
        return "unknown setting; remove it or check its spelling against config/schema.py"
    allowed = ", ".join(model.model_fields)
    hint = did_you_mean(str(location[-1]), model.model_fields)
    return (
        f"unknown setting{hint} Allowed here: {allowed}"
        if hint
        else (f"unknown setting; allowed here: {allowed}")
    )


def _model_at(location: Location) -> type[BaseModel] | None:
    """The schema section whose keys are written at `location` (a path from the file's top)."""
    current: Any = StageConfig
    for part in location:
        if isinstance(current, type) and issubclass(current, BaseModel):
            current = get_type_hints(current, include_extras=True).get(str(part))
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]  # a name or an index: on to the item's type
        else:
            return None
        current = _unwrapped(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrapped(annotation: Any) -> Any:
    """`X` for `Annotated[X, ...]` and for `X | None`."""
    if get_origin(annotation) is Annotated:
        return _unwrapped(get_args(annotation)[0])
    arguments = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(arguments) == 1:
        return _unwrapped(arguments[0])
    return annotation


@cache
def _pattern_descriptions() -> dict[str, str]:
    """Regular expression -> what it means in words, from the schema's annotated types
    (`Annotated[str, StringConstraints(pattern=...), Field(description=...)]`)."""
    found: dict[str, str] = {}
    # Visited annotations by id, kept alive: `get_type_hints` builds new objects, and the id of
    # one that was freed could be reused by the next one, which would then be skipped.
    seen: dict[int, Any] = {}

    def visit(annotation: Any) -> None:
        if id(annotation) in seen:
            return
        seen[id(annotation)] = annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for hint in get_type_hints(annotation, include_extras=True).values():
                visit(hint)
            return
        arguments = get_args(annotation)
        if get_origin(annotation) is Annotated:
            constraints = [m for m in arguments[1:] if isinstance(m, StringConstraints)]
            fields = [m for m in arguments[1:] if isinstance(m, FieldInfo)]
            patterns = [c.pattern for c in constraints if isinstance(c.pattern, str)]
            descriptions = [f.description for f in fields if f.description]
            if patterns and descriptions:
                found[patterns[0]] = descriptions[0]
            arguments = arguments[:1]
        for argument in arguments:
            visit(argument)

    visit(StageConfig)
    return found


def _nearest_line(location: Location, key_lines: Mapping[Location, int]) -> int | None:
    """The line of the deepest written key on `location`'s path (a missing key has none)."""
    for depth in range(len(location), 0, -1):
        if location[:depth] in key_lines:
            return key_lines[location[:depth]]
    return None


def _dotted(location: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in location)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

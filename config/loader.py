"""Reads and validates the environment files.

`load_stage_config(path)` is the only place where configuration enters the app. It turns every
problem into a `ConfigError` whose message names the file, the line, the field and what is
allowed, so `cdk synth` can print one readable message instead of a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin, get_type_hints

import yaml
from pydantic import BaseModel, StringConstraints, ValidationError
from pydantic.fields import FieldInfo

from config.catalog_checks import catalog_problems
from config.schema import StageConfig

#: The environments the app builds, in order: file stem -> Stage construct id.
ENVIRONMENTS: Mapping[str, str] = {"dev": "Dev", "prod": "Prod"}

#: Stages that must be production stages (`production: true`) whatever their file says.
PRODUCTION_STAGES = frozenset({"Prod"})

#: The folder `cdk synth` reads environment files from unless `-c config_dir=PATH` says otherwise.
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent


#: Top-level keys starting with this hold YAML anchors for reuse (`x-defaults: &defaults`,
#: then `<<: *defaults`); they are not settings and the schema never sees them.
ANCHOR_PREFIX = "x-"


class ConfigError(Exception):
    """A configuration file is missing, unreadable or invalid. The message is for humans."""


Location = tuple[str | int, ...]


class _LineTracking:
    """Mixin for a safe YAML loader: rejects duplicate keys, resolves merge keys and remembers
    where each key was written."""

    key_lines: dict[Location, int]
    _visited: set[int]

    if TYPE_CHECKING:  # provided by the loader the mixin is combined with

        def flatten_mapping(self, node: yaml.MappingNode) -> None: ...
        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any: ...

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.key_lines = {}
        self._visited = set()

    def construct_document(self, node: yaml.Node) -> Any:
        self._record_lines(node, ())
        return super().construct_document(node)  # type: ignore[misc]

    def _record_lines(self, node: yaml.Node, location: Location) -> None:
        # An alias is the same node object again: visit it once, or nested aliases expand
        # exponentially ("billion laughs").
        if id(node) in self._visited:
            return
        self._visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self._merge_keys(node, location)
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, location)
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

    def _key(self, key_node: yaml.Node, location: Location) -> Any:
        """A mapping key's value: text, a number or a boolean, never a mapping or a list."""
        if isinstance(key_node, yaml.ScalarNode):
            return self.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        where = _dotted(location) or "(top level)"
        if isinstance(key_node, yaml.MappingNode):
            raise ConfigError(
                f"{line}: {where}: YAML reads '{{{{' as a mapping inside a mapping: quote a "
                'template placeholder, e.g. "{{ value }}"'
            )
        raise ConfigError(f"{line}: {where}: a key must be plain text, not a list; quote it")

    def _merge_keys(self, node: yaml.MappingNode, location: Location) -> None:
        """Resolve YAML merge keys (`<<: *defaults`) in place: the merged settings come first,
        the mapping's own settings override them, and a key written twice by hand is still a
        duplicate."""
        own = [(key, value) for key, value in node.value if key.tag != _MERGE_TAG]
        if len(own) == len(node.value):
            return
        try:
            self.flatten_mapping(node)
        except yaml.constructor.ConstructorError as error:
            line = error.problem_mark.line + 1 if error.problem_mark else 0
            raise ConfigError(
                f"{line}: {_dotted(location) or '(top level)'}: '<<' merges a mapping (an alias "
                "such as *defaults, or a list of them) into this one"
            ) from None
        own_keys = {self._key(key, location) for key, _ in own}
        merged: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value[: len(node.value) - len(own)]:
            key = self._key(key_node, location)
            if key not in own_keys:
                merged[key] = (key_node, value_node)  # later sources win, as PyYAML builds it
        node.value = [*merged.values(), *own]


#: The tag of a `<<` key.
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _LineTrackingLoader(_LineTracking, yaml.SafeLoader):
    """The pure-Python loader: its error messages are the same in every build of PyYAML."""


#: libyaml's parser when this PyYAML build has it, else the pure-Python one.
_FAST_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastLineTrackingLoader(_LineTracking, _FAST_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The same on libyaml when PyYAML has it (several times faster); on an error the file is
    read again with `_LineTrackingLoader`, so that every build reports it in the same words."""


def _parse(text: str) -> tuple[Any, dict[Location, int]]:
    """The document and where each key is written. Raises yaml.YAMLError or ConfigError."""
    try:
        return _parse_with(_FastLineTrackingLoader, text)
    except yaml.YAMLError:
        return _parse_with(_LineTrackingLoader, text)


def _parse_with(
    loader_class: type[_LineTrackingLoader] | type[_FastLineTrackingLoader], text: str
) -> tuple[Any, dict[Location, int]]:
    loader = loader_class(text)
    try:
        return loader.get_single_data(), loader.key_lines
    finally:
        loader.dispose()


def load_stage_config(path: Path, *, stage_id: str | None = None) -> StageConfig:
    """Read one environment file and validate it against the schema.

    Args:
        path: the environment file.
        stage_id: the Stage the file is deployed as; a stage of `PRODUCTION_STAGES` must say
            `production: true`, which turns on the settings that keep its data.

    Raises:
        ConfigError: with a message of the form `<file>:<line>: <field>: <problem>`.
    """
    config, key_lines = _load(path)
    if stage_id in PRODUCTION_STAGES and not config.production:
        raise ConfigError(
            _located(
                _display_path(path),
                ("production",),
                f"this file is deployed as the {stage_id} stage, which must set production: true "
                "(termination protection, RETAIN, no auto-delete)",
                key_lines,
            )
        )
    return config


def section_location(path: Path, location: Location) -> str:
    """`file:line` of the setting at `location` (or of its nearest written parent) in an
    environment file that loads; `file` alone when no line is known."""
    display = _display_path(path)
    try:
        _, key_lines = _load(path)
    except ConfigError:
        return display
    line = _nearest_line(location, key_lines)
    return f"{display}:{line}" if line else display


def _load(path: Path) -> tuple[StageConfig, Mapping[Location, int]]:
    display = _display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{display}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{display}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(_encoding_error(display, path.read_bytes(), error)) from None

    try:
        document, key_lines = _parse(text)
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
    document = {
        key: value
        for key, value in document.items()
        if not (isinstance(key, str) and key.startswith(ANCHOR_PREFIX))
    }
    try:
        config = StageConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_format_errors(display, error, key_lines)) from None
    problems = catalog_problems(config)
    if problems:
        # The first in the file: one mistake can break several rules.
        # A misspelled name's "did you mean 'x'?" also says that x is missing.
        meant = {
            hint
            for _, message in problems
            for hint in re.findall(r"did you mean '([^']+)'", message)
        }
        problems = [p for p in problems if str(p[0][-1]) not in meant or "did you mean" in p[1]]
        location, message = min(
            problems, key=lambda problem: _nearest_line(problem[0], key_lines) or 0
        )
        raise ConfigError(_located(display, location, message, key_lines))
    return config, key_lines


def _encoding_error(display: str, data: bytes, error: UnicodeDecodeError) -> str:
    """`file:line: ...` with the column of the first byte that is not UTF-8."""
    line = data.count(b"\n", 0, error.start) + 1
    line_start = data.rfind(b"\n", 0, error.start) + 1
    column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
    return (
        f"{display}:{line}: not UTF-8 text: byte 0x{data[error.start]:02x} at column {column} "
        "(the file was saved in another encoding, such as Latin-1 or Windows-1252); save it as "
        "UTF-8"
    )


def _syntax_error(display: str, text: str, error: yaml.MarkedYAMLError) -> str:
    """`file:line: YAML syntax error: ...` at the line a person should look at: where the broken
    construct (a quote, a bracket, a key without its colon) starts, not where the parser gave
    up."""
    started = _broken_construct(text, error)
    if started is not None:
        line, problem = started
        return f"{display}:{line}: YAML syntax error: {problem}"
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
    plain = next((words for start, words in _PLAIN_WORDS if problem.startswith(start)), None)
    if plain:
        problem = f"{plain} (the parser said: {problem})"
    return f"{where}: YAML syntax error: {problem}"


#: What PyYAML's most frequent complaints mean in a settings file: (start of its words, ours).
_PLAIN_WORDS = (
    (
        "mapping values are not allowed here",
        "a ': ' inside a value starts a mapping here; quote the value, or put a line break "
        "after the key's ':'",
    ),
    (
        "expected <block end>, but found '<block mapping start>'",
        "this line is indented further than the setting above it allows; line it up with the "
        "keys beside it",
    ),
    (
        "expected <block end>, but found",
        "this line does not line up with the keys above it; check its indentation",
    ),
    (
        "found character '\\t' that cannot start any token",
        "a tab character: YAML indents with spaces only",
    ),
    (
        "found undefined alias",
        "an alias (*name) needs an anchor (&name) written above it",
    ),
)


def _broken_construct(text: str, error: yaml.MarkedYAMLError) -> tuple[int, str] | None:
    """(line, problem in plain words) of a construct opened and never closed, if that is
    what the parser ran into further down."""
    context, opened = str(error.context or ""), error.context_mark
    gave_up = error.problem_mark.line if error.problem_mark is not None else None
    if context == "while scanning a simple key" and opened is not None:
        return (
            opened.line + 1,
            "this key has no ':' after it; write it as `key: value` "
            f"(the parser said: {error.problem})",
        )
    if (
        context.startswith("while parsing a flow ")
        and opened is not None
        and gave_up is not None
        and gave_up > opened.line
    ):
        closing = "]" if "sequence" in context else "}"
        return (
            opened.line + 1,
            f"the '{text[opened.index]}' opened here is not closed with '{closing}' "
            f"(the parser said: {error.problem})",
        )
    quote = _unclosed_quote(text, error)
    if quote is not None:
        return quote
    return None


#: A line that starts like a setting, `name:` and a space or the line's end.
_SETTING_LINE = re.compile(r"^\s*[\w-]+:(\s|$)", re.MULTILINE)


def _unclosed_quote(text: str, error: yaml.MarkedYAMLError) -> tuple[int, str] | None:
    """A quoted value that runs on over lines that look like settings: a missing closing
    quote that the next quote in the file closed, far from the mistake."""
    gave_up = error.problem_mark.index if error.problem_mark is not None else len(text)
    suspect: yaml.ScalarToken | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= gave_up:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ("'", '"')
                and token.end_mark.line > token.start_mark.line
                and _SETTING_LINE.search(text, token.start_mark.index, token.end_mark.index)
            ):
                suspect = token
    except yaml.YAMLError:
        pass
    if suspect is None:
        return None
    quote = text[suspect.start_mark.index]
    return (
        suspect.start_mark.line + 1,
        f"the {quote} opened here is not closed on this line, so the value runs on to the next "
        f"{quote} (line {suspect.end_mark.line + 1}); close the quote",
    )


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
    return {
        name: load_stage_config(config_dir / f"{name}.yaml", stage_id=stage_id)
        for name, stage_id in ENVIRONMENTS.items()
    }


def _format_errors(display: str, error: ValidationError, key_lines: Mapping[Location, int]) -> str:
    """The first problem in the file, located: one mistake often breaks several rules (a deleted
    heading makes its settings unknown and its section missing), and the first says where."""
    details = error.errors(include_url=False)
    suggestions = _suggestions(details)
    misspelled = {(*location[:-1], name) for location, name in suggestions.items()}
    found: list[tuple[int, str]] = []
    for detail in details:
        location: Location = tuple(detail["loc"])
        if detail["type"] == "missing" and location in misspelled:
            continue  # the misspelled key's own message says it
        field = (detail.get("ctx") or {}).get("field")
        if isinstance(field, str):
            location = location + tuple(field.split("."))
        written = _written_prefix(location, key_lines)
        if detail["type"] == "extra_forbidden":
            message = _unknown_setting(location, suggestions.get(location))
        elif _is_union_member(location, written):
            # pydantic tried each type of a union (int, float, str...): say it once, plainly.
            location = written
            message = f"not a value this setting takes (got {_yaml_kind(detail.get('input'))})"
        else:
            message = _describe(detail)
        found.append(
            (
                _nearest_line(location, key_lines) or 0,
                _located(display, location, message, key_lines),
            )
        )
    return min(found)[1]


def _is_union_member(location: Location, written: Location) -> bool:
    """Whether `location` goes past the written key into a union member pydantic tried
    (`hyperparameters.epochs.int`), not into a section's own setting."""
    extra = location[len(written) :]
    if not extra or extra == (DICT_KEY,):
        return False
    model = _model_at(written)
    return model is None or str(extra[0]) not in model.model_fields


def _yaml_kind(value: Any) -> str:
    """What YAML made of a value, in the file's terms."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _written_prefix(location: Location, key_lines: Mapping[Location, int]) -> Location:
    """The longest start of `location` that the file writes (a key or a list item)."""
    for depth in range(len(location), 0, -1):
        if location[:depth] in key_lines:
            return location[:depth]
    return ()


def _suggestions(details: Sequence[Mapping[str, Any]]) -> dict[Location, str]:
    """Unknown key location -> the setting it is most likely a misspelling of: the closest
    name of its section, or the one required setting missing beside it."""
    unknown = [tuple(d["loc"]) for d in details if d["type"] == "extra_forbidden"]
    missing = [tuple(d["loc"]) for d in details if d["type"] == "missing"]
    found: dict[Location, str] = {}
    for location in unknown:
        section = location[:-1]
        suggestion = _closest_setting(location)
        siblings = [u for u in unknown if u[:-1] == section]
        absent = [m[-1] for m in missing if m[:-1] == section]
        if suggestion is None and len(siblings) == 1 and len(absent) == 1:
            suggestion = str(absent[0])
        if suggestion is not None:
            found[location] = suggestion
    return found


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
    if kind == "missing":
        return "required setting is missing"
    message = str(detail["msg"])
    if kind == "config_rule":
        return message  # a rule's message names the value itself where that helps
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


def _unknown_setting(location: Location, suggestion: str | None) -> str:
    """`unknown setting 'x'; did you mean 'y'?` (or what is allowed) for the key at `location`."""
    written = location[-1]
    if suggestion is not None:
        return f"unknown setting {written!r}; did you mean {suggestion!r}?"
    model = _model_at(location[:-1])
    if model is None:
        return (
            f"unknown setting {written!r}; remove it or check its spelling against config/schema.py"
        )
    return f"unknown setting {written!r}; allowed here: {', '.join(model.model_fields)}"


def _closest_setting(location: Location) -> str | None:
    """The setting of the section at `location[:-1]` that the key `location[-1]` resembles,
    ignoring case and '-' for '_'."""
    model = _model_at(location[:-1])
    if model is None:
        return None
    names = {name.lower(): name for name in model.model_fields}
    written = str(location[-1]).lower().replace("-", "_")
    close = difflib.get_close_matches(written, sorted(names), n=1)
    return names[close[0]] if close else None


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

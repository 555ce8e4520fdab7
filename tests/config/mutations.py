"""Single mistakes a person makes in an environment file, applied to its text.

Each mutation changes one line (or one key's block) of a committed file the way an edit goes
wrong: a key deleted, renamed or written twice, a value of another type or out of range, or
YAML itself broken. `mutate(text, kind, line, choice)` is deterministic, so the Hypothesis test
(test_mutations.py) and the app-synth sample (tests/reliability) draw from the same set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: A line that writes a key: indentation, an optional list dash, the key, ':' and the rest.
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[A-Za-z0-9_.:-]+):(?P<rest>( .*)?)$")

#: Values of every YAML type, and some that look right and are not.
VALUES: tuple[str, ...] = (
    "true",
    "no",
    "0",
    "-1",
    "7",
    "3.5",
    "1e3",
    '"12"',
    "text",
    '""',
    "null",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "99999999999999",
    "ml.m5.large",
    "ml.z9.large",
    "cron(0 3 * * 1)",
    "arn:aws:sagemaker:eu-west-1:123456789012:model-package/group/1",
    "s3://bucket/key",
    '"{{ value }}"',
)

#: How a number goes out of range: multiplied, negated, zeroed or made fractional.
NUMBER_CHANGES: tuple[str, ...] = ("*1000", "negative", "zero", "+0.5")

#: Ways to break YAML itself on one line.
BREAKS: tuple[str, ...] = (
    "tab-indent",
    "no-colon",
    "open-double-quote",
    "open-single-quote",
    "open-bracket",
    "open-brace",
    "extra-indent",
    "placeholder",
    "control-character",
    "stray-colon",
    "non-utf8",
)

KINDS: tuple[str, ...] = (
    "delete-line",
    "delete-block",
    "rename-key",
    "change-type",
    "out-of-range",
    "duplicate",
    "break-yaml",
)
"""Every kind of mutation; each takes a `choice` index into its own options."""

RENAMES: tuple[str, ...] = ("drop", "double", "swap", "upper", "plural", "hyphen")


@dataclass(frozen=True)
class Mutation:
    """One mistake: which kind, at which key line (index into `key_lines`), which option."""

    kind: str
    line: int
    choice: int


def key_lines(text: str) -> list[int]:
    """Indexes (0-based) of the lines of `text` that write a key."""
    return [index for index, line in enumerate(text.splitlines()) if KEY_LINE.match(line)]


def mutate(text: str, mutation: Mutation) -> str | bytes:
    """`text` with `mutation` applied: text, or bytes for a file that is not UTF-8."""
    lines = text.splitlines()
    targets = key_lines(text)
    index = targets[mutation.line % len(targets)]
    match = KEY_LINE.match(lines[index])
    assert match is not None
    changed = _apply(lines, index, match, mutation)
    if isinstance(changed, bytes):
        return changed
    return "\n".join(changed) + "\n"


def _apply(
    lines: list[str], index: int, match: re.Match[str], mutation: Mutation
) -> list[str] | bytes:
    kind, choice = mutation.kind, mutation.choice
    head = f"{match['indent']}{match['dash'] or ''}"
    key, rest = match["key"], match["rest"] or ""
    end = _block_end(lines, index)
    if kind == "break-yaml":
        return _broken(lines, index, match, _pick(BREAKS, choice))
    changed = {
        "delete-line": lambda: lines[:index] + lines[index + 1 :],
        "delete-block": lambda: lines[:index] + lines[end:],
        "rename-key": lambda: _replace(lines, index, f"{head}{_renamed(key, choice)}:{rest}"),
        "change-type": lambda: _replace(lines, index, f"{head}{key}: {_pick(VALUES, choice)}"),
        "out-of-range": lambda: _replace(
            lines, index, f"{head}{key}: {_out_of_range(rest.strip(), choice)}"
        ),
        "duplicate": lambda: lines[:end] + lines[index:end] + lines[end:],
    }
    return changed[kind]()


def _broken(lines: list[str], index: int, match: re.Match[str], how: str) -> list[str] | bytes:
    line = lines[index]
    head = f"{match['indent']}{match['dash'] or ''}"
    key, rest = match["key"], match["rest"] or ""
    value = rest.strip()
    replacements = {
        "tab-indent": "\t" + line.lstrip(" "),
        "no-colon": f"{head}{key}{rest}" if rest else f"{head}{key} x",
        "open-double-quote": f'{head}{key}: "{value}',
        "open-single-quote": f"{head}{key}: '{value}",
        "open-bracket": f"{head}{key}: [{value}",
        "open-brace": f"{head}{key}: {{{value}",
        "extra-indent": " " + line,
        "placeholder": f"{head}{key}: {{{{ {key} }}}}",
        "control-character": f"{line} \x07",
        "stray-colon": f"{head}{key}: a: b: {value}",
    }
    if how == "non-utf8":
        text = "\n".join([*lines[:index], f"{line}  # Z\u00fcrich", *lines[index + 1 :]]) + "\n"
        return text.encode("latin-1", errors="replace")
    return _replace(lines, index, replacements[how])


def _renamed(key: str, choice: int) -> str:
    how = _pick(RENAMES, choice)
    if how == "drop" and len(key) > 1:
        return key[:-1]
    if how == "double":
        return key + key[-1]
    if how == "swap" and len(key) > 2:
        return key[:1] + key[2] + key[1] + key[3:]
    if how == "upper":
        return key.upper()
    if how == "hyphen":
        return key.replace("_", "-") if "_" in key else key + "-"
    return key + "s"


def _out_of_range(value: str, choice: int) -> str:
    try:
        number = float(value.strip("\"'"))
    except ValueError:
        number = 1.0
    how = _pick(NUMBER_CHANGES, choice)
    result = {
        "*1000": number * 1000,
        "negative": -abs(number) - 1,
        "zero": 0,
        "+0.5": number + 0.5,
    }[how]
    return f"{result:g}" if how == "+0.5" else str(int(result))


def _block_end(lines: Sequence[str], index: int) -> int:
    """The index after the last line of the key at `index` and its more-indented children."""
    indent = len(lines[index]) - len(lines[index].lstrip(" "))
    end = index + 1
    while end < len(lines):
        line = lines[end]
        written = line.strip() and not line.lstrip().startswith("#")
        if written and len(line) - len(line.lstrip(" ")) <= indent:
            break
        end += 1
    return end


def _replace(lines: list[str], index: int, new: str) -> list[str]:
    return [*lines[:index], new, *lines[index + 1 :]]


def _pick(options: Sequence[str], choice: int) -> str:
    return options[choice % len(options)]

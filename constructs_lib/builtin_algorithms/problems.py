"""A problem found while validating a definition: where it is and what is wrong."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, meant to be shown to the person who wrote it.

    Attributes:
        field: dotted path of the offending field, relative to the definition, e.g.
            `hyperparameters.num_round`, `instance_type`, `channels.train.content_type`.
            A config loader prefixes it with the file and section it read.
        message: what is wrong, what was given and what is allowed, in one sentence.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def did_you_mean(given: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`"; did you mean 'x'?"` for the closest candidate, or `""` when none is close."""
    close = difflib.get_close_matches(given, sorted(candidates), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_name_message(
    message: str, given: str, candidates: Iterable[str], *, listing: str
) -> str:
    """`message` plus a suggestion for `given` when one is close, else plus `listing`."""
    hint = did_you_mean(given, candidates)
    return f"{message}{hint}" if hint else f"{message}; {listing}"


def quoted(values: Iterable[str]) -> str:
    """`["a", "b"]` -> `"'a', 'b'"`."""
    return ", ".join(repr(value) for value in values)

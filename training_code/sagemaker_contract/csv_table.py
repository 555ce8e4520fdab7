"""Numeric CSV tables, from a file or a request body, with errors that name the row and column.

numpy parses the well-formed case quickly; when it fails, the text is scanned again line by line
to say exactly which row and cell is wrong (numpy's own message counts rows from 0 and skips
empty lines, which misleads). Empty lines are skipped, as numpy skips them.
"""

from __future__ import annotations

import csv
import io
import itertools
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np


class TableError(ValueError):
    """A cell or row that is not part of a rectangular numeric table."""


def numeric_table(source: Path | str) -> np.ndarray:
    """Parse a file (``Path``) or text (``str``) of comma-separated numbers into float64 rows.

    An input with no non-empty line gives an array with zero rows.
    """
    if isinstance(source, str) and not source.strip("\r\n"):
        return np.empty((0, 0))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            return np.loadtxt(
                source if isinstance(source, Path) else io.StringIO(source),
                delimiter=",",
                dtype=np.float64,
                ndmin=2,
                comments=None,
                encoding="utf-8",
            )
    except (ValueError, UnicodeDecodeError):
        raise _explain(source) from None


def data_lines(source: Path | str) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of each non-empty line: the lines that are table rows."""
    with (
        source.open(encoding="utf-8", newline="")
        if isinstance(source, Path)
        else io.StringIO(source, newline="") as lines
    ):
        for number, line in enumerate(lines, start=1):
            text = line.rstrip("\r\n")
            if text:
                yield number, text


def line_number(source: Path | str, row: int) -> int:
    """The line that holds table row ``row`` (0-based)."""
    return next(itertools.islice(data_lines(source), row, None))[0]


def _explain(source: Path | str) -> TableError:
    width = None
    try:
        for number, text in data_lines(source):
            cells = next(csv.reader([text]))
            if width is not None and len(cells) != width:
                return TableError(f"row {number}: {len(cells)} columns, expected {width}")
            width = len(cells)
            for column, cell in enumerate(cells, start=1):
                try:
                    float(cell)
                except ValueError:
                    hint = " (no header row is expected)" if number == 1 else ""
                    return TableError(
                        f"row {number}, column {column}: {cell!r} is not a number{hint}"
                    )
    except UnicodeDecodeError as error:
        return TableError(f"not UTF-8 text (byte {error.start})")
    return TableError("not a table of comma-separated numbers")

"""Hyperparameters, declared once as a dataclass and parsed from what SageMaker passes.

SageMaker passes every value as a string (``hyperparameters.json``); the training toolkit in
script mode also passes them as ``--name value`` flags and as the ``SM_HPS`` JSON, where it has
already decoded values; SDK framework estimators JSON-encode strings (``"\\"adam\\""``). All of
these are normalised to text and parsed by the field's parser, so one set of rules (and one set of
error messages) applies whichever way a value arrived.

Precedence, lowest first: ``hyperparameters.json``, ``SM_HPS``, command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sagemaker_contract.environment import read_json_file, read_json_variable
from sagemaker_contract.errors import ContractError

T = TypeVar("T")
Parser = Callable[[str], Any]

#: Keys SageMaker, the SDK and automatic model tuning add for their own use, and ignored here:
#: ``sagemaker_*`` (script mode), ``_tuning_*`` (tuning jobs) and ``model_dir`` (an S3 URI the SDK's
#: TensorFlow estimator adds; the model always goes to SM_MODEL_DIR).
RESERVED_PREFIXES = ("sagemaker_", "_")
RESERVED_NAMES = frozenset({"model_dir"})


def hyperparameter(default: Any, parse: Parser, help_text: str) -> Any:
    """Declare a dataclass field as a hyperparameter with its parser and documentation."""
    return dataclasses.field(default=default, metadata={"parse": parse, "help": help_text})


def integer(minimum: int) -> Parser:
    """Parser for a whole number ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"must be a whole number >= {minimum}") from None
        if value < minimum:
            raise ValueError(f"must be a whole number >= {minimum}")
        return value

    return parse


def real(accept: Callable[[float], bool], rule: str) -> Parser:
    """Parser for a finite number (``0.001``, ``1e-3``) that ``accept`` approves of."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and accept(value)):
            raise ValueError(rule)
        return value

    return parse


positive_real = real(lambda value: value > 0, "must be a finite number > 0")
non_negative_real = real(lambda value: value >= 0, "must be a finite number >= 0")
fraction = real(lambda value: 0 <= value < 1, "must be a number >= 0 and < 1")


def boolean(text: str) -> bool:
    """Parser for true/false (also 1/0, yes/no; any case)."""
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError("must be true or false")


def layer_sizes(text: str) -> tuple[int, ...]:
    """Parser for a non-empty list of layer widths: ``[64, 32]`` or ``64,32``."""
    message = "must be a non-empty list of whole numbers >= 1, like [64, 32] or 64,32"
    items: object
    try:
        items = json.loads(text) if text.startswith("[") else text.split(",")
    except json.JSONDecodeError:
        raise ValueError(message) from None
    if not isinstance(items, list) or not items:
        raise ValueError(message)
    try:
        sizes = tuple(int(str(item).strip()) for item in items)
    except ValueError:
        raise ValueError(message) from None
    if min(sizes) < 1:
        raise ValueError(message)
    return sizes


def auto_or(parse: Parser) -> Parser:
    """Wrap a parser so that the word ``auto`` means None (decide from the data or the machine)."""

    def parse_or_auto(text: str) -> Any:
        if text.lower() == "auto":
            return None
        try:
            return parse(text)
        except ValueError as error:
            raise ValueError(f"must be auto or {str(error).removeprefix('must be ')}") from None

    return parse_or_auto


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """The hyperparameters both frameworks' tabular classifiers accept.

    ``auto`` (None here) means decided from the data by ``sagemaker_contract.plan``.
    """

    epochs: int | None = hyperparameter(
        None, auto_or(integer(1)), "passes over the train rows; auto = enough optimizer steps"
    )
    batch_size: int | None = hyperparameter(
        None,
        auto_or(integer(1)),
        "global mini-batch size, split evenly across training processes; auto = grows with "
        "the table",
    )
    learning_rate: float = hyperparameter(
        3e-3, positive_real, "peak AdamW learning rate (linear warm-up, then cosine decay)"
    )
    weight_decay: float = hyperparameter(1e-4, non_negative_real, "AdamW weight decay")
    hidden_sizes: tuple[int, ...] = hyperparameter(
        (64, 32), layer_sizes, "widths of the hidden layers, e.g. [64, 32]"
    )
    dropout: float = hyperparameter(0.1, fraction, "dropout after each hidden layer")
    validation_fraction: float | None = hyperparameter(
        None,
        auto_or(fraction),
        "share of the train rows held out for early stopping when there is no validation "
        "channel; auto = 0.2 (none for tiny tables), 0 = none",
    )
    early_stopping_patience: int | None = hyperparameter(
        None,
        auto_or(integer(0)),
        "stop after this many epochs without a better validation loss; auto = a quarter of "
        "the epochs (at least 10), 0 = never",
    )
    num_classes: int | None = hyperparameter(
        None, auto_or(integer(2)), "number of classes; auto = largest train label + 1"
    )
    mixed_precision: bool = hyperparameter(
        False, boolean, "float16 autocast on GPU, bfloat16 on CPU"
    )
    seed: int = hyperparameter(0, integer(0), "seed for initialisation, shuffling and hold-out")


H = TypeVar("H", bound=Hyperparameters)


def as_text(value: object) -> str:
    """Normalise a raw value to the text its parser reads.

    Strings are stripped, and a JSON string literal (what SDK framework estimators send) is
    decoded; other JSON values (``SM_HPS`` holds decoded ones) are re-encoded as JSON.
    """
    if not isinstance(value, str):
        return json.dumps(value)
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(decoded, str):
            return decoded.strip()
    return text


def parse_hyperparameters(cls: type[H], raw: Mapping[str, object]) -> H:
    """Build ``cls`` from raw values, naming the hyperparameter and the rule on any error."""
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(
        name
        for name in raw
        if name not in fields
        and name not in RESERVED_NAMES
        and not name.startswith(RESERVED_PREFIXES)
    )
    if unknown:
        raise ContractError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; accepted: {', '.join(fields)}"
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in fields:
            continue
        text = as_text(value)
        try:
            values[name] = fields[name].metadata["parse"](text)
        except ValueError as error:
            raise ContractError(f"hyperparameter {name}={text!r} is invalid: {error}") from None
    return cls(**values)


def parse_command_line(argv: Sequence[str]) -> dict[str, str]:
    """Read ``--name value`` and ``--name=value`` pairs, the way the toolkit passes them."""
    values: dict[str, str] = {}
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("--") or len(token) == 2:
            raise ContractError(
                f"unexpected command-line argument {token!r}; pass hyperparameters as --name value"
            )
        name, separator, value = token[2:].partition("=")
        if not separator:
            if not tokens:
                raise ContractError(f"command-line flag {token} has no value")
            value = tokens.pop(0)
        values[name] = value
    return values


def gather_raw_hyperparameters(
    config_dir: Path, environ: Mapping[str, str], argv: Sequence[str]
) -> dict[str, object]:
    """Merge hyperparameters.json, ``SM_HPS`` and command-line flags (later ones win)."""
    raw: dict[str, object] = {}
    path = config_dir / "hyperparameters.json"
    if path.is_file():
        raw.update(_object(read_json_file(path, "hyperparameters file"), str(path)))
    if environ.get("SM_HPS"):
        raw.update(_object(read_json_variable(environ, "SM_HPS"), "SM_HPS"))
    raw.update(parse_command_line(argv))
    return raw


def _object(value: object, source: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ContractError(f"{source} must hold a JSON object of hyperparameters")
    return value

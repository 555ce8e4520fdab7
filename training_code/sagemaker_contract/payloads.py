"""Request and response bodies of the inference endpoint, shared by both frameworks' handlers.

Requests, one row of features per instance (no label):
  - ``text/csv``: comma-separated rows, no header;
  - ``application/json``: ``{"instances": [[f1, f2, ...], ...]}``.
Responses, by ``Accept`` (default JSON):
  - ``application/json``: ``{"predictions": [{"predicted_label": 1, "probabilities": [...]}]}``
    (the same shape TensorFlow Serving returns for our SavedModel's signature);
  - ``text/csv``: one line per row, the label and then each class probability.
Malformed input raises ``RequestError`` with the HTTP status to answer and a clear message.

``transform`` is the whole request-to-response path as the inference toolkit's ``transform_fn``:
the hook that lets a handler answer a client's mistake itself under AWS's model server, which
would otherwise answer 500 with a traceback (see ``errors.RequestError``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sagemaker_contract.csv_table import TableError, numeric_table
from sagemaker_contract.errors import RequestError

JSON = "application/json"
CSV = "text/csv"
TEXT = "text/plain; charset=utf-8"
REQUEST_TYPES = (CSV, JSON)
RESPONSE_TYPES = (JSON, CSV)
EMPTY_BODY = "the request body is empty; send rows of features"
log = logging.getLogger(__name__)
_WILDCARDS = {"*/*": None, "application/*": JSON, "text/*": CSV}


@dataclass(frozen=True)
class Predictions:
    """What a model returns for a batch: a class index per row and the class probabilities."""

    labels: np.ndarray
    probabilities: np.ndarray


class ResponseContext(Protocol):
    """The part of the model server's request context that ``transform`` uses: TorchServe's
    ``ts.context.Context``, which the inference toolkit passes to ``transform_fn``."""

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None: ...


def media_type(header: str | None) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv``."""
    return (header or "").split(";")[0].strip().lower()


def decode_features(body: bytes | bytearray | str, content_type: str | None) -> np.ndarray:
    """Parse a request body into a float32 matrix, one row per instance."""
    kind = media_type(content_type)
    if kind not in REQUEST_TYPES:
        raise RequestError(
            415,
            f"Content-Type {content_type or '(none)'!r} is not supported; "
            f"send {' or '.join(REQUEST_TYPES)}",
        )
    try:
        text = body if isinstance(body, str) else bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(400, f"{kind} body is not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise RequestError(400, EMPTY_BODY)
    rows = _csv_rows(text) if kind == CSV else _json_rows(text)
    if rows.size == 0:
        raise RequestError(400, f"{kind} body has no rows")
    with np.errstate(over="ignore"):
        features = rows.astype(np.float32)
    bad = np.argwhere(~np.isfinite(features))
    if bad.size:
        row, column = (int(i) for i in bad[0])
        raise RequestError(
            400, f"{kind} body row {row + 1}, column {column + 1}: not a finite float32 number"
        )
    return features


def check_feature_count(features: np.ndarray, expected: int) -> None:
    """Reject rows whose width is not the model's number of features."""
    if features.shape[1] != expected:
        raise RequestError(
            400, f"each row needs {expected} features (no label), got {features.shape[1]}"
        )


def negotiate(accept: str | None, default: str = JSON) -> str:
    """The response type for an ``Accept`` header: the first supported entry, in its order."""
    for entry in (accept or "*/*").split(","):
        kind = media_type(entry)
        if kind in RESPONSE_TYPES:
            return kind
        if kind in _WILDCARDS:
            return _WILDCARDS[kind] or default
    raise RequestError(
        406, f"Accept {accept!r} is not supported; ask for {' or '.join(RESPONSE_TYPES)}"
    )


def encode_predictions(predictions: Predictions, accept: str) -> bytes:
    """Serialise predictions as ``accept`` (one of RESPONSE_TYPES), probabilities to 6 places."""
    probabilities = np.round(predictions.probabilities.astype(np.float64), 6)
    labels = predictions.labels.astype(np.int64).tolist()
    if accept == CSV:
        lines = (
            ",".join([str(label), *(f"{p:.6f}" for p in row)])
            for label, row in zip(labels, probabilities, strict=True)
        )
        return ("\n".join(lines) + "\n").encode("utf-8")
    return json.dumps(
        {
            "predictions": [
                {"predicted_label": label, "probabilities": row}
                for label, row in zip(labels, probabilities.tolist(), strict=True)
            ]
        }
    ).encode("utf-8")


def input_fn(request_body: bytes | bytearray | str, request_content_type: str | None) -> np.ndarray:
    """Inference toolkit hook: the request body as a float32 feature matrix."""
    return decode_features(request_body, request_content_type)


def output_fn(prediction: Predictions, accept: str | None) -> bytes:
    """Inference toolkit hook: the predictions serialised for the ``Accept`` header."""
    return encode_predictions(prediction, negotiate(accept))


def transform(
    predict: Callable[[np.ndarray], Predictions],
    body: bytes | bytearray | str,
    content_type: str | None,
    accept: str | None,
    context: ResponseContext | None = None,
) -> tuple[bytes, str]:
    """The inference toolkit's ``transform_fn`` for a model's ``predict(features)``.

    Returns the response body and its content type. A request the client got wrong raises
    ``RequestError`` when there is no ``context`` (this project's ``serve`` answers it); with the
    model server's ``context`` it is answered here: the error's status on the context and its
    message as a text/plain body.
    """
    try:
        response_type = negotiate(accept)
        predictions = predict(decode_features(body, content_type))
        return encode_predictions(predictions, response_type), response_type
    except RequestError as error:
        if context is None:
            raise
        log.warning("invocation answered %d: %s", error.status, error.message)
        context.set_response_status(code=error.status, phrase=error.phrase)
        return error.message.encode("utf-8"), TEXT


def _csv_rows(text: str) -> np.ndarray:
    try:
        return numeric_table(text)
    except TableError as error:
        raise RequestError(400, f"{CSV} body {error}") from None


def _json_rows(text: str) -> np.ndarray:
    shape = '{"instances": [[feature, ...], ...]}'
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(400, f"{JSON} body is not valid JSON: {error}") from None
    except RecursionError:
        raise RequestError(400, f"{JSON} body is nested too deeply") from None
    except ValueError as error:  # e.g. an integer beyond Python's digit limit
        raise RequestError(400, f"{JSON} body has a value out of range: {error}") from None
    instances = document.get("instances") if isinstance(document, dict) else None
    if not isinstance(instances, list):
        raise RequestError(400, f"{JSON} body must be an object {shape}")
    if not instances:
        return np.empty((0, 0))
    for number, row in enumerate(instances, start=1):
        if not (
            isinstance(row, list)
            and row
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in row)
        ):
            raise RequestError(
                400,
                f"{JSON} instance {number} must be a non-empty list of numbers, "
                f"got {_preview(row)}",
            )
        if len(row) != len(instances[0]):
            raise RequestError(
                400, f"{JSON} instance {number} has {len(row)} values, expected {len(instances[0])}"
            )
    try:
        return np.array(instances, dtype=np.float64).reshape(len(instances), -1)
    except OverflowError:
        raise RequestError(400, f"{JSON} body has a number too large for float64") from None


def _preview(value: object, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

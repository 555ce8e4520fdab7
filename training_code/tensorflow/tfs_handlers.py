"""Pre- and post-processing for AWS's TensorFlow Serving containers (``tensorflow-inference``).

The container serves the SavedModel in ``/opt/ml/model/1/`` with TensorFlow Serving, and, when
model.tar.gz holds ``code/inference.py``, puts its Python service in front: every
``POST /invocations`` is answered by the script's ``handler(data, context)`` if it defines one,
else by ``input_handler(data, context)`` -> TensorFlow Serving's REST ``predict`` ->
``output_handler(response, context)``. ``data`` is the request body stream; ``context`` carries
``request_content_type``, ``accept_header`` (both default to ``application/json``) and
``rest_uri``. The container puts ``code/`` (and ``code/lib``) on the path, and would pip-install
``code/requirements.txt``, which fails under network isolation: these handlers need only numpy,
``requests`` (both in the container) and the standard library, not TensorFlow's Python package.

Status codes: the container answers any exception a handler raises with 500 and
``{"error": "<message>"}``, and sets 200 before it calls the handler. A client's mistake would
then count as a server error (and fire the endpoint's 5XX alarm), so ``handler`` catches
``RequestError`` and sets its 4xx status on the response object the container is filling (see
``_set_container_status``), with the same ``{"error": ...}`` body. Anything else still raises
and is the container's 500.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
from sagemaker_contract.errors import RequestError
from sagemaker_contract.payloads import (
    JSON,
    Predictions,
    check_feature_count,
    decode_features,
    encode_predictions,
    negotiate,
)

#: Written next to this file by the export: the model's number of features and classes.
MODEL_SPEC_FILE = "model_spec.json"
#: SageMaker ends an invocation after 60 s; the call to TensorFlow Serving may take all of it.
PREDICT_TIMEOUT_SECONDS = 60
#: The container's method that calls ``handler`` and owns the response (``res``) it answers.
_CONTAINER_INVOCATION = "_handle_invocation_post"


class Context(Protocol):
    """The fields of the container's request context that these handlers read."""

    @property
    def rest_uri(self) -> str: ...
    @property
    def request_content_type(self) -> str: ...
    @property
    def accept_header(self) -> str: ...


class ServingResponse(Protocol):
    """What TensorFlow Serving's REST call returns (a ``requests.Response``)."""

    @property
    def status_code(self) -> int: ...
    @property
    def content(self) -> bytes: ...


def input_handler(data: BinaryIO, context: Context) -> str:
    """The request body (CSV or our JSON) as TensorFlow Serving's row-format predict request."""
    negotiate(context.accept_header)  # an Accept we cannot answer fails before the model runs
    body = data.read()
    if not body:
        raise RequestError(400, "the request body is empty; send rows of features")
    features = decode_features(body, context.request_content_type)
    expected = _expected_features()
    if expected is not None:
        check_feature_count(features, expected)
    return json.dumps({"signature_name": "serving_default", "instances": features.tolist()})


def output_handler(response: ServingResponse, context: Context) -> tuple[bytes, str]:
    """TensorFlow Serving's predictions in the format ``Accept`` asks for, and its type."""
    if response.status_code != HTTPStatus.OK:
        raise RuntimeError(
            f"TensorFlow Serving answered {response.status_code}: {_serving_error(response)}"
        )
    rows = json.loads(response.content)["predictions"]
    predictions = Predictions(
        labels=np.array([row["predicted_label"] for row in rows], dtype=np.int64),
        probabilities=np.array([row["probabilities"] for row in rows], dtype=np.float64),
    )
    accept = negotiate(context.accept_header)
    return encode_predictions(predictions, accept), accept


def handler(data: BinaryIO, context: Context) -> tuple[bytes, str]:
    """``input_handler`` -> TensorFlow Serving -> ``output_handler``; a client's mistake is 4xx."""
    import requests  # in the container; imported here so the hooks above import without it

    try:
        request = input_handler(data, context)
        response = requests.post(context.rest_uri, data=request, timeout=PREDICT_TIMEOUT_SECONDS)
        return output_handler(response, context)
    except RequestError as error:
        if not _set_container_status(error.status):
            raise  # not under the container's invocation: let the caller answer it
        return json.dumps({"error": error.message}).encode("utf-8"), JSON


def _set_container_status(status: int) -> bool:
    """Set ``status`` on the response the container's ``_handle_invocation_post`` is filling.

    The container's handler contract returns only a body and a content type, so the status is
    set where the container keeps it: the falcon response ``res`` of the calling method, which
    it set to 200 before calling ``handler`` and leaves alone when ``handler`` returns. Returns
    False (nothing changed) when no such caller is on the stack.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == _CONTAINER_INVOCATION:
            response: Any = frame.f_locals.get("res")
            if response is None or not hasattr(response, "status"):
                return False
            response.status = f"{status} {HTTPStatus(status).phrase}"
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@cache
def _expected_features() -> int | None:
    """The model's feature count from ``code/model_spec.json``; None outside a model.tar.gz."""
    spec = Path(__file__).resolve().parent / MODEL_SPEC_FILE
    if not spec.is_file():
        return None
    return int(json.loads(spec.read_text(encoding="utf-8"))["n_features"])


def _serving_error(response: ServingResponse) -> str:
    try:
        return str(json.loads(response.content)["error"])
    except (ValueError, KeyError, TypeError):
        return response.content[:200].decode("utf-8", "replace")

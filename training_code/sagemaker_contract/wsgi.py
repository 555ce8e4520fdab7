"""The HTTP half of the hosting contract: a WSGI application around inference handler hooks.

A handler is a module with the SageMaker inference toolkit's hooks, so the same ``inference.py``
runs here and in AWS's PyTorch inference containers: ``model_fn(model_dir)`` and either
``transform_fn(model, body, content_type, accept)`` or the three steps ``input_fn(body,
content_type)``, ``predict_fn(data, model)`` and ``output_fn(prediction, accept)``, as the
toolkit's Transformer takes them.

Routes: ``GET /ping`` answers 200 (the app exists only once the model is loaded);
``POST /invocations`` answers the prediction, or 4xx with a plain-text message for a request the
client got wrong (400 malformed or empty body, 406 Accept, 413 too large, 415 Content-Type) and
500 for anything else, which is logged and never takes the server down.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

from sagemaker_contract.errors import RequestError
from sagemaker_contract.payloads import JSON, negotiate

#: botocore's InvokeEndpoint Body limit (6 MB) and SageMaker's real-time payload limit.
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
#: A too-large body is read and discarded up to this many times the limit, so that a client still
#: sending it can read the 413 (the server drains any rest before the connection's next request).
_DRAIN_FACTOR = 4
_CHUNK = 1 << 16
STEP_HOOKS = ("input_fn", "predict_fn", "output_fn")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
log = logging.getLogger(__name__)


def load_handler(path: Path) -> ModuleType:
    """Import the handler module at ``path`` and check that it defines every hook.

    Its directory joins ``sys.path`` (last), as the inference toolkit adds ``code/``, so that
    the handler can import its neighbours.
    """
    spec = importlib.util.spec_from_file_location("inference_handler", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"inference handler {path} does not exist")
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: dataclasses and pickling look it up
    spec.loader.exec_module(module)
    steps = [hook for hook in STEP_HOOKS if _has(module, hook)]
    if _has(module, "transform_fn") and steps:
        raise AttributeError(  # the toolkit refuses this pair too
            f"inference handler {path} defines transform_fn and {', '.join(steps)}; "
            "define transform_fn or the three steps, not both"
        )
    needed = ("model_fn", *(() if _has(module, "transform_fn") else STEP_HOOKS))
    missing = [hook for hook in needed if not _has(module, hook)]
    if missing:
        raise AttributeError(f"inference handler {path} does not define {', '.join(missing)}")
    return module


def _has(module: ModuleType, hook: str) -> bool:
    return callable(getattr(module, hook, None))


class InvocationsApp:
    """WSGI application serving ``model`` through ``handler``'s hooks."""

    def __init__(
        self,
        handler: ModuleType,
        model: object,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        default_accept: str = JSON,
    ) -> None:
        self.handler = handler
        self.model = model
        self.max_body_bytes = max_body_bytes
        self.default_accept = default_accept

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        routes = {"/ping": ("GET", "HEAD"), "/invocations": ("POST",)}
        if path not in routes:
            return _respond(start_response, 404, f"no route {path}; use /ping or /invocations")
        if method not in routes[path]:
            return _respond(start_response, 405, f"{path} accepts {' or '.join(routes[path])}")
        if path == "/ping":
            return _respond(start_response, 200, "")
        try:
            accept = negotiate(environ.get("HTTP_ACCEPT"), self.default_accept)
            body = self._read_body(environ)
            response, content_type = self._transform(body, environ.get("CONTENT_TYPE"), accept)
        except RequestError as error:
            log.warning("invocation answered %d: %s", error.status, error.message)
            return _respond(start_response, error.status, error.message)
        except Exception as error:  # one bad request must not take the server down
            log.exception("invocation failed")
            return _respond(
                start_response, 500, f"prediction failed: {type(error).__name__}: {error}"
            )
        return _respond(start_response, 200, response, content_type=content_type)

    def _transform(
        self, body: bytes, content_type: str | None, accept: str
    ) -> tuple[bytes | str, str]:
        """The handler's answer and its content type, as the toolkit's Transformer gets them."""
        if _has(self.handler, "transform_fn"):
            result = self.handler.transform_fn(self.model, body, content_type, accept)
        else:
            data = self.handler.input_fn(body, content_type)
            prediction = self.handler.predict_fn(data, self.model)
            result = self.handler.output_fn(prediction, accept)
        if isinstance(result, tuple):  # (body, content type), as the toolkit accepts it
            return result[0], result[1]
        return result, accept

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            _drain(stream, min(int(declared), self.max_body_bytes * _DRAIN_FACTOR))
            raise RequestError(413, self._too_large(f"{declared} bytes"))
        body: bytes = stream.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            raise RequestError(413, self._too_large(f"over {self.max_body_bytes} bytes"))
        return body

    def _too_large(self, size: str) -> str:
        return f"the request body is {size}; the limit is {self.max_body_bytes} bytes"


def _drain(stream: Any, size: int) -> None:
    while size > 0:
        chunk = stream.read(min(size, _CHUNK))
        if not chunk:
            return
        size -= len(chunk)


def _respond(
    start_response: StartResponse,
    status: int,
    body: str | bytes,
    *,
    content_type: str = "text/plain; charset=utf-8",
) -> list[bytes]:
    payload = body.encode("utf-8") if isinstance(body, str) else body
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [payload]

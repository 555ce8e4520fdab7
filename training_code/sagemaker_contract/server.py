"""``serve``: the hosting contract's HTTP server, gunicorn with threaded workers.

gunicorn binds the port before the workers start; each worker imports the handler and loads the
model (so ``/ping`` answers only once a model is in memory), then serves requests on a few
threads, so a slow prediction does not block health checks. A worker that cannot load the model
stops the server with a non-zero exit. SIGTERM (endpoint update or deletion; SIGKILL follows
30 seconds later) is a graceful stop: in-flight requests finish within ``GRACEFUL_TIMEOUT``.

Settings come from the SageMaker inference toolkit's variables: ``SAGEMAKER_BIND_TO_PORT``
(default 8080), ``SAGEMAKER_MODEL_SERVER_WORKERS`` (1), ``SAGEMAKER_MODEL_SERVER_TIMEOUT`` (60 s),
``SAGEMAKER_MAX_PAYLOAD_IN_MB`` (6) and ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from sagemaker_contract.environment import model_dir
from sagemaker_contract.errors import ContractError
from sagemaker_contract.payloads import JSON, RESPONSE_TYPES, media_type
from sagemaker_contract.wsgi import DEFAULT_MAX_BODY_BYTES, InvocationsApp, load_handler

THREADS_PER_WORKER = 4
GRACEFUL_TIMEOUT = 20
_SHARED_MEMORY = Path("/dev/shm")  # gunicorn's advice for its heartbeat files in containers


@dataclass(frozen=True)
class ServingSettings:
    """How the server runs; read from the environment with ``from_environ``."""

    model_dir: Path
    port: int = 8080
    workers: int = 1
    timeout: int = 60
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    default_accept: str = JSON

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ServingSettings:
        """Read and validate the toolkit's serving variables."""
        default_accept = environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
        if media_type(default_accept) not in RESPONSE_TYPES:
            raise ContractError(
                f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT={default_accept!r} is not one of "
                f"{', '.join(RESPONSE_TYPES)}"
            )
        return cls(
            model_dir=model_dir(environ),
            port=_integer(environ, "SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
            workers=_integer(environ, "SAGEMAKER_MODEL_SERVER_WORKERS", 1, 1, 256),
            timeout=_integer(environ, "SAGEMAKER_MODEL_SERVER_TIMEOUT", 60, 1, 3600),
            max_body_bytes=_integer(environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB", 6, 1, 1024) << 20,
            default_accept=media_type(default_accept),
        )


class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, settings: ServingSettings, handler_path: Path) -> None:
        self.settings = settings
        self.handler_path = handler_path
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"0.0.0.0:{self.settings.port}",
            "workers": self.settings.workers,
            "worker_class": "gthread",
            "threads": THREADS_PER_WORKER,
            "timeout": self.settings.timeout,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
            "control_socket_disable": True,  # no runtime control, no socket shared across servers
        }
        if _SHARED_MEMORY.is_dir():
            options["worker_tmp_dir"] = str(_SHARED_MEMORY)
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> InvocationsApp:
        """Runs in each worker: import the handler and load the model."""
        handler = load_handler(self.handler_path)
        model = handler.model_fn(str(self.settings.model_dir))
        return InvocationsApp(
            handler,
            model,
            max_body_bytes=self.settings.max_body_bytes,
            default_accept=self.settings.default_accept,
        )


def serve(handler_path: Path, environ: Mapping[str, str] = os.environ) -> None:
    """Run the server until SIGTERM; exits non-zero if the model cannot be loaded."""
    _Server(ServingSettings.from_environ(environ), handler_path).run()


def _integer(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = environ.get(name) or str(default)
    if not (text.isdigit() and low <= int(text) <= high):
        raise ContractError(f"{name}={text!r} must be a whole number from {low} to {high}")
    return int(text)

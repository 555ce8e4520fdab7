"""TorchServe's Python model worker, driven as TorchServe's Java frontend drives it.

A SageMaker PyTorch endpoint (AWS's ``pytorch-inference`` container) runs TorchServe: its Java
frontend takes the HTTP request and hands it over a Unix socket to a Python worker,
``ts.model_service_worker``, which loads the model with the handler the container registers
(``sagemaker_pytorch_serving_container.handler_service``: the SageMaker inference toolkit's
Transformer on TorchServe's ``Context``) and answers each request with the status, content type
and body that the frontend sends back. ``TorchServeWorker`` starts that real worker process and
speaks the frontend's side of its binary protocol (``ts.protocol.otf_message_handler``): one load
message, then one inference message per request. The frontend itself (Java) is not run.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

#: The handler AWS's PyTorch inference container gives TorchServe (its default-ts.properties).
HANDLER = "sagemaker_pytorch_serving_container.handler_service"
#: The frontend starts each worker with the socket path ``<name>.<port>``.
SOCKET_NAME = "ts.sock.9000"
#: The container's TorchServe settings, and those the frontend hands each worker as variables.
TS_PROPERTIES = "sagemaker_pytorch_serving_container/etc/default-ts.properties"
WORKER_SETTINGS = {"decode_input_request": "TS_DECODE_INPUT_REQUEST"}


@dataclass(frozen=True)
class WorkerResponse:
    """What the worker answers for one request: the frontend's HTTP status, type and body."""

    status: int
    phrase: str
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class TorchServeWorker:
    """``python -m ts.model_service_worker`` for the model in ``model_dir``; a context manager."""

    def __init__(self, model_dir: Path, socket_dir: Path, environment: Mapping[str, str]) -> None:
        self.model_dir = model_dir
        self.socket_path = socket_dir / SOCKET_NAME
        self.log_path = socket_dir / "worker.log"
        self._environment = {**environment, **_worker_settings(environment)}
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: socket.socket | None = None
        self._requests = 0

    def __enter__(self) -> TorchServeWorker:
        metrics = _ts_package(self._environment) / "configs" / "metrics.yaml"
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "ts.model_service_worker", "--sock-type", "unix"),
                    *("--sock-name", str(self.socket_path), "--metrics-config", str(metrics)),
                ],
                env=self._environment,
                cwd=self.socket_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._connection = self._connect()
        status, message = self._load()
        if status != 200:
            raise RuntimeError(f"the worker did not load the model: {status} {message}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            self._connection.close()  # the worker exits when the frontend disconnects
        if self._process is not None:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def invoke(self, body: bytes, headers: Mapping[str, str]) -> WorkerResponse:
        """One inference request, as the frontend forwards ``POST /invocations``."""
        self._requests += 1
        request_id = f"request-{self._requests}".encode()
        content_type = next(
            (value for name, value in headers.items() if name.lower() == "content-type"), ""
        )
        frame = bytearray(b"I") + _buffer(request_id)
        for name, value in headers.items():
            frame += _buffer(name.encode()) + _buffer(value.encode())
        frame += _END
        frame += _buffer(b"body") + _buffer(content_type.encode()) + _buffer(body)
        frame += _END + _END
        self.connection.sendall(frame)
        return self._read_prediction()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def connection(self) -> socket.socket:
        if self._connection is None:
            raise RuntimeError("the worker has not been started")
        return self._connection

    def _connect(self, timeout: float = 120) -> socket.socket:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log_text()}")
            if self.socket_path.exists():
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    connection.connect(str(self.socket_path))
                    return connection
                except OSError:
                    connection.close()
            time.sleep(0.1)
        raise TimeoutError(f"the worker did not listen within {timeout} s:\n{self.log_text()}")

    def _load(self) -> tuple[int, str]:
        frame = bytearray(b"L") + _buffer(b"model") + _buffer(str(self.model_dir).encode())
        frame += struct.pack("!i", 1)  # batch size: SageMaker endpoints send one request
        frame += _buffer(HANDLER.encode())
        frame += struct.pack("!i", -1)  # no GPU
        frame += _buffer(b"")  # no envelope
        frame += struct.pack("!?", True)  # limitMaxImagePixels
        self.connection.sendall(frame)
        status, message = self._int(), self._text()
        assert self._int() == -1  # a load answer carries no predictions
        return status, message

    def _read_prediction(self) -> WorkerResponse:
        self._int(), self._text()  # the batch's own status and message
        responses = []
        while (length := self._int()) != -1:
            self._exactly(length)  # request id
            content_type = self._text()
            status, phrase = self._int(), self._text()
            for _ in range(self._int()):  # response headers
                self._text(), self._text()
            body = self._exactly(self._int())
            responses.append(WorkerResponse(status, phrase, content_type, body))
        (response,) = responses
        return response

    def _int(self) -> int:
        value: int = struct.unpack("!i", self._exactly(4))[0]
        return value

    def _text(self) -> str:
        return self._exactly(self._int()).decode("utf-8")

    def _exactly(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = self.connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError(f"the worker closed the connection:\n{self.log_text()}")
            data += chunk
        return bytes(data)


_END = struct.pack("!i", -1)


def _buffer(data: bytes) -> bytes:
    return struct.pack("!i", len(data)) + data


def _installed(environment: Mapping[str, str], path: str) -> Path:
    """``path`` in the first folder of the environment's PYTHONPATH that has it."""
    for folder in environment.get("PYTHONPATH", "").split(":"):
        if (Path(folder) / path).exists():
            return Path(folder) / path
    raise FileNotFoundError(f"{path} is not installed in any PYTHONPATH folder")


def _ts_package(environment: Mapping[str, str]) -> Path:
    return _installed(environment, "ts")


def _worker_settings(environment: Mapping[str, str]) -> dict[str, str]:
    """The container's default-ts.properties settings that reach the worker as variables
    (TorchServe's ConfigManager: ``decode_input_request=false`` -> TS_DECODE_INPUT_REQUEST, so
    the worker passes request bodies on as bytes)."""
    settings = {}
    for line in _installed(environment, TS_PROPERTIES).read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if name.strip() in WORKER_SETTINGS:
            settings[WORKER_SETTINGS[name.strip()]] = value.strip()
    return settings

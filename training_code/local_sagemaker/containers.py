"""The containers' entry points run as local processes, and what SageMaker does between them.

``run_training`` is ``docker run IMAGE train``; ``pack_model`` / ``unpack_model`` are SageMaker
tarring ``/opt/ml/model`` into model.tar.gz and extracting it for an endpoint; ``ModelServer`` is
``docker run IMAGE serve`` plus an HTTP client for its port.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .tree import SageMakerTree

TRAINING_CODE = Path(__file__).resolve().parents[1]
ENTRYPOINT = TRAINING_CODE / "entrypoint.py"
FRAMEWORKS = ("pytorch", "tensorflow")
INVOCATION_TIMEOUT = 70  # seconds: SageMaker's 60 s limit plus slack, as AWS advises clients


def container_command(framework: str, command: str, *args: str) -> list[str]:
    """The image's ENTRYPOINT with ``command`` (train or serve), run from this checkout."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return [sys.executable, str(ENTRYPOINT), str(TRAINING_CODE / framework), command, *args]


def run_training(
    framework: str,
    tree: SageMakerTree,
    *,
    args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``train`` against ``tree`` to completion; output captured, exit code not checked."""
    return subprocess.run(
        container_command(framework, "train", *args),
        env=tree.environment(extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pack_model(model_dir: Path, tarball: Path) -> Path:
    """Tar ``model_dir``'s contents at the archive root, as SageMaker builds model.tar.gz."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "w:gz") as archive:
        for entry in sorted(model_dir.iterdir()):
            archive.add(entry, arcname=entry.name)
    return tarball


def unpack_model(tarball: Path, model_dir: Path) -> Path:
    """Extract model.tar.gz into ``model_dir``, as SageMaker prepares an endpoint's container."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        archive.extractall(model_dir, filter="data")
    return model_dir


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class ModelServer:
    """``serve`` for ``framework`` on ``port`` with ``tree.model_dir`` as /opt/ml/model.

    A context manager: entering starts the server and waits for ``GET /ping``; leaving sends
    SIGTERM and waits for a clean exit. The server's output goes to ``<tree>/serve.log``.
    """

    def __init__(
        self,
        framework: str,
        tree: SageMakerTree,
        port: int,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.log_path = tree.base / "serve.log"
        self._command = container_command(framework, "serve")
        self._env = tree.environment({"SAGEMAKER_BIND_TO_PORT": str(port), **(extra_env or {})})
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ModelServer:
        """Start the server process (returns at once; see ``wait_until_healthy``)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._command, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_until_healthy(self, timeout: float = 120) -> None:
        """Poll ``GET /ping`` until it answers 200; fail with the server's log if it exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"serve exited with code {self.process.returncode}:\n{self.log_text()}"
                )
            try:
                if self.request("GET", "/ping", timeout=2).status == 200:
                    return
            except (OSError, http.client.HTTPException):  # not listening or not ready yet
                pass
            time.sleep(0.2)
        raise TimeoutError(f"serve did not answer /ping within {timeout} s:\n{self.log_text()}")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = INVOCATION_TIMEOUT,
    ) -> Response:
        """Send one request on a fresh connection and read the whole response."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            return Response(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def invoke(self, body: bytes, content_type: str, accept: str = "application/json") -> Response:
        """``POST /invocations``, as InvokeEndpoint forwards it."""
        return self.request(
            "POST", "/invocations", body, {"Content-Type": content_type, "Accept": accept}
        )

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as SageMaker stops an endpoint's container; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("the server has not been started")
        return self._process

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> ModelServer:
        self.start().wait_until_healthy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.stop()

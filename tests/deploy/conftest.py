"""Fixtures for the deploy commands: scripts/ importable, a command runner, process checks, and
a proxy that holds a deploy at a point the test chooses.

The modules under scripts/ are plain scripts (`python scripts/deploy.py`) that import their
siblings by name, so the tests put scripts/ on sys.path the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from cdk_env import tool_environment  # noqa: E402  (needs scripts/ on sys.path)

__all__ = [
    "SCRIPTS",
    "HoldingProxy",
    "ProxiedRequest",
    "emulator_processes",
    "run_script",
    "tool_environment",
    "wait_until_gone",
]

#: Safety net only, for a loaded machine: the waits below end on an event long before.
SAFETY_TIMEOUT_S = 900
#: The environment variable that tells this test's emulators from other sessions' ones.
EMULATOR_MARKER = "SAGEMAKER_IAC_TEST_EMULATOR_MARKER"
#: Headers that belong to one HTTP connection, not to the request or response it carries.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
)


def run_script(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `python scripts/SCRIPT ARGS` from the repository root, as a user does."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=REPO_ROOT,
        env=env if env is not None else tool_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def emulator_processes(marker: str | None = None) -> list[int]:
    """Process ids of the emulator servers (`scripts/emulator.py serve`) on this machine; with
    `marker`, only those started under `emulator_marker`'s value of it (by this test)."""
    found = []
    tag = f"{EMULATOR_MARKER}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0") if marker else []
        except OSError:
            continue
        if not any(part.endswith(b"scripts/emulator.py") for part in command):
            continue
        if b"serve" in command and (marker is None or tag in environ):
            found.append(int(entry.name))
    return found


def wait_until_gone(pid: int) -> None:
    """Wait until the emulator process `pid` has exited: a process killed on a busy machine
    takes a moment to go (the time limit is a safety net only)."""
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while pid in emulator_processes():
        assert time.monotonic() < deadline, f"emulator {pid} still runs {SAFETY_TIMEOUT_S} s on"
        time.sleep(0.1)


@pytest.fixture
def emulator_marker(monkeypatch: pytest.MonkeyPatch) -> str:
    """A value unique to this test in `EMULATOR_MARKER`, which every process it starts (and each
    emulator those start) inherits: other test sessions on the machine run emulators too."""
    marker = uuid.uuid4().hex
    monkeypatch.setenv(EMULATOR_MARKER, marker)
    return marker


@pytest.fixture
def no_stray_emulator(emulator_marker: str) -> Iterator[str]:
    """Fail the test if it leaves an emulator server running (and stop it then); yields the
    marker of the emulators this test starts."""
    yield emulator_marker
    leftovers = emulator_processes(emulator_marker)
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert not leftovers, f"emulator processes left running: {sorted(leftovers)}"


@dataclass(frozen=True)
class ProxiedRequest:
    """One request that went through a `HoldingProxy`: what the hold predicate looks at."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def is_api_call(self, operation: str, *names: str) -> bool:
        """Whether this calls `operation` (query or JSON protocol) and mentions every name."""
        target = self.headers.get("x-amz-target", "")
        text = self.body.decode("utf-8", errors="replace")
        called = f"Action={operation}&" in f"{text}&" or target.endswith(f".{operation}")
        return called and all(name in text for name in names)


class HoldingProxy:
    """An HTTP proxy in front of the emulator that holds one chosen request until released.

    Give a deploy `url` as its endpoint: every request (the CDK CLI's and boto3's) is forwarded
    unchanged to `target_url`, except the first one `hold_when` matches, which is never
    forwarded: `held` is set, and it waits until `release()` (or the context ends), then closes
    its connection without an answer. So a test can interrupt a deploy at a known point, while
    the CLI waits for that answer, instead of racing it.
    """

    def __init__(self, target_url: str, hold_when: Callable[[ProxiedRequest], bool]) -> None:
        target = urlsplit(target_url)
        assert target.hostname and target.port, target_url
        self.target = (target.hostname, target.port)
        self.hold_when = hold_when
        self.held = threading.Event()
        self.held_request: ProxiedRequest | None = None
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self._server.server_address[1]}"

    def release(self) -> None:
        """Let the held request (if any) end; later matches are forwarded as usual."""
        self._released.set()

    def claim(self, request: ProxiedRequest) -> bool:
        """Whether `request` is the one to hold (the first that matches)."""
        with self._lock:
            if self.held.is_set() or self._released.is_set() or not self.hold_when(request):
                return False
            self.held_request = request
            self.held.set()
            return True

    def wait_while_held(self) -> None:
        self._released.wait(SAFETY_TIMEOUT_S)

    def wait_until_held(self, process: subprocess.Popen[str]) -> ProxiedRequest:
        """Wait for the held request; fail at once if `process` exits first."""
        for _ in range(SAFETY_TIMEOUT_S):
            if self.held.wait(1):
                assert self.held_request is not None
                return self.held_request
            assert process.poll() is None, f"exited with {process.returncode} before the hold"
        raise AssertionError(f"no request was held within {SAFETY_TIMEOUT_S} s")

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs expect from AWS endpoints

    def do_request(self) -> None:
        proxy: HoldingProxy = self.server.proxy  # type: ignore[attr-defined]
        request = ProxiedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
        )
        if proxy.claim(request):
            proxy.wait_while_held()
            self.close_connection = True
            return
        connection = http.client.HTTPConnection(*proxy.target, timeout=SAFETY_TIMEOUT_S)
        try:
            connection.putrequest(
                self.command, self.path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or (lowered == "content-length" and self.command != "HEAD"):
                continue
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_request  # noqa: N815

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the emulator's own log has every request."""

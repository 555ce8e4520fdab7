"""An emulated AWS account on localhost: moto in server mode, in its own process group.

`Emulator` starts `python scripts/emulator.py serve` as a child process in a new session, reads
one handshake line (the bound port and the CloudFormation types moto implements) and stops the
whole process group again, also when the caller fails or is interrupted. The child applies the
fixes of `scripts/emulator_fixes.py` before it serves.

`emulator_environment` is the only environment a CDK or AWS CLI child process may get when it
talks to the emulator: the caller's AWS_* variables (credentials, profiles, endpoint overrides)
are removed and fake credentials plus the emulator's endpoint are set, so nothing can reach real
AWS by accident.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

#: The host the emulator binds. Clients use `localhost` (see `endpoint_url`).
BIND_HOST = "127.0.0.1"
#: moto's default account: what the emulator serves unless told otherwise.
DEFAULT_ACCOUNT = "123456789012"
#: Fake credentials for the emulator (moto accepts any).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b(?::.*)?$", re.MULTILINE)


class EmulatorError(Exception):
    """The emulator could not be started or used. The message is for humans."""


@dataclass(frozen=True)
class EmulatorInfo:
    """A running emulator.

    Attributes:
        endpoint_url: `http://localhost:<port>`. The host must be `localhost`: the CDK CLI's
            asset publishing fails with `127.0.0.1`.
        cloudformation_types: resource types moto's CloudFormation creates; others it skips.
    """

    endpoint_url: str
    cloudformation_types: frozenset[str]


def endpoint_url(port: int) -> str:
    """The URL clients use for an emulator on `port`."""
    return f"http://localhost:{port}"


def check_local_endpoint(url: str) -> str:
    """Return `url` if it points at this machine, else raise `EmulatorError`."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1") or not parts.port:
        raise EmulatorError(
            f"emulator endpoint {url!r} is not http://localhost:<port>; refusing to send "
            "emulator credentials anywhere else"
        )
    return url


def emulator_environment(
    url: str, region: str, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment for a child process that must talk to the emulator at `url` only.

    Every AWS_* variable of `base` (default: this process's environment) is dropped, including
    credentials, profiles and service-specific endpoint overrides; shared config and credential
    files are disabled; fake credentials, the region and the emulator endpoint are set.
    """
    check_local_endpoint(url)
    source = dict(os.environ if base is None else base)
    env = {key: value for key, value in source.items() if not key.startswith("AWS_")}
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def emulator_session(url: str, region: str) -> EndpointSession:
    """A boto3 session whose clients reach the emulator at `url` only, with fake credentials."""
    import boto3  # here, not at the top: the server process does not need it

    check_local_endpoint(url)
    session = boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
    return EndpointSession(session, url)


class EndpointSession:
    """A boto3 session wrapper that gives every client the same endpoint URL."""

    def __init__(self, session: Any, url: str) -> None:
        self._session = session
        self.endpoint_url = url

    def client(self, service: str) -> Any:
        """`boto3.Session.client(service)` at the emulator's URL."""
        return self._session.client(service, endpoint_url=self.endpoint_url)


def require_emulator_environment(env: dict[str, str]) -> None:
    """Fail unless `env` is an emulator environment (local endpoint, fake credentials)."""
    url = env.get("AWS_ENDPOINT_URL")
    if not url:
        raise EmulatorError("internal error: AWS_ENDPOINT_URL is missing for an emulator command")
    check_local_endpoint(url)
    if any(env.get(key) != value for key, value in FAKE_CREDENTIALS.items()):
        raise EmulatorError("internal error: an emulator command would get real credentials")
    overrides = [key for key in env if key.startswith("AWS_ENDPOINT_URL_")]
    if overrides:
        raise EmulatorError(f"internal error: service endpoint overrides leak: {overrides}")


class Emulator:
    """moto in server mode on localhost, as a context manager that always stops it.

    Args:
        log_path: where the server's own output goes (requests, moto warnings, tracebacks).
        port: the port to bind; 0 (default) lets the system pick a free one.
        account: the account id the emulator serves. Default: moto's, 123456789012.
    """

    def __init__(self, *, log_path: Path, port: int = 0, account: str = DEFAULT_ACCOUNT) -> None:
        self.log_path = log_path
        self.port = port
        self.account = account
        self.info: EmulatorInfo | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id (also its process group id), while it runs."""
        return self._process.pid if self._process else None

    def start(self) -> EmulatorInfo:
        """Start the server and wait until it listens.

        Raises:
            EmulatorError: the port is busy, or the server did not start (the message includes
                the end of its log).
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS)
        env["MOTO_ACCOUNT_ID"] = self.account
        command = [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(self.port)]
        with self.log_path.open("w", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
                start_new_session=True,
            )
        try:
            self.info = self._read_handshake(self._process)
        except BaseException:
            self.stop()
            raise
        return self.info

    def stop(self) -> None:
        """Stop the server and everything in its process group. Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # anything left in the group
        if process.stdout:
            process.stdout.close()

    def detach(self) -> int:
        """Leave the server running after this object is done; return its process group id."""
        if self._process is None:
            raise EmulatorError("the emulator is not running")
        pid = self._process.pid
        if self._process.stdout:
            self._process.stdout.close()
        self._process = None
        return pid

    def __enter__(self) -> EmulatorInfo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _read_handshake(self, process: subprocess.Popen[str]) -> EmulatorInfo:
        assert process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(STARTUP_TIMEOUT_S)
        if reader.is_alive():
            raise EmulatorError(
                f"the emulator did not start within {STARTUP_TIMEOUT_S:.0f} s "
                f"(log: {self.log_path})"
            )
        line = lines[0]
        if not line:  # the server exited before it listened
            raise EmulatorError(self._startup_failure(process.wait(timeout=STOP_TIMEOUT_S)))
        handshake = json.loads(line)
        return EmulatorInfo(
            endpoint_url=endpoint_url(int(handshake["port"])),
            cloudformation_types=frozenset(handshake["cloudformation_types"]),
        )

    def _startup_failure(self, returncode: int) -> str:
        if returncode == EXIT_PORT_BUSY:
            return (
                f"port {self.port} is already in use: stop what listens there, or leave out "
                "--port to use a free port"
            )
        tail = _tail(self.log_path, 15)
        return f"the emulator exited with status {returncode} while starting:\n{tail}"


def last_error(log_path: Path) -> str | None:
    """The last Python exception of the emulator log (a moto crash behind an HTTP 500), if any."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return last_error_in(text)


def last_error_in(text: str) -> str | None:
    """The last Python exception line (`KeyError: 'TagKey'`) of a log text, if any."""
    errors = _EXCEPTION_LINE.findall(text)
    return errors[-1].strip() if errors else None


def _tail(path: Path, count: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(lines[-count:])


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


# --- the server process ---------------------------------------------------------------------

#: Exit status of `serve` when the port is taken.
EXIT_PORT_BUSY = 3


def serve(port: int) -> int:
    """Apply the moto fixes, bind `port` (0: any free one), print the handshake line, serve."""
    import emulator_fixes  # this file's sibling: scripts/ is sys.path[0] in the server process
    from moto.cloudformation.parsing import get_model_map
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    fixes = emulator_fixes.apply_all()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((BIND_HOST, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(f"port {port} is already in use", file=sys.stderr)
            return EXIT_PORT_BUSY
        raise
    listener.listen(128)
    application = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        BIND_HOST,
        listener.getsockname()[1],
        application,
        threaded=True,
        request_handler=MotoRequestHandler,
        fd=listener.fileno(),
    )
    bound_port = int(listener.getsockname()[1])
    os.environ["MOTO_PORT"] = str(bound_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"emulator fixes applied: {', '.join(fixes)}", file=sys.stderr, flush=True)
    handshake = {"port": bound_port, "cloudformation_types": sorted(get_model_map())}
    print(json.dumps(handshake), flush=True)
    server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve an emulated AWS account (moto).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server in the foreground")
    serve_parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    return serve(args.port)


if __name__ == "__main__":
    sys.exit(main())

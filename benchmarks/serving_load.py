#!/usr/bin/env python3
"""The local inference server of each framework under load and abuse, on 127.0.0.1 only.

    python benchmarks/serving_load.py [--frameworks pytorch tensorflow] [--requests 2000]
                                      [--clients 16] [--seed 0]

For each framework: train a small model with the real ``train`` entry point under a temporary
SageMaker tree, pack ``model.tar.gz`` and extract it for serving as SageMaker does, start the real
``serve`` on a free port, then send ``--requests`` ``POST /invocations`` from ``--clients``
concurrent clients, each request on a fresh connection. The mix, fixed by ``--seed``: valid CSV
and JSON payloads (1 to 32 rows, JSON, CSV or any Accept), malformed CSV and JSON, unsupported
Content-Type and Accept, empty bodies and bodies over the 6 MB limit. Meanwhile another client
polls ``GET /ping`` every 100 ms with SageMaker's 2 s health-check timeout.

Printed per framework: requests/s, p50/p99 latency of the valid requests (request sent to
response read, queueing included), the answers per kind of request, the /ping polls and whether
the server survived (still running, never restarted a worker, stopped cleanly on SIGTERM).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from training_code.local_sagemaker.containers import (  # noqa: E402
    FRAMEWORKS,
    ModelServer,
    Response,
    free_port,
    pack_model,
    run_training,
    unpack_model,
)
from training_code.local_sagemaker.sample_data import make_classification, write_channels  # noqa: E402
from training_code.local_sagemaker.tree import SageMakerTree  # noqa: E402

CSV = "text/csv"
JSON = "application/json"
FEATURES = 8
#: A few seconds of training: the model's quality is not what is measured.
HYPERPARAMETERS = {"epochs": "2", "hidden_sizes": "[16, 8]", "batch_size": "32"}
#: One thread per process, as the tests run: the machine is small and shared.
THREADS = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
#: SageMaker's real-time payload limit; the oversized body is two bytes over it.
PAYLOAD_LIMIT = 6 * 1024 * 1024
OVERSIZED_BODY = b"1," * (PAYLOAD_LIMIT // 2 + 1)
PING_INTERVAL = 0.1
PING_TIMEOUT = 2.0  # SageMaker's health-check timeout
#: Share of each kind of request in the mix, in percent.
MIX: Mapping[str, int] = {
    "csv-valid": 40,
    "json-valid": 26,
    "csv-malformed": 8,
    "json-malformed": 8,
    "content-type-unsupported": 6,
    "accept-unsupported": 4,
    "empty-body": 6,
    "oversized-body": 2,
}
VALID_KINDS = frozenset({"csv-valid", "json-valid"})
#: A request of the mix as built: body, headers, expected status, rows a valid one sends.
Body = tuple[bytes, dict[str, str], int, int]
#: gunicorn's and Python's words for a crash, a hung or killed worker, a failed restart.
_LOG_PROBLEMS = (
    "Traceback",
    "WORKER TIMEOUT",
    "was sent SIG",
    "exited with code",
    "failed to boot",
)


@dataclass(frozen=True)
class PlannedRequest:
    """One ``POST /invocations`` and the status its kind must get."""

    kind: str
    body: bytes
    headers: dict[str, str]
    expected_status: int
    rows: int = 0
    """Predictions a valid request must get back."""


@dataclass(frozen=True)
class Outcome:
    """What one request got: status (None when the exchange itself failed) and time taken."""

    request: PlannedRequest
    status: int | None
    seconds: float
    problem: str
    """Empty when the answer is what the request's kind must get."""


@dataclass
class LoadReport:
    """Every outcome and /ping poll of one run, and what became of the server."""

    framework: str
    clients: int
    seconds: float
    outcomes: list[Outcome]
    pings: list[tuple[int | None, float]]
    server_running_after: bool = False
    worker_boots: int = 0
    exit_code: int | None = None
    log_problems: list[str] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return len(self.outcomes) / self.seconds

    @property
    def valid_latencies_ms(self) -> list[float]:
        return [o.seconds * 1000 for o in self.outcomes if o.request.kind in VALID_KINDS]

    def latency_percentile_ms(self, percent: int) -> float:
        """Latency of valid requests at ``percent`` (1..99), inclusive method."""
        return statistics.quantiles(self.valid_latencies_ms, n=100, method="inclusive")[percent - 1]

    @property
    def unexpected(self) -> list[str]:
        """``kind: problem`` for every answer that is not what its kind must get."""
        return [f"{o.request.kind}: {o.problem}" for o in self.outcomes if o.problem]

    @property
    def server_errors(self) -> int:
        return sum(1 for o in self.outcomes if o.status is not None and o.status >= 500)

    @property
    def failed_pings(self) -> list[str]:
        return [
            f"{status} after {seconds:.3f} s"
            for status, seconds in self.pings
            if status != 200 or seconds > PING_TIMEOUT
        ]

    @property
    def survived(self) -> bool:
        """Running to the end, one worker boot (no restart), clean exit, nothing alarming logged."""
        return (
            self.server_running_after
            and self.worker_boots == 1
            and self.exit_code == 0
            and not self.log_problems
        )

    def status_mix(self) -> Counter[tuple[str, int | None]]:
        return Counter((o.request.kind, o.status) for o in self.outcomes)

    def status_classes(self) -> Counter[str]:
        return Counter(
            "failed" if o.status is None else f"{o.status // 100}xx" for o in self.outcomes
        )

    def describe(self) -> str:
        """The figures, as the benchmark prints them."""
        classes = self.status_classes()
        pings = [seconds for status, seconds in self.pings if status == 200]
        lines = [
            f"{self.framework}: {len(self.outcomes)} requests from {self.clients} clients in "
            f"{self.seconds:.1f} s ({self.requests_per_second:.0f} requests/s)",
            f"  valid requests: {len(self.valid_latencies_ms)}, "
            f"p50 {self.latency_percentile_ms(50):.1f} ms, "
            f"p99 {self.latency_percentile_ms(99):.1f} ms",
            f"  answers: {', '.join(f'{k} {v}' for k, v in sorted(classes.items()))}; "
            f"unexpected: {len(self.unexpected)}",
            f"  /ping: {len(self.pings)} polls, {len(self.failed_pings)} failed, "
            f"max {max(pings, default=0) * 1000:.0f} ms",
            f"  server: {'survived' if self.survived else 'DID NOT SURVIVE'} "
            f"(worker boots {self.worker_boots}, exit code {self.exit_code}"
            f"{', log: ' + '; '.join(self.log_problems) if self.log_problems else ''})",
        ]
        lines.extend(
            f"  {kind:<26} {status}: {count}"
            for (kind, status), count in sorted(self.status_mix().items(), key=str)
        )
        return "\n".join(lines)


def prepare_model(framework: str, workdir: Path) -> SageMakerTree:
    """Train a small model with ``train``, pack model.tar.gz, extract it into a serving tree."""
    training = SageMakerTree(workdir / "training")
    write_channels(training.data_dir, train_rows=300, validation_rows=100, features=FEATURES)
    training.write_config(HYPERPARAMETERS)
    result = run_training(framework, training, extra_env=THREADS, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{framework} training failed:\n{result.stderr[-3000:]}")
    serving = SageMakerTree(workdir / "serving")
    tarball = pack_model(training.model_dir, training.output_dir / "model.tar.gz")
    unpack_model(tarball, serving.model_dir)
    return serving


def build_plan(requests: int, seed: int = 0) -> list[PlannedRequest]:
    """``requests`` requests in the proportions of ``MIX``, shuffled with ``seed``."""
    rng = random.Random(seed)
    features, _ = make_classification(256, features=FEATURES, seed=seed + 1)
    rows = [[float(f"{value:.6g}") for value in row] for row in features]
    builders: dict[str, Callable[[int], Body]] = {
        "csv-valid": lambda i: _valid(rng, rows, i, as_json=False),
        "json-valid": lambda i: _valid(rng, rows, i, as_json=True),
        "csv-malformed": lambda i: _cycle(_CSV_MALFORMED, i, CSV, 400),
        "json-malformed": lambda i: _cycle(_JSON_MALFORMED, i, JSON, 400),
        "content-type-unsupported": _unsupported_content_type,
        "accept-unsupported": lambda _: (
            b"1,2,3,4,5,6,7,8\n",
            {"Content-Type": CSV, "Accept": "application/xml"},
            406,
            0,
        ),
        "empty-body": lambda i: (b"" if i % 2 else b" \n\n", {"Content-Type": CSV}, 400, 0),
        "oversized-body": lambda _: (OVERSIZED_BODY, {"Content-Type": CSV}, 413, 0),
    }
    plan = []
    for kind, count in _counts(requests).items():
        for index in range(count):
            body, headers, status, expected_rows = builders[kind](index)
            plan.append(PlannedRequest(kind, body, headers, status, expected_rows))
    rng.shuffle(plan)
    return plan


def run_load(
    server: ModelServer, plan: Sequence[PlannedRequest], *, clients: int = 16, framework: str = ""
) -> LoadReport:
    """Send ``plan`` from ``clients`` threads while polling /ping; the server keeps running."""
    pings: list[tuple[int | None, float]] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll_ping, args=(server, stop, pings), daemon=True)
    poller.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            outcomes = list(pool.map(lambda request: _send(server, request), plan))
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        poller.join()
    return LoadReport(
        framework=framework,
        clients=clients,
        seconds=seconds,
        outcomes=outcomes,
        pings=pings,
        server_running_after=server.process.poll() is None,
    )


@contextmanager
def serving(framework: str, tree: SageMakerTree) -> Iterator[ModelServer]:
    """``serve`` on a free port of 127.0.0.1, stopped with SIGTERM at the end."""
    server = ModelServer(framework, tree, free_port(), THREADS).start()
    try:
        server.wait_until_healthy(timeout=180)
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def finish(report: LoadReport, server: ModelServer) -> LoadReport:
    """Stop the server with SIGTERM and add what its exit and log say to ``report``."""
    report.exit_code = server.stop() if server.process.poll() is None else server.process.poll()
    log = server.log_text()
    report.worker_boots = log.count("Booting worker with pid")
    report.log_problems = [marker for marker in _LOG_PROBLEMS if marker in log]
    return report


def measure(framework: str, workdir: Path, requests: int, clients: int, seed: int) -> LoadReport:
    """The whole benchmark for one framework."""
    tree = prepare_model(framework, workdir)
    plan = build_plan(requests, seed)
    with serving(framework, tree) as server:
        report = run_load(server, plan, clients=clients, framework=framework)
        return finish(report, server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--requests", type=int, default=2000, help="default 2000")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--seed", type=int, default=0, help="of the request mix (0)")
    args = parser.parse_args(argv)
    if args.requests < len(MIX) * 50:
        parser.error(f"--requests must be at least {len(MIX) * 50}, so that every kind is sent")
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    reports = []
    for framework in args.frameworks:
        with tempfile.TemporaryDirectory(prefix=f"serving-load-{framework}-") as workdir:
            report = measure(framework, Path(workdir), args.requests, args.clients, args.seed)
        print(report.describe(), flush=True)
        reports.append(report)
    print()
    print(
        "| framework | requests | clients | requests/s | valid | p50 ms | p99 ms | 2xx | 4xx "
        "| 5xx | failed | /ping polls (failed) | server |"
    )
    print(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    )
    for report in reports:
        classes = report.status_classes()
        print(
            f"| {report.framework} | {len(report.outcomes)} | {report.clients} | "
            f"{report.requests_per_second:.0f} | {len(report.valid_latencies_ms)} | "
            f"{report.latency_percentile_ms(50):.1f} | {report.latency_percentile_ms(99):.1f} | "
            f"{classes['2xx']} | {classes['4xx']} | {classes['5xx']} | {classes['failed']} | "
            f"{len(report.pings)} ({len(report.failed_pings)}) | "
            f"{'survived' if report.survived else 'DID NOT SURVIVE'} |"
        )
    healthy = all(r.survived and not r.unexpected and not r.failed_pings for r in reports)
    return 0 if healthy else 1


# The request mix.

_CSV_MALFORMED = (
    b"1,2,abc,4,5,6,7,8\n",  # a cell that is not a number
    b"1,2,3,4,5,6,7,8\n1,2,3\n",  # ragged rows
    b"1,2,3\n",  # too few features
    b"a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n",  # a header row
    b"\xff\xfe1,2,3,4,5,6,7,8\n",  # not UTF-8
    b"1,2,3,4,5,6,7,1e39\n",  # beyond float32
)
_JSON_MALFORMED = (
    b'{"instances": [[1, 2',  # truncated
    b'{"rows": [[1, 2, 3, 4, 5, 6, 7, 8]]}',  # wrong shape
    b'{"instances": [["a", 2, 3, 4, 5, 6, 7, 8]]}',  # not numbers
    b'{"instances": [[NaN, 2, 3, 4, 5, 6, 7, 8]]}',  # not finite
    b'{"instances": [[1, 2, 3]]}',  # too few features
    b"[[1, 2, 3, 4, 5, 6, 7, 8]]",  # no "instances" object
)


def _counts(requests: int) -> dict[str, int]:
    """Requests per kind: ``MIX`` shares of ``requests``, remainders to the largest shares."""
    total = sum(MIX.values())
    counts = {kind: requests * share // total for kind, share in MIX.items()}
    for kind in sorted(MIX, key=lambda k: -MIX[k])[: requests - sum(counts.values())]:
        counts[kind] += 1
    return counts


def _valid(rng: random.Random, rows: list[list[float]], index: int, *, as_json: bool) -> Body:
    count = rng.randint(1, 32)
    start = rng.randrange(len(rows) - count)
    chosen = rows[start : start + count]
    accept = (JSON, CSV, "*/*")[index % 3]
    if as_json:
        body = json.dumps({"instances": chosen}).encode()
    else:
        body = "".join(",".join(map(str, row)) + "\n" for row in chosen).encode()
    return body, {"Content-Type": JSON if as_json else CSV, "Accept": accept}, 200, count


def _cycle(bodies: Sequence[bytes], index: int, content_type: str, status: int) -> Body:
    return bodies[index % len(bodies)], {"Content-Type": content_type}, status, 0


def _unsupported_content_type(index: int) -> Body:
    content_type = ("application/x-npy", "text/plain", "")[index % 3]
    headers = {"Content-Type": content_type} if content_type else {}  # "": no header at all
    return b"1,2,3,4,5,6,7,8\n", headers, 415, 0


def _send(server: ModelServer, request: PlannedRequest) -> Outcome:
    started = time.perf_counter()
    try:
        response = server.request("POST", "/invocations", request.body, request.headers)
    except (OSError, http.client.HTTPException) as error:
        seconds = time.perf_counter() - started
        return Outcome(request, None, seconds, f"no answer: {type(error).__name__}: {error}")
    seconds = time.perf_counter() - started
    return Outcome(request, response.status, seconds, _problem(request, response))


def _problem(request: PlannedRequest, response: Response) -> str:
    """What is wrong with ``response`` for ``request``; empty when nothing is."""
    status, body, headers = response.status, response.body, response.headers
    if status != request.expected_status:
        return f"got {status}, expected {request.expected_status}: {body[:200]!r}"
    if status != 200:
        if not headers.get("content-type", "").startswith("text/plain") or not body.strip():
            return f"{status} without a plain-text message"
        return ""
    accept = request.headers.get("Accept", "*/*")
    if accept == CSV:
        returned = len(body.decode().splitlines())
    else:
        returned = len(json.loads(body)["predictions"])
    return "" if returned == request.rows else f"{returned} predictions for {request.rows} rows"


def _poll_ping(
    server: ModelServer, stop: threading.Event, pings: list[tuple[int | None, float]]
) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status: int | None = server.request("GET", "/ping", timeout=PING_TIMEOUT).status
        except (OSError, http.client.HTTPException):
            status = None
        pings.append((status, time.perf_counter() - started))
        stop.wait(PING_INTERVAL)


if __name__ == "__main__":
    sys.exit(main())

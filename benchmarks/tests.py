#!/usr/bin/env python3
"""Where the test suite's time goes: wall time, the slowest tests and the slowest xdist groups.

    python benchmarks/tests.py [--top 10] [PYTEST ARGS ...]

Runs pytest as `make test` does (the project's addopts: `-n auto --dist loadgroup`), on every
test unless PYTEST ARGS name some, with `benchmarks/pytest_timings.py` recording each test's
setup + call + teardown seconds, its worker and its `xdist_group`. Prints the wall time, the
test time per worker (how well the groups balance), then the slowest tests and the slowest
groups: a group runs on one worker from start to end, so the slowest group is a floor under the
suite's wall time. Exits with pytest's status.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "benchmarks.pytest_timings"


@dataclass(frozen=True)
class Timing:
    """One test: its node id (without xdist's `@group` suffix), seconds, group and worker."""

    nodeid: str
    seconds: float
    outcome: str
    group: str | None
    worker: str | None


def run_suite(pytest_args: list[str], timings_json: Path) -> tuple[int, float]:
    """Run pytest with the timing plugin; return its exit status and the wall seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-q", "-p", PLUGIN]
    command += ["--timings-json", str(timings_json), *pytest_args]
    start = time.perf_counter()
    status = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode
    return status, time.perf_counter() - start


def read_timings(path: Path) -> list[Timing]:
    """The plugin's records, node ids without the `@group` that loadgroup appends."""
    timings = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        group = entry["group"]
        nodeid = entry["nodeid"].removesuffix(f"@{group}") if group else entry["nodeid"]
        timings.append(Timing(nodeid, entry["seconds"], entry["outcome"], group, entry["worker"]))
    return timings


def report(timings: list[Timing], wall: float, top: int) -> list[str]:
    """The figures, as printed."""
    outcomes = Counter(timing.outcome for timing in timings)
    workers: dict[str, float] = defaultdict(float)
    groups: dict[str, list[Timing]] = defaultdict(list)
    for timing in timings:
        workers[timing.worker or "main"] += timing.seconds
        if timing.group:
            groups[timing.group].append(timing)
    total = sum(timing.seconds for timing in timings)
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    lines = [
        f"{len(timings)} tests ({counts}) in {wall:.1f} s wall; {total:.1f} s of test time",
        "test time per worker: "
        + ", ".join(f"{worker} {seconds:.1f} s" for worker, seconds in sorted(workers.items())),
        "",
        f"{top} slowest tests (setup + call + teardown; a shared fixture counts for its first "
        "test):",
    ]
    for timing in sorted(timings, key=lambda t: -t.seconds)[:top]:
        where = f" [{timing.group}]" if timing.group else ""
        lines.append(f"  {timing.seconds:7.1f} s  {timing.nodeid}{where}")
    ungrouped = sum(timing.seconds for timing in timings if not timing.group)
    lines += ["", f"{top} slowest xdist groups (each runs on one worker, start to end):"]
    ranked = sorted(groups.items(), key=lambda item: -sum(t.seconds for t in item[1]))
    for name, members in ranked[:top]:
        seconds = sum(t.seconds for t in members)
        tests = f"{len(members)} test" + ("s" if len(members) > 1 else "")
        lines.append(f"  {seconds:7.1f} s  {name} ({tests})")
    lines.append(f"  (tests in no group, spread over every worker: {ungrouped:.1f} s)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        epilog="Other arguments go to pytest (e.g. tests/deploy, -n 4).",
    )
    parser.add_argument("--top", type=int, default=10, help="how many tests and groups to list")
    args, pytest_args = parser.parse_known_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    with tempfile.TemporaryDirectory(prefix="test-timings-") as scratch:
        timings_json = Path(scratch) / "timings.json"
        status, wall = run_suite(pytest_args, timings_json)
        if not timings_json.is_file():
            print(f"pytest exited with status {status} before any test ran", file=sys.stderr)
            return status or 1
        timings = read_timings(timings_json)
    if not timings:
        print(f"pytest exited with status {status} and ran no test", file=sys.stderr)
        return status or 1
    print("\n".join(["", *report(timings, wall, args.top)]))
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Wall time of the main command's deploy, fresh emulator to Dev deployed, phase by phase.

    python benchmarks/local_deploy.py [--runs 3]

Each run is `scripts/deploy.py` as `make deploy` runs it once installed: synth, a fresh local
emulator (moto server), `cdk bootstrap`, asset publishing and `cdk deploy 'Dev/*'`. The script
prints its own phase timings; this collects them over the runs and prints the medians. The
installation `make deploy` does first (pip and npm, from the pins) is not included: it is
measured in the README's quick start figures.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The repository (app, config, stacks) and scripts/, whose modules import each other by name.
for _path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from cdk_env import tool_environment  # noqa: E402

#: The summary line scripts/deploy.py ends with, e.g. `Timings: synth 8.1 s, emulator 2.0 s, ...`.
TIMINGS = re.compile(r"^Timings: (?P<phases>.*) \(total [\d.]+ s\)$", re.MULTILINE)
PHASE = re.compile(r"(?P<name>\w[\w -]*?) (?P<seconds>[\d.]+) s")


def deploy_once() -> tuple[float, dict[str, float]]:
    """Wall seconds of one deploy and the seconds of each phase it reported."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "scripts/deploy.py"],
        cwd=REPO_ROOT,
        env=tool_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    match = TIMINGS.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"scripts/deploy.py failed:\n{result.stdout}\n{result.stderr}")
    phases = {
        phase["name"].strip(): float(phase["seconds"]) for phase in PHASE.finditer(match["phases"])
    }
    return wall, phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    walls: list[float] = []
    phases: dict[str, list[float]] = {}
    for run in range(args.runs):
        wall, measured = deploy_once()
        walls.append(wall)
        for name, seconds in measured.items():
            phases.setdefault(name, []).append(seconds)
        detail = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in measured.items())
        print(f"run {run + 1}/{args.runs}: {wall:.1f} s ({detail})", flush=True)
    print()
    print("| phase (fresh emulator to Dev deployed) | median | min | max |")
    print("|---|---|---|---|")
    for name, values in [*phases.items(), ("wall time, all phases", walls)]:
        print(
            f"| {name} | {statistics.median(values):.1f} s | {min(values):.1f} s "
            f"| {max(values):.1f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

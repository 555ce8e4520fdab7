#!/usr/bin/env python3
"""How synth time, resources and template size grow with the number of models in a stage.

    python benchmarks/scale.py [--counts 1 10 50] [--rounds 3]

For each N, Dev's config (config/dev.yaml) is rewritten with N copies of its `churn-xgboost`
training definition and N copies of its `churn-xgboost` endpoint (monitoring and all), 20
endpoints to a Serving stack (`stack: serving`, `serving-2`, ...), the rest of the file
unchanged; Prod stays as it is. Each N is synthesized by the real CLI
(`npx cdk synth -c config_dir=...`), the N values alternating in order round by round; the table
gives the median synth time, each Dev stack's resources and template size, and the cost of one
more model (the slope between the smallest and the largest N). A stage past a CloudFormation
quota fails at synth (stacks/cloudformation_limits.py): the table then shows the message.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
# The repository (app, config, stacks) and scripts/, whose modules import each other by name.
for _path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from assembly import read_stage  # noqa: E402
from cdk_env import offline_environment  # noqa: E402

from stacks.cloudformation_limits import (  # noqa: E402
    MAX_RESOURCES,
    MAX_TEMPLATE_BYTES,
    TemplateSize,
)

TEMPLATE_DEFINITION = "churn-xgboost"
#: Endpoints per Serving stack (`stack:` in the config): 20 fully monitored endpoints are about
#: 420 resources, inside CloudFormation's 500.
ENDPOINTS_PER_STACK = 20


def scaled_config(count: int) -> dict[str, Any]:
    """Dev's config with `count` copies of its XGBoost training definition and endpoint."""
    dev: dict[str, Any] = yaml.safe_load((REPO_ROOT / "config" / "dev.yaml").read_text())
    training = dev["training"][TEMPLATE_DEFINITION]
    endpoint = dev["endpoints"][TEMPLATE_DEFINITION]
    dev["training"] = {f"model-{i:03d}": copy.deepcopy(training) for i in range(count)}
    dev["endpoints"] = {
        f"model-{i:03d}": {**copy.deepcopy(endpoint), "stack": _serving_stack(i)}
        for i in range(count)
    }
    for batch in dev.get("batch_transforms", {}).values():
        batch.pop("training", None)  # may name a definition that no longer exists
    return dev


def _serving_stack(index: int) -> str:
    """`serving` for the first ENDPOINTS_PER_STACK endpoints, then `serving-2`, `serving-3`..."""
    group = index // ENDPOINTS_PER_STACK + 1
    return "serving" if group == 1 else f"serving-{group}"


def synth(config_dir: Path, outdir: Path) -> tuple[float, str]:
    """Seconds of one `npx cdk synth`, and its error output when it failed."""
    command = ["npx", "cdk", "synth", "--quiet", "-c", f"config_dir={config_dir}"]
    start = time.perf_counter()
    result = subprocess.run(
        [*command, "--output", str(outdir)],
        cwd=REPO_ROOT,
        env=offline_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    return elapsed, "" if result.returncode == 0 else result.stderr.strip()


def stack_sizes(outdir: Path) -> list[TemplateSize]:
    return [
        TemplateSize.of(stack.path, _template_file(outdir, stack.path))
        for stack in read_stage(outdir, "Dev")
    ]


def _template_file(outdir: Path, path: str) -> Path:
    stage, stack = path.split("/")
    name = re.compile(rf"^{stage}{stack}[0-9A-F]{{8}}\.template\.json$")  # artifact id + hash
    (match,) = (p for p in (outdir / f"assembly-{stage}").iterdir() if name.match(p.name))
    return match


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config_dirs: dict[int, Path] = {}
        for count in args.counts:
            config_dir = Path(tmp) / f"config-{count}"
            config_dir.mkdir()
            shutil.copy(REPO_ROOT / "config" / "prod.yaml", config_dir / "prod.yaml")
            (config_dir / "dev.yaml").write_text(yaml.safe_dump(scaled_config(count)))
            config_dirs[count] = config_dir
        times: dict[int, list[float]] = {count: [] for count in args.counts}
        errors: dict[int, str] = {}
        sizes: dict[int, list[TemplateSize]] = {}
        for round_number in range(args.rounds):
            order = args.counts if round_number % 2 == 0 else list(reversed(args.counts))
            for count in order:
                outdir = Path(tmp) / f"out-{count}-{round_number}"
                elapsed, error = synth(config_dirs[count], outdir)
                times[count].append(elapsed)
                if error:
                    errors[count] = error
                elif count not in sizes:
                    sizes[count] = stack_sizes(outdir)
                shutil.rmtree(outdir, ignore_errors=True)
            print(
                f"round {round_number + 1}/{args.rounds}: "
                + ", ".join(f"N={n} {times[n][-1]:.1f} s" for n in order),
                flush=True,
            )
    print()
    print(f"Quotas per stack: {MAX_RESOURCES} resources, {MAX_TEMPLATE_BYTES:,} template bytes.")
    print()
    print("| N trainings + N endpoints | synth (median) | Dev stack | resources | template |")
    print("|---|---|---|---|---|")
    for count in args.counts:
        median = f"{statistics.median(times[count]):.1f} s"
        if count in errors:
            message = errors[count].splitlines()
            print(f"| {count} | {median} | fails at synth: {' / '.join(message[-3:])} | | |")
            continue
        for index, size in enumerate(sizes[count]):
            first = (str(count), median) if index == 0 else ("", "")
            print(
                f"| {first[0]} | {first[1]} | {size.path} | {size.resources} "
                f"| {size.size_bytes / 1000:.0f} kB |"
            )
    _print_slopes(args.counts, times, sizes)
    return 0


def _print_slopes(
    counts: list[int], times: dict[int, list[float]], sizes: dict[int, list[TemplateSize]]
) -> None:
    measured = [count for count in counts if count in sizes]
    if len(measured) < 2:
        return
    low, high = min(measured), max(measured)
    added = high - low
    seconds = (statistics.median(times[high]) - statistics.median(times[low])) / added
    print()
    print(f"Per added model (training definition + endpoint), N={low} -> N={high}:")
    print(f"- synth time: {seconds:.2f} s")
    before, after = _by_kind(sizes[low]), _by_kind(sizes[high])
    for kind, (resources_after, bytes_after) in after.items():
        resources_before, bytes_before = before.get(kind, (0, 0))
        resources = (resources_after - resources_before) / added
        kilobytes = (bytes_after - bytes_before) / added / 1000
        print(f"- {kind} stacks: {resources:.1f} resources, {kilobytes:.1f} kB")


def _by_kind(sizes: list[TemplateSize]) -> dict[str, tuple[int, int]]:
    """Resources and bytes summed by kind of stack (`Dev/Serving2` counts as `Dev/Serving`)."""
    kinds: dict[str, tuple[int, int]] = {}
    for size in sizes:
        kind = size.path.rstrip("0123456789")
        resources, size_bytes = kinds.get(kind, (0, 0))
        kinds[kind] = (resources + size.resources, size_bytes + size.size_bytes)
    return kinds


if __name__ == "__main__":
    sys.exit(main())

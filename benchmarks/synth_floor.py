#!/usr/bin/env python3
"""Synth time of the real app against the CDK floor, like with like, and where the time goes.

    python benchmarks/synth_floor.py [--rounds 5] [--phases-only]

Two measurements:

1. `npx cdk synth --quiet` of the app against a *floor* app: the same stages and stacks, with
   nothing in them, run by the same CLI, Node.js, Python and cdk.json context, and with the same
   CDK settings as the app (CDK's built-in CloudFormation validation as app.py sets it). Both
   are timed twice: all stages (`make synth`) and the Dev stage alone (`-c stages=Dev`, as
   `make deploy` synthesizes). Runs alternate (A B C D, D C B A, ...) so that a busy, shared
   machine slows all alike; the figures are the medians of each and of the per-round ratios.
2. The phases of one in-process synth of the real app (`--phases-only` prints just these):
   importing aws_cdk, loading the config, building each stage (which imports the SageMaker SDK
   on first use), cdk-nag validation and writing the assembly.

Issue target: app <= 1.5x the floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The repository (app, config, stacks) and scripts/, whose modules import each other by name.
for _path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from cdk_env import offline_environment  # noqa: E402

#: The floor: the stages and stacks of the real app's assembly (read from it, so the two always
#: match), each stack empty, with the app's CDK settings; `-c stages=...` is read as app.py does.
FLOOR_APP = textwrap.dedent(
    """
    from aws_cdk import App, Environment, Stack, Stage

    app = App(builtin_cloud_formation_validation={validation!r})
    wanted = app.node.try_get_context("stages")
    for stage_id, (account, region, stack_ids) in {stages!r}.items():
        if wanted and stage_id not in wanted.split(","):
            continue
        stage = Stage(app, stage_id, env=Environment(account=account, region=region))
        for stack_id in stack_ids:
            Stack(stage, stack_id)
    app.synth()
    """
)


def assembly_stacks(outdir: Path) -> dict[str, tuple[str, str, list[str]]]:
    """Stage id -> (account, region, stack ids) of a synthesized assembly."""
    stages: dict[str, tuple[str, str, list[str]]] = {}
    for artifact in json.loads((outdir / "manifest.json").read_text())["artifacts"].values():
        if artifact["type"] != "cdk:cloud-assembly":
            continue
        nested = outdir / artifact["properties"]["directoryName"] / "manifest.json"
        for stack in json.loads(nested.read_text())["artifacts"].values():
            if stack["type"] != "aws:cloudformation:stack":
                continue
            stage_id, stack_id = stack["displayName"].split("/")
            account, region = stack["environment"].removeprefix("aws://").split("/")
            stages.setdefault(stage_id, (account, region, []))[2].append(stack_id)
    return stages


def cdk_synth(outdir: Path, app: str | None = None, context: tuple[str, ...] = ()) -> float:
    """Seconds of one `npx cdk synth --quiet` into `outdir` (the real app unless `app`)."""
    command = ["npx", "cdk", "synth", "--quiet", "--output", str(outdir)]
    if app is not None:
        command += ["--app", app]
    for item in context:
        command += ["-c", item]
    start = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=offline_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


#: What is compared: the app and the floor, each with every stage and with Dev alone.
VARIANTS = ("app", "floor", "app, Dev only", "floor, Dev only")
DEV_ONLY = ("stages=Dev",)


def floor_source(stages: dict[str, tuple[str, str, list[str]]]) -> str:
    """The floor app's code for the app's stages, with the app's own CDK settings."""
    from app import BUILTIN_CLOUDFORMATION_VALIDATION

    return FLOOR_APP.format(stages=stages, validation=BUILTIN_CLOUDFORMATION_VALIDATION)


def compare(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cdk_synth(Path(tmp) / "warm-up")  # npx resolution, disk caches, the SDK answer file
        stages = assembly_stacks(Path(tmp) / "warm-up")
        floor_app = Path(tmp) / "floor_app.py"
        floor_app.write_text(floor_source(stages))
        floor = f"{sys.executable} {floor_app}"
        commands: dict[str, tuple[str | None, tuple[str, ...]]] = {
            "app": (None, ()),
            "floor": (floor, ()),
            "app, Dev only": (None, DEV_ONLY),
            "floor, Dev only": (floor, DEV_ONLY),
        }
        print("stacks:", ", ".join(f"{s}/{k}" for s, (_, _, ks) in stages.items() for k in ks))
        runs: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        for round_number in range(rounds):
            order = VARIANTS if round_number % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                out = Path(tmp) / f"{VARIANTS.index(variant)}-{round_number}"
                app, context = commands[variant]
                runs[variant].append(cdk_synth(out, app, context))
            print(
                f"round {round_number + 1}/{rounds}: "
                + ", ".join(f"{variant} {runs[variant][-1]:.1f} s" for variant in VARIANTS),
                flush=True,
            )
    print()
    print("| `npx cdk synth --quiet` | median | min | max |")
    print("|---|---|---|---|")
    for variant, values in runs.items():
        print(
            f"| {variant} | {statistics.median(values):.1f} s | {min(values):.1f} s "
            f"| {max(values):.1f} s |"
        )
    for app, floor in (("app", "floor"), ("app, Dev only", "floor, Dev only")):
        ratios = [a / b for a, b in zip(runs[app], runs[floor], strict=True)]
        print(
            f"| ratio {app} / {floor} (per round) | {statistics.median(ratios):.2f} "
            f"| {min(ratios):.2f} | {max(ratios):.2f} |"
        )


PHASES_SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile, time
    sys.path.insert(0, {repo!r})
    marks = [("start", time.perf_counter())]
    def mark(label):
        marks.append((label, time.perf_counter()))
    from aws_cdk import App, Validations
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
    mark("import aws_cdk + cdk_nag")
    from app import SDK_ANSWERS
    from config import ENVIRONMENTS, DEFAULT_CONFIG_DIR, load_all
    from constructs_lib.builtin_algorithms import sdk
    from stacks import SageMakerStage
    sdk.keep_answers_in(SDK_ANSWERS)  # as build_app does
    mark("import config + stacks + constructs_lib")
    context = json.load(open({cdk_json!r}))["context"]
    app = App(context=context, outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=False)
    configs = load_all(DEFAULT_CONFIG_DIR)
    mark("load config/*.yaml")
    for name, stage_id in ENVIRONMENTS.items():
        SageMakerStage(app, stage_id, config=configs[name])
        mark(f"build stage {{stage_id}}")
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app)
    )
    app.synth()
    mark("synth: cdk-nag + templates + assets")
    for (_, before), (label, after) in zip(marks, marks[1:]):
        print(f"{{label}}\\t{{after - before:.2f}}")
    print(f"total\\t{{marks[-1][1] - marks[0][1]:.2f}}")
    """
)


def phases() -> None:
    """One in-process synth of the real app, timed phase by phase (a fresh interpreter)."""
    script = PHASES_SCRIPT.format(repo=str(REPO_ROOT), cdk_json=str(REPO_ROOT / "cdk.json"))
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=offline_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"phase run failed:\n{result.stderr}")
    print("| phase of one synth (in-process, one run) | seconds |")
    print("|---|---|")
    for line in result.stdout.splitlines():
        label, seconds = line.split("\t")
        print(f"| {label} | {seconds} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="A/B pairs (default 5)")
    parser.add_argument("--phases-only", action="store_true", help="skip the A/B comparison")
    args = parser.parse_args(argv)
    phases()
    if not args.phases_only:
        print()
        compare(args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

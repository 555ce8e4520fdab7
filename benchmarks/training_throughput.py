#!/usr/bin/env python3
"""Training throughput (samples/s) of both frameworks' entry points, float32 against mixed.

    python benchmarks/training_throughput.py [--rows 20000] [--epochs 4] [--repeats 3]

Every run is the real ``train`` (the images' ENTRYPOINT) on the same generated data, in a fresh
``/opt/ml`` tree. A run's figure is the median of its per-epoch ``samples_per_second`` metric
(the training loop alone, no validation or checkpointing) over the epochs after the first, which
is warm-up (tracing, allocation). The two precisions of a framework run alternately (A B, B A,
A B, ...) so that drift of the machine hits both; the table gives the median over repeats.

Mixed precision means float16 autocast with gradient scaling (PyTorch) or Keras's
``mixed_float16`` policy on a GPU, and bfloat16 autocast / ``mixed_bfloat16`` on a CPU; the
precision column shows what actually ran. The script runs unchanged on a GPU machine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from training_code.local_sagemaker.containers import FRAMEWORKS, run_training  # noqa: E402
from training_code.local_sagemaker.sample_data import make_classification, write_csv  # noqa: E402
from training_code.local_sagemaker.tree import SageMakerTree  # noqa: E402

_SETUP = re.compile(r"device=(\S+) precision=(\S+)")
_THROUGHPUT = re.compile(r"^metric epoch=\d+ .*samples_per_second=([0-9.e+-]+)", re.MULTILINE)


@dataclass
class Variant:
    """One framework at one precision setting, with the figure of each run."""

    framework: str
    mixed_precision: bool
    runs: list[float] = field(default_factory=list)
    device: str = "?"
    precision: str = "?"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--rows", type=int, default=20_000, help="train rows (default 20000)")
    parser.add_argument("--features", type=int, default=32, help="feature columns (default 32)")
    parser.add_argument("--classes", type=int, default=5, help="classes (default 5)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run, >= 2 (default 4)")
    parser.add_argument("--batch-size", type=int, default=256, help="global batch (default 256)")
    parser.add_argument("--hidden-sizes", default="[256, 128]", help="default [256, 128]")
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant (default 3)")
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads per run (OMP_NUM_THREADS, TF_NUM_INTRA/INTEROP_THREADS); "
        "default: each framework's own choice",
    )
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is warm-up and not counted")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def measure(variant: Variant, args: argparse.Namespace, train_dir: Path, base: Path) -> None:
    """One run of ``variant``: append its figure, record what device and precision ran."""
    tree = SageMakerTree(base)
    tree.write_config(
        {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "hidden_sizes": args.hidden_sizes,
            "mixed_precision": variant.mixed_precision,
            "validation_fraction": 0,  # every train row is trained on, as before
        },
        channels=("train",),
    )
    environment = {"SM_CHANNEL_TRAIN": str(train_dir)}
    if args.threads is not None:
        threads = str(args.threads)
        environment |= {
            "OMP_NUM_THREADS": threads,
            "TF_NUM_INTRAOP_THREADS": threads,
            "TF_NUM_INTEROP_THREADS": threads,
        }
    result = run_training(variant.framework, tree, extra_env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"{variant.framework} training failed:\n{result.stderr[-3000:]}")
    setup = _SETUP.search(result.stderr)
    if setup:
        variant.device, variant.precision = setup.groups()
    per_epoch = [float(value) for value in _THROUGHPUT.findall(result.stdout)]
    variant.runs.append(statistics.median(per_epoch[1:]))


def table(variants: list[Variant]) -> str:
    """A Markdown table: median samples/s per variant and the speed-up over float32."""
    lines = [
        "| framework | device | precision | median samples/s | runs | vs float32 |",
        "| --- | --- | --- | ---: | --- | ---: |",
    ]
    baseline = {v.framework: statistics.median(v.runs) for v in variants if not v.mixed_precision}
    for variant in variants:
        median = statistics.median(variant.runs)
        runs = ", ".join(f"{run:,.0f}" for run in variant.runs)
        ratio = median / baseline[variant.framework]
        lines.append(
            f"| {variant.framework} | {variant.device} | {variant.precision} | {median:,.0f} "
            f"| {runs} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def run_variants(args: argparse.Namespace, scratch: Path) -> list[Variant]:
    """Measure float32 and mixed precision of each framework, alternating, ``args.repeats``
    times, in fresh trees under ``scratch``."""
    variants = [Variant(f, mixed) for f in args.frameworks for mixed in (False, True)]
    features, labels = make_classification(args.rows, args.features, args.classes, seed=0)
    train_dir = write_csv(scratch / "data" / "train.csv", features, labels).parent
    for repeat in range(args.repeats):
        for framework in args.frameworks:
            pair = [v for v in variants if v.framework == framework]
            for variant in pair if repeat % 2 == 0 else reversed(pair):
                label = "mixed" if variant.mixed_precision else "float32"
                print(f"repeat {repeat + 1}/{args.repeats}: {framework} {label}", flush=True)
                measure(variant, args, train_dir, scratch / f"{framework}-{label}-{repeat}")
    return variants


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="throughput-") as scratch:
        variants = run_variants(args, Path(scratch))
    print()
    print(
        f"{args.rows} rows x {args.features} features, {args.classes} classes, hidden "
        f"{args.hidden_sizes}, batch {args.batch_size}, {args.epochs} epochs (first not counted), "
        f"{args.repeats} repeats, threads {args.threads or 'default'}"
    )
    print(table(variants))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One report on what the training code does with GPUs, for a machine that has them.

    python benchmarks/gpu_check.py [--rows 200000] [--repeats 3]

1. What is there: ``nvidia-smi -L`` and, per framework, its build and the GPUs it sees.
2. Mixed precision: training throughput (rows/s) of each framework that sees a GPU, float32
   against mixed precision, measured by benchmarks/training_throughput.py on a synthetic table.
3. Distribution smoke runs of the real ``train`` entry point, 2 epochs each, checking the metric
   lines and that the model was saved: PyTorch over all visible GPUs (train.py starts torchrun,
   one DistributedDataParallel process per GPU), TensorFlow under its strategy
   (MirroredStrategy over several GPUs).

A part that needs a GPU its framework does not see prints "no GPU: skipped". ``--cpu`` runs the
same parts on the CPU instead (throughput with bfloat16; torchrun with two gloo processes), so
the whole script can be exercised where there is no GPU. Exit code 1 when a run fails.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import training_throughput  # noqa: E402
from training_code.local_sagemaker.containers import FRAMEWORKS, run_training  # noqa: E402
from training_code.local_sagemaker.sample_data import write_channels  # noqa: E402
from training_code.local_sagemaker.tree import SageMakerTree  # noqa: E402

SKIPPED = "no GPU: skipped"
SMOKE_EPOCHS = 2
#: Prints the framework's version and how many GPUs it sees, as JSON.
_PROBES = {
    "pytorch": "import json, torch; print(json.dumps({'version': torch.__version__, "
    "'gpus': torch.cuda.device_count()}))",
    "tensorflow": "import json, tensorflow as tf; print(json.dumps({'version': tf.__version__, "
    "'gpus': len(tf.config.list_physical_devices('GPU'))}))",
}
_METRIC = re.compile(r"^metric epoch=(\d+) ", re.MULTILINE)


@dataclass(frozen=True)
class Framework:
    name: str
    version: str
    gpus: int


def probe(name: str) -> Framework:
    """Ask the framework, in its own process, what it is and how many GPUs it sees."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBES[name]],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=SageMakerTree(Path(tempfile.gettempdir())).environment(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"cannot import {name}:\n{result.stderr[-2000:]}")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return Framework(name, found["version"], int(found["gpus"]))


def nvidia_smi() -> str:
    if shutil.which("nvidia-smi") is None:
        return "nvidia-smi: not found"
    result = subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True, text=True, check=False, timeout=60
    )
    return (result.stdout or result.stderr).strip() or "nvidia-smi: no output"


def throughput(frameworks: list[Framework], args: argparse.Namespace, scratch: Path) -> str:
    """Part 2: float32 against mixed precision, for the frameworks that will run it."""
    chosen = [f.name for f in frameworks if f.gpus or args.cpu]
    lines = [f"{f.name}: {SKIPPED}" for f in frameworks if f.name not in chosen]
    if chosen:
        settings = {
            "--rows": args.rows,
            "--repeats": args.repeats,
            "--epochs": args.epochs,
            "--batch-size": args.batch_size,
        }
        flags = [str(item) for pair in settings.items() for item in pair]
        options = training_throughput.parse_args(["--frameworks", *chosen, *flags])
        variants = training_throughput.run_variants(options, scratch)
        lines.append(training_throughput.table(variants))
    return "\n".join(lines)


def smoke(framework: Framework, args: argparse.Namespace, scratch: Path) -> tuple[bool, str]:
    """Part 3: 2 epochs over every visible GPU; did it report each epoch and save the model?"""
    if not (framework.gpus or args.cpu):
        return True, f"{framework.name}: {SKIPPED}"
    tree = SageMakerTree(scratch / f"smoke-{framework.name}")
    write_channels(tree.data_dir, train_rows=args.smoke_rows, validation_rows=args.smoke_rows // 4)
    hyperparameters: dict[str, object] = {"epochs": SMOKE_EPOCHS}
    if framework.name == "pytorch" and not framework.gpus:
        hyperparameters["processes_per_host"] = 2  # torchrun and DDP with gloo on the CPU
    tree.write_config(hyperparameters)
    result = run_training(framework.name, tree, timeout=args.timeout)
    epochs = _METRIC.findall(result.stdout)
    setup = re.search(r"(processes=\d+|strategy=\S+ replicas=\d+)", result.stderr)
    saved = (tree.model_dir / "model.pth").is_file() or (tree.model_dir / "1").is_dir()
    passed = result.returncode == 0 and len(epochs) == SMOKE_EPOCHS and saved
    where = f"{framework.gpus} GPU(s)" if framework.gpus else "CPU"
    report = (
        f"{framework.name} on {where}: {setup.group(1) if setup else '?'}, exit "
        f"{result.returncode}, metric lines for epochs {','.join(epochs) or 'none'}, model "
        f"{'saved' if saved else 'NOT saved'}: {'ok' if passed else 'FAILED'}"
    )
    if not passed:
        report += "\n" + result.stderr[-3000:]
    else:
        report += "\n" + "\n".join(f"    {line}" for line in result.stdout.splitlines()[-2:])
    return passed, report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--rows", type=int, default=200_000, help="throughput rows (200000)")
    parser.add_argument("--epochs", type=int, default=4, help="throughput epochs, >= 2 (4)")
    parser.add_argument("--batch-size", type=int, default=1024, help="throughput batch (1024)")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per variant (3)")
    parser.add_argument("--smoke-rows", type=int, default=20_000, help="smoke train rows (20000)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run (600)")
    parser.add_argument("--cpu", action="store_true", help="run every part on the CPU")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    frameworks = [probe(name) for name in args.frameworks]
    print("## GPUs\n" + nvidia_smi())
    for framework in frameworks:
        print(f"{framework.name} {framework.version} sees {framework.gpus} GPU(s)")
    results = []
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as scratch:
        print("\n## Mixed precision throughput (rows/s)", flush=True)
        print(throughput(frameworks, args, Path(scratch)), flush=True)
        print(f"\n## Distribution smoke runs ({SMOKE_EPOCHS} epochs)", flush=True)
        for framework in frameworks:
            passed, report = smoke(framework, args, Path(scratch))
            results.append(passed)
            print(report, flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Held-out accuracy of both frameworks' default hyperparameters against scikit-learn baselines.

    python benchmarks/default_accuracy.py [--datasets iris wine ...] [--threads 1]

Each table is split once (75 % train, 25 % test, stratified, seed 0). The train rows become the
``train`` channel of a fresh ``/opt/ml`` tree with an empty hyperparameters file, and the real
``train`` entry point (the images' ENTRYPOINT) trains each framework with its defaults; the
saved model (the serving artifact) then predicts the test rows. The baselines see the same rows:
a standardized logistic regression and a histogram gradient boosting classifier, both with
scikit-learn's defaults. ``gap`` is the better framework-free baseline minus each framework's
accuracy, in points (positive: the framework is worse).

Needs scikit-learn (a test/benchmark dependency, not a training-image one).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from training_code.local_sagemaker.containers import FRAMEWORKS, run_training  # noqa: E402
from training_code.local_sagemaker.sample_data import write_csv  # noqa: E402
from training_code.local_sagemaker.tree import SageMakerTree  # noqa: E402

TEST_FRACTION = 0.25
SEED = 0


def module(name: str) -> Any:
    """Import an optional, untyped dependency (scikit-learn, the frameworks) when needed."""
    return importlib.import_module(name)


@dataclass(frozen=True)
class Table:
    """A classification table: features (rows x columns) and labels 0..K-1."""

    name: str
    features: np.ndarray
    labels: np.ndarray


def scikit_learn_table(loader: str) -> Callable[[], Table]:
    def load() -> Table:
        bunch = getattr(module("sklearn.datasets"), f"load_{loader}")()
        return Table(loader, bunch.data, bunch.target)

    return load


def generated_table(rows: int, classes: int, features: int = 20) -> Callable[[], Table]:
    """``make_classification`` rows whose columns span six orders of magnitude of scale."""

    def make() -> Table:
        values, labels = module("sklearn.datasets").make_classification(
            n_samples=rows,
            n_features=features,
            n_informative=features // 2,
            n_redundant=features // 4,
            n_classes=classes,
            n_clusters_per_class=2,
            flip_y=0.02,
            random_state=SEED,
        )
        scales = 10.0 ** np.random.default_rng(SEED).uniform(-3, 3, size=features)
        return Table(f"generated-{rows}-{classes}", values * scales, labels)

    return make


TABLES: dict[str, Callable[[], Table]] = {
    "iris": scikit_learn_table("iris"),
    "wine": scikit_learn_table("wine"),
    "breast_cancer": scikit_learn_table("breast_cancer"),
    "digits": scikit_learn_table("digits"),
    "generated-1000-2": generated_table(1_000, 2),
    "generated-2000-4": generated_table(2_000, 4),
    "generated-10000-3": generated_table(10_000, 3),
    "generated-100000-2": generated_table(100_000, 2),
    "generated-100000-5": generated_table(100_000, 5),
}


@dataclass(frozen=True)
class Split:
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def split(table: Table, directory: Path) -> Split:
    """The seeded split; features pass through the CSV text the containers read, for everyone."""
    path = write_csv(directory / "all.csv", table.features, table.labels)
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    train_x, test_x, train_y, test_y = module("sklearn.model_selection").train_test_split(
        data[:, 1:],
        data[:, 0].astype(np.int64),
        test_size=TEST_FRACTION,
        stratify=data[:, 0],
        random_state=SEED,
    )
    return Split(train_x, train_y, test_x, test_y)


def baselines(data: Split) -> dict[str, float]:
    """Held-out accuracy of a standardized logistic regression and of gradient boosting."""
    logistic = module("sklearn.linear_model").LogisticRegression(max_iter=5000)
    scaler = module("sklearn.preprocessing").StandardScaler()
    models = {
        "lr": module("sklearn.pipeline").make_pipeline(scaler, logistic),
        "hgb": module("sklearn.ensemble").HistGradientBoostingClassifier(random_state=SEED),
    }
    return {
        name: float(model.fit(data.train_x, data.train_y).score(data.test_x, data.test_y))
        for name, model in models.items()
    }


def train_model(
    framework: str,
    data: Split,
    base: Path,
    threads: int | None,
    hyperparameters: Mapping[str, object] | None = None,
) -> tuple[Path, float]:
    """Run ``train`` on the train rows (no hyperparameters: the defaults); the model directory
    and the seconds it took."""
    tree = SageMakerTree(base)
    write_csv(tree.data_dir / "train" / "train.csv", data.train_x, data.train_y)
    tree.write_config(hyperparameters or {}, channels=("train",))
    environment = {}
    if threads is not None:
        environment = {
            "OMP_NUM_THREADS": str(threads),
            "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": str(threads),
        }
    started = time.perf_counter()
    result = run_training(framework, tree, extra_env=environment, timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{framework} training failed:\n{result.stderr[-3000:]}")
    return tree.model_dir, seconds


def predict(framework: str, model_dir: Path, features: np.ndarray) -> np.ndarray:
    """Class predictions of the saved serving artifact."""
    if framework == "pytorch":
        sys.path.append(str(REPO_ROOT / "training_code" / "pytorch"))
        torch = module("torch")
        model = module("torch_model").load_for_serving(model_dir, torch.device("cpu"))
        with torch.no_grad():
            return np.asarray(model(torch.from_numpy(features.astype(np.float32))).argmax(1))
    tf = module("tensorflow")
    signature = tf.saved_model.load(str(model_dir / "1")).signatures["serving_default"]
    output = signature(inputs=tf.constant(features.astype(np.float32)))
    return np.asarray(output["predicted_label"])


@dataclass
class Row:
    table: Table
    baseline: dict[str, float]
    accuracy: dict[str, float]
    seconds: dict[str, float]

    @property
    def best_baseline(self) -> float:
        return max(self.baseline.values())

    def gap(self, framework: str) -> float:
        return 100 * (self.best_baseline - self.accuracy[framework])


def measure(table: Table, frameworks: list[str], threads: int | None, scratch: Path) -> Row:
    data = split(table, scratch / table.name)
    row = Row(table, baselines(data), {}, {})
    for framework in frameworks:
        model_dir, seconds = train_model(framework, data, scratch / table.name / framework, threads)
        predictions = predict(framework, model_dir, data.test_x)
        row.accuracy[framework] = float(np.mean(predictions == data.test_y))
        row.seconds[framework] = seconds
    return row


def markdown(rows: list[Row], frameworks: list[str]) -> str:
    header = ["dataset", "rows", "classes", "baseline LR", "baseline HGB"]
    header += [f"{f} (s)" for f in frameworks] + [f"gap {f}" for f in frameworks]
    lines = ["| " + " | ".join(header) + " |", "| --- " + "| ---: " * (len(header) - 1) + "|"]
    for row in rows:
        cells = [
            row.table.name,
            f"{len(row.table.labels):,}",
            str(len(np.unique(row.table.labels))),
            f"{row.baseline['lr']:.3f}",
            f"{row.baseline['hgb']:.3f}",
        ]
        cells += [f"{row.accuracy[f]:.3f} ({row.seconds[f]:.0f})" for f in frameworks]
        cells += [f"{row.gap(f):+.1f}" for f in frameworks]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads per training run (default 1)"
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sklearn = module("sklearn")
    except ImportError:
        print(
            "scikit-learn is missing: pip install -r requirements.txt (or scikit-learn alone)",
            file=sys.stderr,
        )
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="default-accuracy-") as scratch:
        for name in args.datasets:
            rows.append(measure(TABLES[name](), args.frameworks, args.threads, Path(scratch)))
            print(markdown(rows[-1:], args.frameworks).splitlines()[-1], flush=True)
    print()
    print(
        f"test share {TEST_FRACTION}, seed {SEED}, scikit-learn {sklearn.__version__}, "
        f"{args.threads} thread(s) per training run; (s) = seconds of the train entry point"
    )
    print(markdown(rows, args.frameworks))
    return 0


if __name__ == "__main__":
    sys.exit(main())

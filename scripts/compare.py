"""Compare a built-in algorithm with a custom model on the same data, with the figures to decide.

    make compare                                  # the shipped sample, the Dev defaults
    make compare DATA=churn.csv BUILTIN=churn-xgboost CUSTOM=churn-pytorch
    make compare TARGET=aws DATA=s3://BUCKET/datasets/churn/    # the stage's two pipelines

Locally (the default) both sides run on this machine's CPU on the same seeded split of one
label-first CSV table: the built-in algorithm as the open-source library its container runs
(XGBoost), the custom model through the local loop's real ``train`` and ``serve``. With
``--target aws`` the stage's two deployed training pipelines run on the same S3 data and the
report is built from the jobs' final metrics and billing fields. Either way it prints a
side-by-side table and a verdict (accuracy, cost, development effort, scalability), and
writes report.json and comparison.png (the metric against training cost) to ``--out``.
See docs/choosing.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from compare_data import (  # noqa: E402
    PUBLIC_TABLES,
    SAMPLE,
    CompareError,
    Table,
    read_s3_table,
    read_table,
    split,
)
from compare_report import build_report, render_markdown, write_outputs  # noqa: E402
from compare_xgboost import problem_of  # noqa: E402

from config.loader import ConfigError, load_stage_config  # noqa: E402
from config.schema import StageConfig, TrainingConfig  # noqa: E402
from constructs_lib.builtin_algorithms.problems import unknown_name_message  # noqa: E402

#: Built-in algorithms whose container is built on an open-source library this can run.
OPEN_SOURCE = {"xgboost": "xgboost"}
#: What each target imports beyond the app's requirements (requirements/training.in pins them).
NEEDED_PACKAGES = {"local": ("xgboost", "sklearn", "matplotlib"), "aws": ("matplotlib",)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=SAMPLE,
        help="a label-first CSV file, an S3 prefix, or 'sample' (default: the shipped sample)",
    )
    parser.add_argument(
        "--builtin", help="built-in training definition (default: the first xgboost one)"
    )
    parser.add_argument(
        "--custom", help="custom training definition (default: the first framework one)"
    )
    parser.add_argument("--stage", default="Dev", choices=["Dev", "Prod"])
    parser.add_argument("--target", default="local", choices=["local", "aws"])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".local" / "compare")
    parser.add_argument(
        "--keep", action="store_true", help="keep the split, models and trees in OUT/work"
    )
    parser.add_argument(
        "--config", type=Path, help="environment file (default: config/<stage>.yaml)"
    )
    parser.add_argument("--seed", type=int, default=0, help="split and training seed")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument(
        "--request-rate", type=float, default=10.0, help="requests/s to size an endpoint for"
    )
    parser.add_argument("--tie", type=float, default=0.005, help="metric difference called a tie")
    parser.add_argument("--single-requests", type=_at_least(2), default=50)
    parser.add_argument("--batch-rows", type=_at_least(1), default=100)
    parser.add_argument(
        "--timeout", type=float, default=6 * 3600, help="seconds to follow AWS runs"
    )
    parser.add_argument("--poll", type=float, default=15.0, help="seconds between AWS checks")
    return parser.parse_args(argv)


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def choose(
    config: StageConfig, config_path: Path, builtin: str | None, custom: str | None
) -> tuple[str, str]:
    """The built-in and the custom training definition, as named or by default."""
    where = str(
        config_path.relative_to(REPO_ROOT) if config_path.is_relative_to(REPO_ROOT) else config_path
    )
    training = config.training
    defaults = {
        "built-in": next((n for n, d in training.items() if d.algorithm == "xgboost"), None),
        "custom": next((n for n, d in training.items() if d.framework), None),
    }
    chosen: dict[str, str] = {}
    for role, given in (("built-in", builtin), ("custom", custom)):
        name = given or defaults[role]
        if name is None:
            raise CompareError(f"{where} has no {role} training definition; name one")
        chosen[role] = name
        if name not in training:
            raise CompareError(
                unknown_name_message(
                    f"{name!r} is not a training definition in {where}",
                    name,
                    training,
                    listing=f"known: {', '.join(training)}",
                )
            )
    b, c = training[chosen["built-in"]], training[chosen["custom"]]
    if b.algorithm is None:
        raise CompareError(
            f"BUILTIN {chosen['built-in']!r} is not a built-in algorithm definition in {where} "
            "(it has no `algorithm:`)"
        )
    if c.framework is None:
        raise CompareError(
            f"CUSTOM {chosen['custom']!r} is not a custom model definition in {where} "
            "(it has no `framework:`)"
        )
    return chosen["built-in"], chosen["custom"]


def require_open_source(name: str, definition: TrainingConfig) -> None:
    algorithm = str(definition.algorithm)
    if algorithm not in OPEN_SOURCE:
        raise CompareError(
            f"built-in {name!r} uses {algorithm}, whose SageMaker container is Amazon's own code "
            "with no open-source library to run here, so a local comparison would be a guess: "
            f"compare it on AWS (TARGET=aws), or locally with an xgboost definition"
        )


def require_packages(target: str) -> None:
    """Say which pinned packages are missing before anything runs (or is billed)."""
    import importlib.util

    missing = [name for name in NEEDED_PACKAGES[target] if importlib.util.find_spec(name) is None]
    if missing:
        raise CompareError(
            f"the comparison needs {', '.join(missing)} (pinned in requirements/training.in): "
            "run `make install` after `make lock`"
        )


def problem_for(definition: TrainingConfig, name: str) -> tuple[str, int]:
    """The built-in definition's task as the number of classes it predicts; refuses regression.

    XGBoost says it with ``objective`` (and ``num_class``), linear-learner with ``predictor_type``
    (and ``num_classes``); other algorithms are taken as two-class classifiers.
    """
    hyperparameters = definition.hyperparameters
    if definition.algorithm == "xgboost":
        task = str(hyperparameters.get("objective", "reg:squarederror"))
        regression = problem_of(task) == "regression"
        classes = 2 if task.startswith("binary:") else int(str(hyperparameters.get("num_class", 0)))
    else:
        task = str(hyperparameters.get("predictor_type", "binary_classifier"))
        regression = task == "regressor"
        classes = (
            2 if task == "binary_classifier" else int(str(hyperparameters.get("num_classes", 0)))
        )
    if regression:
        raise CompareError(
            f"built-in {name!r} is a regressor ({task}), but the custom models in "
            "training_code/ are classifiers: there is nothing to compare it with"
        )
    return "classification", classes


def classify(table: Table, definition: TrainingConfig, name: str) -> tuple[str, int]:
    """The problem (classification or regression) and its class count, checked against labels."""
    kind, num_class = problem_for(definition, name)
    objective = str(definition.hyperparameters.get("objective"))
    labels = table.labels
    if np.any(labels < 0) or np.any(labels != np.round(labels)):
        raise CompareError(
            f"DATA {table.source}: labels must be class indices 0, 1, 2, ... for {objective}"
        )
    largest = int(labels.max())
    if objective.startswith("binary:"):
        if largest > 1:
            raise CompareError(
                f"DATA {table.source} has labels 0..{largest}, but {name!r} has the two-class "
                f"objective {objective}; choose a definition with objective multi:softprob and "
                f"num_class {largest + 1}"
            )
        return kind, 2
    if largest >= num_class:
        raise CompareError(
            f"DATA {table.source} has labels 0..{largest}, but {name!r} sets num_class "
            f"{num_class}; set num_class to {largest + 1}"
        )
    return kind, num_class


def load_table(data: str, scratch: Path) -> Table:
    if data in PUBLIC_TABLES:
        path = scratch / f"{data}.csv"
        PUBLIC_TABLES[data](path)
        table = read_table(path)
        return Table(table.features, table.labels, data)
    if data.startswith("s3://"):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return read_s3_table(data, aws_session().client("s3"))
        except (BotoCoreError, ClientError) as error:
            raise CompareError(f"DATA {data}: AWS refused the request: {error}") from None
    return read_table(Path(data))


@contextmanager
def working_directory(out: Path, *, keep: bool) -> Iterator[Path]:
    """Where the split, both models and the SageMaker trees go: ``out/work`` when kept."""
    out.mkdir(parents=True, exist_ok=True)
    if not keep:
        with tempfile.TemporaryDirectory(prefix="compare-", dir=out) as scratch:
            yield Path(scratch)
        return
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    yield work
    print(f"kept {work}")


def run_local(
    args: argparse.Namespace, config: StageConfig, names: tuple[str, str]
) -> dict[str, Any]:
    from compare_local import Problem, run_builtin, run_custom
    from compare_report import Measurement

    builtin_name, custom_name = names
    builtin, custom = config.training[builtin_name], config.training[custom_name]
    require_open_source(builtin_name, builtin)
    measurement = Measurement(single_requests=args.single_requests, batch_rows=args.batch_rows)
    with working_directory(args.out, keep=args.keep) as scratch:
        table = load_table(args.data, scratch)
        kind, num_classes = classify(table, builtin, builtin_name)
        data = split(table, scratch / "data", args.validation_fraction, args.seed)
        require_packages("local")
        print(
            f"[1/3] data: {table.source}, {data.train_rows} train / {len(data.validation)} "
            f"validation rows",
            flush=True,
        )
        problem = Problem(kind, num_classes)
        print(f"[2/3] built-in: {builtin_name} (xgboost library)", flush=True)
        builtin_result = run_builtin(
            builtin_name, builtin, data, problem, scratch, seed=args.seed, measurement=measurement
        )
        print(f"[3/3] custom: {custom_name} ({custom.framework}, local loop)", flush=True)
        custom_result = run_custom(
            custom_name, custom, data, problem, scratch, seed=args.seed, measurement=measurement
        )
        summary = {
            "source": table.source,
            "rows": len(table),
            "train_rows": data.train_rows,
            "validation_rows": len(data.validation),
            "validation_sha256": data.validation_sha256,
            "seed": args.seed,
        }
    return build_report(
        data=summary,
        problem=kind,
        num_classes=num_classes,
        builtin=builtin_result,
        custom=custom_result,
        request_rate=args.request_rate,
        tie_margin=args.tie,
    )


def aws_session() -> Any:
    """The standard AWS configuration: your credentials, region and profile."""
    import boto3

    return boto3.session.Session()


def run_on_aws(
    args: argparse.Namespace, config: StageConfig, names: tuple[str, str]
) -> dict[str, Any]:
    from compare_aws import channels_for, refuse_emulator, run_both, side_result
    from compare_local import owned_code_lines

    refuse_emulator()
    require_packages("aws")
    builtin_name, custom_name = names
    builtin, custom = config.training[builtin_name], config.training[custom_name]
    kind, num_classes = problem_for(builtin, builtin_name)
    prefix = None if args.data == SAMPLE else args.data
    channels = channels_for(prefix)
    session = aws_session()
    jobs = run_both(
        session,
        args.stage,
        {"built-in": builtin_name, "custom": custom_name},
        channels,
        timeout_s=args.timeout,
        poll_s=args.poll,
    )
    s3 = session.client("s3")
    builtin_result = side_result(
        "built-in",
        builtin_name,
        jobs["built-in"],
        description=f"SageMaker {builtin.algorithm}",
        s3=s3,
        owned_lines=0,
    )
    custom_result = side_result(
        "custom",
        custom_name,
        jobs["custom"],
        description=f"{custom.framework} training_code/{custom.framework}",
        s3=s3,
        owned_lines=owned_code_lines(str(custom.framework)),
    )
    summary = {
        "source": prefix or "the definitions' configured prefixes",
        "rows": None,
        "train_rows": None,
        "validation_rows": None,
        "validation_sha256": None,
        "seed": None,
    }
    return build_report(
        data=summary,
        problem=kind,
        num_classes=num_classes,
        builtin=builtin_result,
        custom=custom_result,
        request_rate=args.request_rate,
        tie_margin=args.tie,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config_path = args.config or REPO_ROOT / "config" / f"{args.stage.lower()}.yaml"
    try:
        config = load_stage_config(config_path)
        names = choose(config, config_path, args.builtin, args.custom)
        if args.target == "aws":
            report = run_on_aws(args, config, names)
        else:
            report = run_local(args, config, names)
    except (CompareError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report_path, plot_path = write_outputs(report, args.out)
    print()
    print(render_markdown(report))
    print(f"\nWrote {report_path} and {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

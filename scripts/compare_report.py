"""The comparison's report: metrics, the verdict in the decision's terms, and the plot.

Both sides are scored by the same functions on the same validation rows. The verdict has one
line per criterion (accuracy, cost, development effort, scalability), each with the numbers
behind it; a difference within the tie margin is called a tie, not a win.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HOURS_PER_MONTH = 730
#: Metrics where lower is better; the others are higher-is-better.
LOWER_IS_BETTER = {"rmse", "log_loss"}


@dataclass(frozen=True)
class Latency:
    """Milliseconds per request: one row (p50, p90) and one batch of ``batch_rows`` rows."""

    single_p50_ms: float
    single_p90_ms: float
    batch_rows: int
    batch_ms: float
    basis: str

    @property
    def batch_rows_per_second(self) -> float:
        return self.batch_rows / (self.batch_ms / 1000)


@dataclass(frozen=True)
class Measurement:
    """How latency is sampled: requests of one row, and requests of ``batch_rows`` rows."""

    single_requests: int = 50
    batch_requests: int = 20
    batch_rows: int = 100


def csv_body(rows: np.ndarray) -> str:
    """Rows as a ``text/csv`` request body, one line per row, no label."""
    return "".join(",".join(f"{value:.9g}" for value in row) + "\n" for row in rows)


def time_requests(
    call: Callable[[str], object], rows: np.ndarray, measurement: Measurement, basis: str
) -> Latency:
    """Median and 90th percentile of one-row requests, and the median batch request.

    ``call`` answers one ``text/csv`` request body; the bodies are built before timing starts.
    """
    singles = [csv_body(rows[i % len(rows)][None, :]) for i in range(measurement.single_requests)]
    batch_rows = rows[: measurement.batch_rows]
    batch = csv_body(batch_rows)
    call(singles[0])  # warm-up: first-call costs are not steady-state latency
    single_ms = [_milliseconds(call, body) for body in singles]
    batch_ms = [_milliseconds(call, batch) for _ in range(measurement.batch_requests)]
    return Latency(
        single_p50_ms=statistics.median(single_ms),
        single_p90_ms=statistics.quantiles(single_ms, n=10)[-1],
        batch_rows=len(batch_rows),
        batch_ms=statistics.median(batch_ms),
        basis=basis,
    )


def _milliseconds(call: Callable[[str], object], body: str) -> float:
    started = time.perf_counter()
    call(body)
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class SideResult:
    """What one side measured. Billing fields are set on AWS runs only."""

    role: str  # "built-in" or "custom"
    name: str  # the training definition in config/<stage>.yaml
    description: str
    metrics: dict[str, float]
    training_seconds: float
    model_bytes: int
    owned_code_lines: int
    distributed_training: bool
    latency: Latency | None = None
    billable_seconds: float | None = None
    spot_savings: float | None = None
    instance_type: str | None = None
    notes: list[str] = field(default_factory=list)


def classification_metrics(
    labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray | None, num_classes: int
) -> dict[str, float]:
    """Accuracy; with probabilities also log loss and AUC (one-vs-rest macro when multi-class)."""
    from sklearn.metrics import log_loss, roc_auc_score

    metrics = {"accuracy": float(np.mean(predicted == labels))}
    if probabilities is None:
        return metrics
    classes = list(range(num_classes))
    clipped = np.clip(probabilities, 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    metrics["log_loss"] = float(log_loss(labels, clipped, labels=classes))
    if len(np.unique(labels)) == num_classes:
        if num_classes == 2:
            metrics["auc"] = float(roc_auc_score(labels, probabilities[:, 1]))
        else:
            metrics["auc"] = float(
                roc_auc_score(labels, clipped, multi_class="ovr", average="macro", labels=classes)
            )
    return metrics


def regression_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {"rmse": float(np.sqrt(np.mean((predicted - labels) ** 2)))}


def primary_metric(problem: str, num_classes: int, sides: list[SideResult]) -> str:
    """The metric the accuracy line compares: AUC for two classes, else accuracy; RMSE."""
    if problem == "regression":
        return "rmse"
    preferred = ["auc", "accuracy"] if num_classes == 2 else ["accuracy", "auc"]
    preferred += ["log_loss"]
    for name in preferred:
        if all(name in side.metrics for side in sides):
            return name
    return "accuracy"


def endpoint_instances(latency: Latency | None, request_rate: float) -> int | None:
    """Instances that serve ``request_rate`` requests/s one at a time at the p50 latency."""
    if latency is None:
        return None
    return max(1, math.ceil(request_rate * latency.single_p50_ms / 1000))


def _compare(
    builtin: float | None,
    custom: float | None,
    *,
    lower_better: bool,
    margin: float,
    relative: bool,
) -> str:
    if builtin is None or custom is None:
        return "not measured"
    gap = abs(builtin - custom)
    scale = max(abs(builtin), abs(custom), 1e-12) if relative else 1.0
    if gap / scale <= margin:
        return "tie"
    builtin_better = builtin < custom if lower_better else builtin > custom
    return "built-in" if builtin_better else "custom"


def verdict(
    builtin: SideResult,
    custom: SideResult,
    metric: str,
    request_rate: float,
    tie_margin: float,
) -> list[dict[str, str]]:
    """One line per criterion: the winner and the numbers behind it."""
    lines = []
    b_metric, c_metric = builtin.metrics.get(metric), custom.metrics.get(metric)
    lines.append(
        {
            "criterion": "accuracy",
            "winner": _compare(
                b_metric,
                c_metric,
                lower_better=metric in LOWER_IS_BETTER,
                margin=tie_margin,
                relative=False,
            ),
            "evidence": f"validation {metric}: built-in {_num(b_metric)}, custom {_num(c_metric)}"
            f" (tie within {tie_margin:g})",
        }
    )
    billed = builtin.billable_seconds is not None and custom.billable_seconds is not None
    b_cost = builtin.billable_seconds if billed else builtin.training_seconds
    c_cost = custom.billable_seconds if billed else custom.training_seconds
    what = "billable seconds" if billed else "training wall seconds, local CPU"
    where = (
        f"; instances {builtin.instance_type} vs {custom.instance_type}, whose prices differ"
        if billed and builtin.instance_type != custom.instance_type
        else ""
    )
    lines.append(
        {
            "criterion": "cost: training",
            "winner": _compare(b_cost, c_cost, lower_better=True, margin=0.1, relative=True),
            "evidence": f"{what}: built-in {_num(b_cost, 1)}, custom {_num(c_cost, 1)}"
            f" (tie within 10%){where}",
        }
    )
    b_instances = endpoint_instances(builtin.latency, request_rate)
    c_instances = endpoint_instances(custom.latency, request_rate)
    b_hours = b_instances * HOURS_PER_MONTH if b_instances else None
    c_hours = c_instances * HOURS_PER_MONTH if c_instances else None
    lines.append(
        {
            "criterion": "cost: serving",
            "winner": _compare(b_hours, c_hours, lower_better=True, margin=0.0, relative=True),
            "evidence": f"endpoint instance hours a month at {request_rate:g} requests/s: "
            f"built-in {_num(b_hours, 0)}, custom {_num(c_hours, 0)} (p50 latency "
            f"{_ms(builtin.latency)} vs {_ms(custom.latency)})",
        }
    )
    lines.append(
        {
            "criterion": "development effort",
            "winner": _compare(
                float(builtin.owned_code_lines),
                float(custom.owned_code_lines),
                lower_better=True,
                margin=0.0,
                relative=True,
            ),
            "evidence": f"lines of model code the team maintains: built-in "
            f"{builtin.owned_code_lines}, custom {custom.owned_code_lines}",
        }
    )
    b_rate = builtin.latency.batch_rows_per_second if builtin.latency else None
    c_rate = custom.latency.batch_rows_per_second if custom.latency else None
    lines.append(
        {
            "criterion": "scalability",
            "winner": _compare(b_rate, c_rate, lower_better=False, margin=0.1, relative=True),
            "evidence": f"batch rows/s: built-in {_num(b_rate, 0)}, custom {_num(c_rate, 0)}; "
            f"model size {builtin.model_bytes} vs {custom.model_bytes} bytes; multi-instance "
            f"training: {_yes(builtin.distributed_training)} vs "
            f"{_yes(custom.distributed_training)}",
        }
    )
    return lines


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ms(latency: Latency | None) -> str:
    return "-" if latency is None else f"{latency.single_p50_ms:.2f} ms"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def render_markdown(report: dict[str, Any]) -> str:
    """The report as the Markdown tables `make compare` prints."""
    sides = [report["builtin"], report["custom"]]
    metric_names = sorted({name for side in sides for name in side["metrics"]})
    rows = [
        ("definition", [s["name"] for s in sides]),
        ("model", [s["description"] for s in sides]),
        *((f"validation {m}", [_num(s["metrics"].get(m)) for s in sides]) for m in metric_names),
        ("training seconds", [_num(s["training_seconds"], 1) for s in sides]),
        ("billable seconds", [_num(s["billable_seconds"], 0) for s in sides]),
        ("spot savings", [_percent(s["spot_savings"]) for s in sides]),
        ("model.tar.gz bytes", [str(s["model_bytes"]) for s in sides]),
        ("latency p50 / p90, 1 row (ms)", [_latency(s["latency"]) for s in sides]),
        ("batch latency (ms)", [_batch(s["latency"]) for s in sides]),
        ("endpoint instances", [_str(s["endpoint_instances"]) for s in sides]),
    ]
    data = report["data"]
    described = (
        f"{data['rows']} rows, {data['train_rows']} train / {data['validation_rows']} "
        f"validation (seed {data['seed']}, validation sha256 {data['validation_sha256'][:12]})"
        if data["rows"] is not None
        else "its train/ and validation/ channels"
    )
    out = [
        f"Data: {data['source']}: {described}, {report['problem']}",
        "",
        "| | built-in | custom |",
        "|---|---|---|",
        *(f"| {label} | {values[0]} | {values[1]} |" for label, values in rows),
        "",
        "| criterion | winner | evidence |",
        "|---|---|---|",
        *(f"| {v['criterion']} | {v['winner']} | {v['evidence']} |" for v in report["verdict"]),
    ]
    notes = [note for side in sides for note in side["notes"]]
    out += ["", *(f"- {note}" for note in notes)] if notes else []
    return "\n".join(out)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _str(value: object) -> str:
    return "-" if value is None else str(value)


def _latency(latency: dict[str, Any] | None) -> str:
    if latency is None:
        return "-"
    return f"{latency['single_p50_ms']:.2f} / {latency['single_p90_ms']:.2f}"


def _batch(latency: dict[str, Any] | None) -> str:
    if latency is None:
        return "-"
    return f"{latency['batch_ms']:.1f} for {latency['batch_rows']} rows"


def build_report(
    *,
    data: dict[str, Any],
    problem: str,
    num_classes: int,
    builtin: SideResult,
    custom: SideResult,
    request_rate: float,
    tie_margin: float,
) -> dict[str, Any]:
    """Everything measured, as one JSON-ready document."""
    metric = primary_metric(problem, num_classes, [builtin, custom])
    sides = {}
    for key, side in (("builtin", builtin), ("custom", custom)):
        document = asdict(side)
        document["endpoint_instances"] = endpoint_instances(side.latency, request_rate)
        sides[key] = document
    return {
        "data": data,
        "problem": problem if problem == "regression" else f"{num_classes}-class classification",
        "primary_metric": metric,
        "request_rate": request_rate,
        **sides,
        "verdict": verdict(builtin, custom, metric, request_rate, tie_margin),
    }


def write_outputs(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """report.json and comparison.png (the metric against training cost) under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / "report.json"
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_path = out_dir / "comparison.png"
    plot(report, plot_path)
    return report_path, plot_path


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = report["primary_metric"]
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    billed = all(report[k]["billable_seconds"] is not None for k in ("builtin", "custom"))
    for key, colour in (("builtin", "tab:blue"), ("custom", "tab:orange")):
        side = report[key]
        cost = side["billable_seconds"] if billed else side["training_seconds"]
        value = side["metrics"].get(metric)
        if value is None:
            continue
        axes.scatter([cost], [value], s=80, color=colour, label=f"{side['role']}: {side['name']}")
        axes.annotate(f"{value:.4f}", (cost, value), textcoords="offset points", xytext=(6, 6))
    axes.set_xlabel("billable training seconds" if billed else "training seconds (local CPU)")
    axes.set_ylabel(f"validation {metric}")
    axes.ticklabel_format(axis="y", useOffset=False)  # 0.9996, not 1 - 0.0004
    axes.set_title(f"{metric} against training cost")
    axes.margins(0.3)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

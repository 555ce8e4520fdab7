"""Time the custom model's real inference hooks in process, as the built-in side is timed.

The custom model's serving code (training_code/<framework>/inference.py: ``model_fn``, then
``transform_fn`` or the three step hooks, as ``serve`` calls them) answers ``text/csv`` request
bodies here without the HTTP server, on one thread, so its latency has the same basis as the
built-in side's (Booster.predict on one thread behind the same CSV parsing). It runs as its own
process so the framework's imports stay out of the comparison's own process:

    python scripts/compare_serving.py FRAMEWORK MODEL_DIR VALIDATION_CSV MEASUREMENT_JSON

and prints the Latency as JSON.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from compare_data import REPO_ROOT, read_table
from compare_report import Measurement, time_requests

TRAINING_CODE = REPO_ROOT / "training_code"
BASIS = "in process, one thread: CSV body parsed, predicted, CSV answer written"


def limit_threads(framework: str) -> None:
    """One intra-op thread, as the built-in side's predictor uses."""
    if framework == "pytorch":
        import torch

        torch.set_num_threads(1)
    else:
        tf = importlib.import_module("tensorflow")
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def main(argv: Sequence[str] | None = None) -> int:
    framework, model_dir, validation_csv, measurement_json = (argv or sys.argv[1:])[:4]
    sys.path[:0] = [str(TRAINING_CODE / framework), str(TRAINING_CODE)]
    limit_threads(framework)
    inference = importlib.import_module("inference")  # training_code/<framework>/inference.py

    model = inference.model_fn(model_dir)

    def answer(body: str) -> object:
        """One request through the handler as `serve` calls it: transform_fn or the three steps."""
        if hasattr(inference, "transform_fn"):
            return inference.transform_fn(model, body, "text/csv", "text/csv")
        features = inference.input_fn(body, "text/csv")
        return inference.output_fn(inference.predict_fn(features, model), "text/csv")

    measurement = Measurement(**json.loads(measurement_json))
    rows = read_table(Path(validation_csv)).features
    latency = time_requests(answer, rows, measurement, BASIS)
    print(json.dumps(dataclasses.asdict(latency)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

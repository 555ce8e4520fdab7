#!/usr/bin/env python3
"""The local loop: train, package, serve and invoke a model on a laptop, no Docker, no GPU.

    python scripts/local_loop.py --framework pytorch|tensorflow [--port 8080] [--epochs 5] [--keep]

What SageMaker does, done with this checkout's real entry points (those of the images):

1. writes deterministic sample data and the job's config into an ``/opt/ml`` tree in a
   temporary directory and runs ``train`` (the image's ENTRYPOINT) against it;
2. packs ``/opt/ml/model`` into model.tar.gz as SageMaker does after training;
3. extracts it into a fresh ``/opt/ml/model``, as SageMaker prepares an endpoint's container;
4. starts ``serve`` on the port and waits for ``GET /ping``;
5. sends ``POST /invocations`` with a few CSV rows, prints the prediction and stops the server
   with SIGTERM.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tarfile
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from training_code.local_sagemaker.containers import (  # noqa: E402
    FRAMEWORKS,
    ModelServer,
    pack_model,
    run_training,
    unpack_model,
)
from training_code.local_sagemaker.sample_data import write_channels  # noqa: E402
from training_code.local_sagemaker.tree import SageMakerTree  # noqa: E402

SAMPLE_ROWS = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", required=True, choices=FRAMEWORKS)
    parser.add_argument("--port", type=int, default=8080, help="serving port (default 8080)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # where serve binds
        except OSError:
            return False
    return True


def run(framework: str, port: int, epochs: int, scratch: Path) -> int:
    """The five steps; returns the exit code."""
    training = SageMakerTree(scratch / "training" / "opt" / "ml")
    channels = write_channels(training.data_dir)
    training.write_config({"epochs": epochs, "hidden_sizes": "[32, 16]", "batch_size": 32})
    print(f"[1/5] train: {framework} under {training.base}", flush=True)
    result = run_training(framework, training)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        reason = training.failure_file.read_text() if training.failure_file.exists() else "-"
        print(f"training failed (exit {result.returncode}): {reason}", file=sys.stderr)
        return 1

    tarball = pack_model(training.model_dir, training.output_dir / "model.tar.gz")
    with tarfile.open(tarball) as archive:
        members = sorted({name.split("/")[0] for name in archive.getnames()})
    print(f"[2/5] package: {tarball} ({', '.join(members)})")

    serving = SageMakerTree(scratch / "serving" / "opt" / "ml")
    unpack_model(tarball, serving.model_dir)
    print(f"[3/5] extract: {serving.model_dir}")

    lines = channels["validation"].read_text().splitlines()[:SAMPLE_ROWS]
    labels = [line.split(",", 1)[0] for line in lines]
    body = "".join(line.split(",", 1)[1] + "\n" for line in lines).encode()
    with ModelServer(framework, serving, port) as server:
        print(f"[4/5] serve: GET http://localhost:{port}/ping -> 200")
        response = server.invoke(body, "text/csv", "application/json")
        print(f"[5/5] POST /invocations, {SAMPLE_ROWS} CSV rows (true labels {labels}):")
        print(f"      {response.status} {response.headers.get('content-type')}: {response.text}")
        code = server.stop()
    print(f"serve stopped on SIGTERM (exit {code})")
    return 0 if response.status == 200 and code == 0 else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not port_is_free(args.port):
        print(f"port {args.port} is in use; pass --port with a free one", file=sys.stderr)
        return 2
    if args.keep:
        scratch = Path(tempfile.mkdtemp(prefix="local-loop-"))
        print(f"keeping {scratch}")
        return run(args.framework, args.port, args.epochs, scratch)
    with tempfile.TemporaryDirectory(prefix="local-loop-") as scratch_dir:
        return run(args.framework, args.port, args.epochs, Path(scratch_dir))


if __name__ == "__main__":
    sys.exit(main())

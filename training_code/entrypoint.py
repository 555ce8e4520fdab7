"""The container's ENTRYPOINT: ``entrypoint.py FRAMEWORK_DIR train|serve``.

SageMaker starts training containers with ``docker run IMAGE train`` and inference containers
with ``docker run IMAGE serve``. Each Dockerfile's exec-form ENTRYPOINT names this script and
its framework directory, so that word selects what runs:

- ``train`` replaces this process with ``FRAMEWORK_DIR/train.py`` (any further arguments are
  passed on as hyperparameter flags), so SIGTERM reaches the training code directly;
- ``serve`` runs the HTTP server around ``FRAMEWORK_DIR/inference.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

USAGE = "usage: entrypoint.py FRAMEWORK_DIR {train [--name value ...] | serve}"
EXIT_USAGE = 2


def main(argv: list[str]) -> int:
    """Dispatch ``train`` or ``serve``; returns an exit code (``train`` never returns)."""
    if len(argv) < 2 or argv[1] not in ("train", "serve") or (argv[1] == "serve" and argv[2:]):
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    framework_dir, command = Path(argv[0]).resolve(), argv[1]
    if command == "train":
        script = str(framework_dir / "train.py")
        os.execv(sys.executable, [sys.executable, script, *argv[2:]])
    from sagemaker_contract.errors import ContractError
    from sagemaker_contract.job import configure_logging
    from sagemaker_contract.server import serve

    configure_logging()
    try:
        serve(framework_dir / "inference.py")
    except ContractError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

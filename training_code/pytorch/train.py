"""Train the PyTorch tabular classifier under the SageMaker training contract.

Runs as the image's ``train`` (through entrypoint.py), in script mode as ``pytorch/train.py``
under /opt/ml/code, and as each process that torchrun starts. A job with several GPUs or hosts
needs one process per GPU: when torchrun did not start this script (``LOCAL_RANK`` unset), it
starts torchrun on itself, as the training toolkit's ``torch_distributed`` option would.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

# Script mode runs this file as /opt/ml/code/pytorch/train.py: make the shared package importable.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from sagemaker_contract.cluster import torchrun_command
from sagemaker_contract.environment import output_dir
from sagemaker_contract.hyperparameters import (
    Hyperparameters,
    auto_or,
    hyperparameter,
    integer,
)
from sagemaker_contract.job import TrainingJob, run_training

log = logging.getLogger("train")


@dataclasses.dataclass(frozen=True)
class TorchHyperparameters(Hyperparameters):
    """The shared hyperparameters, plus how many processes to start on each host."""

    processes_per_host: int | None = hyperparameter(
        None, auto_or(integer(1)), "training processes per host; auto = one per GPU (1 on CPU)"
    )


def train_or_launch(job: TrainingJob[TorchHyperparameters]) -> int | None:
    """Train in this process, or start torchrun when the job needs several processes."""
    import torch

    processes = job.hyperparameters.processes_per_host
    if processes is None:
        gpus = job.environment.num_gpus
        processes = max(1, torch.cuda.device_count() if gpus is None else gpus)
    if "LOCAL_RANK" in os.environ or (processes == 1 and len(job.environment.hosts) == 1):
        import torch_training

        torch_training.train(job)
        return None
    job.check_replicas(processes * len(job.environment.hosts))
    return _run_torchrun(torchrun_command(job.environment, processes, Path(__file__), sys.argv[1:]))


def _run_torchrun(command: list[str]) -> int:
    """Run torchrun, passing SIGTERM/SIGINT on to it, and return its exit code.

    A failing process writes the failure file itself; if torchrun fails before any did, say so.
    """
    log.info("launching: %s", " ".join(command))
    process = subprocess.Popen(command)
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = process.wait()
    if stopping:  # the processes saved their work; torchrun reports the signal as an error
        return 0
    if code != 0 and not (output_dir(os.environ) / "failure").is_file():
        raise RuntimeError(f"torchrun exited with code {code}; the log shows each process's error")
    return code


if __name__ == "__main__":
    sys.exit(run_training(TorchHyperparameters, sys.argv[1:], train_or_launch))

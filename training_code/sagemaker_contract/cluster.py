"""The training cluster, derived from SageMaker's hosts list.

Hosts are ``algo-1 .. algo-N`` on every instance; host 0 leads. PyTorch jobs start one process
per GPU through torchrun on every host (node rank = host index, master = host 0, port 7777 like
the training toolkit's ``torch_distributed`` launcher). TensorFlow jobs spanning hosts use
MultiWorkerMirroredStrategy, configured by ``TF_CONFIG`` (worker i = host i, port 2222).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagemaker_contract.environment import TrainingEnvironment

TORCH_MASTER_PORT = 7777
TF_WORKER_PORT = 2222


def torchrun_command(
    environment: TrainingEnvironment,
    processes_per_host: int,
    script: Path,
    script_args: Sequence[str],
) -> list[str]:
    """The command that runs ``script`` in ``processes_per_host`` processes on every host.

    One host uses torchrun's standalone mode (a local rendezvous on a free port); several use a
    static rendezvous at host 0.
    """
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={processes_per_host}",
    ]
    if len(environment.hosts) == 1:
        command.append("--standalone")
    else:
        command += [
            f"--nnodes={len(environment.hosts)}",
            f"--node-rank={environment.host_rank}",
            f"--master-addr={environment.hosts[0]}",
            f"--master-port={TORCH_MASTER_PORT}",
        ]
    return [*command, str(script), *script_args]


def tf_config(environment: TrainingEnvironment) -> dict[str, Any]:
    """``TF_CONFIG`` for MultiWorkerMirroredStrategy across the job's hosts."""
    return {
        "cluster": {"worker": [f"{host}:{TF_WORKER_PORT}" for host in environment.hosts]},
        "task": {"type": "worker", "index": environment.host_rank},
    }

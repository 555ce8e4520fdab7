"""The PyTorch training loop: one process, or one of torchrun's (DistributedDataParallel).

The whole train channel sits on the device as two tensors; each epoch every process shuffles
it with the same seed and takes its own equal share, in mini-batches of ``batch_size /
processes``. Mixed precision is float16 autocast with gradient scaling on CUDA, bfloat16
autocast on CPU. Rank 0 prints metrics, writes a checkpoint after every epoch and saves the model.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F  # noqa: N812 - the conventional name
from sagemaker_contract.checkpoints import Checkpoint, CheckpointStore
from sagemaker_contract.data import Dataset
from sagemaker_contract.hyperparameters import Hyperparameters
from sagemaker_contract.job import TrainingJob
from sagemaker_contract.metrics import report_epoch
from sagemaker_contract.signals import StopRequest
from torch.nn.parallel import DistributedDataParallel
from torch_model import TabularMLP, build_model, save_for_serving

CHECKPOINT_FILE = "state.pt"
EVALUATION_BATCH = 4096
#: With several processes, they agree every this many steps whether a stop was requested.
STOP_SYNC_STEPS = 10

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Process:
    """This process's place in the job, from torchrun's variables (one process without them)."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @classmethod
    def from_environ(cls) -> Process:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        else:
            device = torch.device("cpu")
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), local_rank, world_size, device)

    @property
    def leader(self) -> bool:
        return self.rank == 0


@dataclass(frozen=True)
class Precision:
    """Full float32 (``dtype`` None) or autocast to ``dtype`` on ``device_type``."""

    device_type: str
    dtype: torch.dtype | None

    @classmethod
    def choose(cls, device: torch.device, mixed: bool) -> Precision:
        """float16 on CUDA (with gradient scaling), bfloat16 on CPU, when ``mixed``."""
        if not mixed:
            return cls(device.type, None)
        return cls(device.type, torch.float16 if device.type == "cuda" else torch.bfloat16)

    @property
    def name(self) -> str:
        if self.dtype is None:
            return "float32"
        return "mixed_float16" if self.dtype == torch.float16 else "mixed_bfloat16"

    @property
    def scales_gradients(self) -> bool:
        """float16 gradients underflow without loss scaling; bfloat16 ones do not."""
        return self.dtype == torch.float16

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)


def train(job: TrainingJob[Any]) -> None:
    """Train, checkpointing every epoch and resuming from the newest checkpoint; save the model."""
    stop = StopRequest().install()
    process = Process.from_environ()
    if process.world_size > 1:
        dist.init_process_group("nccl" if process.device.type == "cuda" else "gloo")
    try:
        _train(job, process, stop)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(job: TrainingJob[Any], process: Process, stop: StopRequest) -> None:
    hp: Hyperparameters = job.hyperparameters
    job.check_replicas(process.world_size)
    per_process_batch = hp.batch_size // process.world_size
    torch.manual_seed(hp.seed)
    model = build_model(job.architecture).to(process.device)
    model.set_standardization(job.feature_mean, job.feature_std)
    optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate)
    precision = Precision.choose(process.device, hp.mixed_precision)
    scaler = torch.amp.GradScaler(process.device.type, enabled=precision.scales_gradients)
    store = CheckpointStore(job.environment.checkpoint_dir)

    def load(checkpoint: Checkpoint) -> None:
        state = torch.load(
            checkpoint.directory / CHECKPOINT_FILE, map_location=process.device, weights_only=True
        )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if state["scaler"] and scaler.is_enabled():
            scaler.load_state_dict(state["scaler"])

    completed = store.restore(job.architecture, load)
    log.info(
        "device=%s precision=%s processes=%d start_epoch=%d",
        process.device,
        precision.name,
        process.world_size,
        completed + 1,
    )
    network: torch.nn.Module = model
    if process.world_size > 1:
        device_ids = [process.local_rank] if process.device.type == "cuda" else None
        network = DistributedDataParallel(model, device_ids=device_ids)
    features, labels = _tensors(job.train, process.device)
    validation = _tensors(job.validation, process.device) if job.validation else None
    optimisation = _Optimisation(
        network=network,
        optimizer=optimizer,
        scaler=scaler,
        precision=precision,
        process=process,
        stop=stop,
    )
    for epoch in range(completed + 1, hp.epochs + 1):
        seed = hp.seed * 1_000_003 + epoch
        values = optimisation.epoch(features, labels, per_process_batch, seed=seed)
        if values is None:
            log.warning(
                "stopped during epoch %d; the checkpoint of epoch %d stays", epoch, completed
            )
            break
        if validation is not None:
            values |= _evaluate(model, *validation, precision)
        report_epoch(epoch, values, hp.learning_rate, emit=process.leader)
        if process.leader:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
            }
            store.save(epoch, job.architecture, _writer(state))
        completed = epoch
    if process.leader:
        save_for_serving(model, job.architecture, job.environment.model_dir)
        log.info("model after %d epochs saved to %s", completed, job.environment.model_dir)


@dataclass(frozen=True, kw_only=True)
class _Optimisation:
    """Runs epochs of optimisation over this process's share of the data."""

    network: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    precision: Precision
    process: Process
    stop: StopRequest

    def epoch(
        self, features: torch.Tensor, labels: torch.Tensor, batch: int, seed: int
    ) -> dict[str, float] | None:
        """Train one epoch; the epoch's metrics over all processes, or None if stopped."""
        self.network.train()
        world, device = self.process.world_size, self.process.device
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        share = order[self.process.rank :: world][: len(labels) // world].to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        started = time.perf_counter()
        for step, begin in enumerate(range(0, len(share), batch)):
            if self._stop_requested(step):
                return None
            rows = share[begin : begin + batch]
            logits, loss = self._optimise(features[rows], labels[rows])
            loss_sum += loss.detach().float() * len(rows)
            correct += (logits.detach().argmax(dim=1) == labels[rows]).sum()
        totals = torch.stack(
            [loss_sum, correct.float(), torch.tensor(float(len(share)), device=device)]
        )
        if world > 1:
            dist.all_reduce(totals)
        loss_total, correct_total, count = totals.tolist()  # waits for the device
        seconds = time.perf_counter() - started
        return {
            "train_loss": loss_total / count,
            "train_accuracy": correct_total / count,
            "samples_per_second": count / seconds,
        }

    def _optimise(
        self, features: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with self.precision.autocast():
            logits = self.network(features)
            loss = F.cross_entropy(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return logits, loss

    def _stop_requested(self, step: int) -> bool:
        if self.process.world_size == 1:
            return self.stop.requested
        if step % STOP_SYNC_STEPS:
            return False
        flag = torch.tensor(float(self.stop.requested), device=self.process.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())


@torch.no_grad()
def _evaluate(
    model: TabularMLP, features: torch.Tensor, labels: torch.Tensor, precision: Precision
) -> dict[str, float]:
    """Loss and accuracy over a whole channel, in eval mode (every process computes the same)."""
    model.eval()
    loss_sum = torch.zeros((), device=features.device)
    correct = torch.zeros((), device=features.device)
    for begin in range(0, len(labels), EVALUATION_BATCH):
        rows = slice(begin, begin + EVALUATION_BATCH)
        with precision.autocast():
            logits = model(features[rows]).float()
        loss_sum += F.cross_entropy(logits, labels[rows], reduction="sum")
        correct += (logits.argmax(dim=1) == labels[rows]).sum()
    count = len(labels)
    return {
        "validation_loss": loss_sum.item() / count,
        "validation_accuracy": correct.item() / count,
    }


def _writer(state: dict[str, Any]) -> Callable[[Path], None]:
    return lambda directory: torch.save(state, directory / CHECKPOINT_FILE)


def _tensors(dataset: Dataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(dataset.features).to(device),
        torch.from_numpy(dataset.labels).to(device),
    )

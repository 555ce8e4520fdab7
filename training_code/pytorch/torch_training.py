"""The PyTorch training loop: one process, or one of torchrun's (DistributedDataParallel).

The whole train channel sits on the device as two tensors; each epoch every process shuffles
it with the same seed and takes its own equal share, in mini-batches of ``batch_size /
processes``. AdamW follows the job's plan (``sagemaker_contract.plan``): a learning rate set
before every step, the best epoch by validation loss kept, early stopping. Mixed precision is
float16 autocast with gradient scaling on CUDA, bfloat16 autocast on CPU. Rank 0 prints
metrics, writes a checkpoint after every epoch and saves the best epoch's model.
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
from sagemaker_contract.plan import BestEpoch, TrainingPlan
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
    plan = job.plan
    job.check_replicas(process.world_size)
    torch.manual_seed(hp.seed)
    model = build_model(job.architecture).to(process.device)
    model.set_standardization(job.feature_mean, job.feature_std)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=plan.learning_rate, weight_decay=plan.weight_decay
    )
    precision = Precision.choose(process.device, hp.mixed_precision)
    scaler = torch.amp.GradScaler(process.device.type, enabled=precision.scales_gradients)
    store = CheckpointStore(job.environment.checkpoint_dir)
    best = _BestModel(model, BestEpoch(plan.patience))

    def load(checkpoint: Checkpoint) -> None:
        state = torch.load(
            checkpoint.directory / CHECKPOINT_FILE, map_location=process.device, weights_only=True
        )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if state["scaler"] and scaler.is_enabled():
            scaler.load_state_dict(state["scaler"])
        best.restore(checkpoint, state.get("best_model"))

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
    optimisation = _Optimisation(
        network=network,
        optimizer=optimizer,
        scaler=scaler,
        precision=precision,
        process=process,
        stop=stop,
        plan=plan,
    )
    completed = _run_epochs(job, optimisation, best, store, completed)
    best.load_best()
    if process.leader:
        save_for_serving(model, job.architecture, job.environment.model_dir)
        log.info(
            "model of epoch %d (of %d) saved to %s",
            best.tracker.epoch,
            completed,
            job.environment.model_dir,
        )


def _run_epochs(
    job: TrainingJob[Any],
    optimisation: _Optimisation,
    best: _BestModel,
    store: CheckpointStore,
    completed: int,
) -> int:
    """Train the epochs after ``completed``, checkpointing each; return the last completed."""
    hp, process, model = job.hyperparameters, optimisation.process, best.model
    features, labels = _tensors(job.train, process.device)
    validation = _tensors(job.validation, process.device) if job.validation else None
    for epoch in range(completed + 1, job.plan.epochs + 1):
        if best.tracker.should_stop:
            log.info("early stop: no better validation loss since epoch %d", best.tracker.epoch)
            break
        batch = job.plan.batch_size // process.world_size
        seed = hp.seed * 1_000_003 + epoch
        values = optimisation.epoch(features, labels, batch, seed=seed, number=epoch)
        if values is None:
            log.warning(
                "stopped during epoch %d; the checkpoint of epoch %d stays", epoch, completed
            )
            break
        if validation is not None:
            values |= _evaluate(model, *validation, optimisation.precision)
        report_epoch(epoch, values, job.plan.learning_rate, emit=process.leader)
        best.record(epoch, values.get("validation_loss"))
        if process.leader:
            state = {
                "model": model.state_dict(),
                "optimizer": optimisation.optimizer.state_dict(),
                "scaler": optimisation.scaler.state_dict(),
                "best_model": best.state,
            }
            metadata = {**job.architecture, **best.tracker.as_metadata()}
            store.save(epoch, metadata, _writer(state))
        completed = epoch
    return completed


@dataclass
class _BestModel:
    """The weights of the epoch with the best validation loss (of the last, without one)."""

    model: torch.nn.Module
    tracker: BestEpoch
    state: dict[str, torch.Tensor] | None = None

    def record(self, epoch: int, validation_loss: float | None) -> None:
        if self.tracker.record(epoch, validation_loss):
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, checkpoint: Checkpoint, state: dict[str, torch.Tensor] | None) -> None:
        self.tracker.restore(dict(checkpoint.metadata), checkpoint.epoch)
        self.state = state

    def load_best(self) -> None:
        if self.state is not None:
            self.model.load_state_dict(self.state)


@dataclass(frozen=True, kw_only=True)
class _Optimisation:
    """Runs epochs of optimisation over this process's share of the data."""

    network: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    precision: Precision
    process: Process
    stop: StopRequest
    plan: TrainingPlan

    def epoch(
        self, features: torch.Tensor, labels: torch.Tensor, batch: int, seed: int, number: int
    ) -> dict[str, float] | None:
        """Train epoch ``number``; its metrics over all processes, or None if stopped."""
        self.network.train()
        world, device = self.process.world_size, self.process.device
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        share = order[self.process.rank :: world][: len(labels) // world].to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        started = time.perf_counter()
        steps = -(-len(share) // batch)
        for step, begin in enumerate(range(0, len(share), batch)):
            if self._stop_requested(step):
                return None
            progress = (number - 1 + step / steps) / self.plan.epochs
            for group in self.optimizer.param_groups:
                group["lr"] = self.plan.learning_rate_at(progress)
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

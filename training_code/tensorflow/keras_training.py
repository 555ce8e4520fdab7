"""The TensorFlow training loop: Keras ``fit`` under a tf.distribute strategy, resumable.

Strategy from the hosts list: MultiWorkerMirroredStrategy across hosts (``TF_CONFIG`` built from
the hosts list), MirroredStrategy over several GPUs of one host, else the default (one GPU or the
CPU). ``batch_size`` is the global batch. AdamW follows the job's plan
(``sagemaker_contract.plan``): a learning rate set before every step, the best epoch by validation
loss kept, early stopping. Mixed precision is Keras's ``mixed_float16`` policy on
GPU (with loss scaling, which ``compile`` adds) and ``mixed_bfloat16`` on CPU. The chief (host 0)
prints metrics, writes a checkpoint after every epoch and exports the best epoch's model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras_model import build_model, export_for_serving
from sagemaker_contract.checkpoints import Checkpoint, CheckpointStore
from sagemaker_contract.cluster import tf_config
from sagemaker_contract.data import Dataset
from sagemaker_contract.environment import TrainingEnvironment
from sagemaker_contract.job import TrainingJob
from sagemaker_contract.metrics import report_epoch
from sagemaker_contract.plan import BestEpoch
from sagemaker_contract.signals import StopRequest

WEIGHTS_FILE = "model.weights.h5"
BEST_WEIGHTS_FILE = "best_weights.npz"

log = logging.getLogger(__name__)


def train(job: TrainingJob[Any]) -> None:
    """Train, checkpointing every epoch and resuming from the newest checkpoint; save the model."""
    stop = StopRequest().install()
    hp = job.hyperparameters
    plan = job.plan
    gpus = tf.config.list_physical_devices("GPU")
    strategy = _strategy(job.environment, len(gpus))
    job.check_replicas(strategy.num_replicas_in_sync)
    precision = ("mixed_float16" if gpus else "mixed_bfloat16") if hp.mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(hp.seed)
    with strategy.scope():
        model = build_model(job.architecture, job.feature_mean, job.feature_std)
        model.compile(
            optimizer=keras.optimizers.AdamW(plan.learning_rate, weight_decay=plan.weight_decay),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        model.optimizer.build(model.trainable_variables)
    chief = job.environment.host_rank == 0
    store = CheckpointStore(job.environment.checkpoint_dir)
    metadata = {**job.architecture, "precision": precision}
    epochs = _EpochCallback(job=job, store=store, metadata=metadata, stop=stop, chief=chief)

    def load(checkpoint: Checkpoint) -> None:
        model.load_weights(checkpoint.directory / WEIGHTS_FILE)
        epochs.restore(checkpoint)

    completed = store.restore(metadata, load)
    epochs.completed = completed
    log.info(
        "device=%s precision=%s strategy=%s replicas=%d start_epoch=%d",
        "gpu" if gpus else "cpu",
        precision,
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
        completed + 1,
    )
    if completed < plan.epochs and not epochs.best.should_stop:
        model.fit(
            _batches(job.train, plan.batch_size, shuffle_seed=hp.seed),
            validation_data=_batches(job.validation, plan.batch_size) if job.validation else None,
            epochs=plan.epochs,
            initial_epoch=completed,
            callbacks=[epochs],
            shuffle=False,  # the dataset shuffles itself, seeded
            verbose=0,
        )
    if epochs.best_weights is not None:
        model.set_weights(epochs.best_weights)
    _export(model, job.environment.model_dir, chief)
    log.info(
        "model of epoch %d (of %d) saved to %s",
        epochs.best.epoch,
        epochs.completed,
        job.environment.model_dir,
    )


class _EpochCallback(keras.callbacks.Callback):
    """Per epoch: stop on SIGTERM between batches, print metrics, check the loss, checkpoint."""

    def __init__(
        self,
        *,
        job: TrainingJob[Any],
        store: CheckpointStore,
        metadata: dict[str, Any],
        stop: StopRequest,
        chief: bool,
    ) -> None:
        super().__init__()
        self.job = job
        self.store = store
        self.metadata = metadata
        self.stop = stop
        self.chief = chief
        self.completed = 0  # the last epoch whose checkpoint exists
        self.best = BestEpoch(job.plan.patience)
        self.best_weights: list[np.ndarray] | None = None
        self._interrupted = False
        self._started = self._last_batch_end = 0.0
        self._epoch = 0
        self._steps = 1

    def restore(self, checkpoint: Checkpoint) -> None:
        """Take the best epoch's state saved with ``checkpoint``."""
        self.best.restore(dict(checkpoint.metadata), checkpoint.epoch)
        best_file = checkpoint.directory / BEST_WEIGHTS_FILE
        if best_file.is_file():
            with np.load(best_file) as arrays:
                self.best_weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()
        self._epoch = epoch
        planned = -(-len(self.job.train) // self.job.plan.batch_size)
        self._steps = self.params.get("steps") or planned  # None when Keras cannot count them

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        progress = (self._epoch + batch / self._steps) / self.job.plan.epochs
        self.model.optimizer.learning_rate = self.job.plan.learning_rate_at(progress)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._last_batch_end = time.perf_counter()
        if self.stop.requested:
            self._interrupted = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        number = epoch + 1
        if self._interrupted:  # Keras still ends the cut-short epoch: it is not a checkpoint
            log.warning(
                "stopped during epoch %d; the checkpoint of epoch %d stays", number, self.completed
            )
            return
        logs = logs or {}
        values = {
            "train_loss": float(logs["loss"]),
            "train_accuracy": float(logs["accuracy"]),
            "samples_per_second": len(self.job.train) / (self._last_batch_end - self._started),
        }
        if "val_loss" in logs:
            values["validation_loss"] = float(logs["val_loss"])
            values["validation_accuracy"] = float(logs["val_accuracy"])
        report_epoch(number, values, self.job.plan.learning_rate, emit=self.chief)
        if self.best.record(number, values.get("validation_loss")):
            self.best_weights = self.model.get_weights()
        if self.chief:
            self.store.save(number, {**self.metadata, **self.best.as_metadata()}, self._write)
        self.completed = number
        if self.best.should_stop:
            log.info("early stop: no better validation loss since epoch %d", self.best.epoch)
            self.model.stop_training = True

    def _write(self, directory: Path) -> None:
        self.model.save_weights(directory / WEIGHTS_FILE)
        if self.best_weights is not None:
            np.savez(directory / BEST_WEIGHTS_FILE, *self.best_weights)


def _strategy(environment: TrainingEnvironment, gpus: int) -> tf.distribute.Strategy:
    if len(environment.hosts) > 1:
        os.environ["TF_CONFIG"] = json.dumps(tf_config(environment))
        return tf.distribute.MultiWorkerMirroredStrategy()
    if gpus > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _batches(dataset: Dataset, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    batches = tf.data.Dataset.from_tensor_slices((dataset.features, dataset.labels))
    if shuffle_seed is not None:
        batches = batches.shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return batches.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)


def _export(model: keras.Model, model_dir: Path, chief: bool) -> None:
    """The chief exports to the model directory; other workers must export too, to a scratch one."""
    if chief:
        export_for_serving(model, model_dir)
        return
    scratch = Path(tempfile.mkdtemp(prefix="export-"))
    try:
        export_for_serving(model, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

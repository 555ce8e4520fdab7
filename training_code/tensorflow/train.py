"""Train the TensorFlow (Keras) tabular classifier under the SageMaker training contract.

Runs as the image's ``train`` (through entrypoint.py) and in script mode as
``tensorflow/train.py`` under /opt/ml/code; the same process spans all GPUs of its host, and one
runs on every host of a multi-host job (see keras_training).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Script mode runs this file as /opt/ml/code/tensorflow/train.py: make the shared package
# importable (appended, so the real tensorflow package still wins over this directory's name).
sys.path.append(str(Path(__file__).resolve().parents[1]))

from sagemaker_contract.hyperparameters import Hyperparameters
from sagemaker_contract.job import TrainingJob, run_training


def train(job: TrainingJob[Hyperparameters]) -> None:
    """Import TensorFlow only now that the job has been validated, then train."""
    import keras_training

    keras_training.train(job)


if __name__ == "__main__":
    sys.exit(run_training(Hyperparameters, sys.argv[1:], train))

"""A job is validated as a whole before any framework is imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sagemaker_contract.errors import ContractError
from sagemaker_contract.hyperparameters import Hyperparameters
from sagemaker_contract.job import prepare_job

from training_code.local_sagemaker.sample_data import make_classification, write_csv

from .conftest import make_tree


def test_prepares_the_job_and_its_architecture(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {"hidden_sizes": "8,4", "num_classes": "4"})
    job = prepare_job(Hyperparameters, [], {"SAGEMAKER_BASE_DIR": str(tree.base)})
    assert (len(job.train), len(job.validation or ())) == (300, 100)
    assert job.architecture == {
        "n_features": 8,
        "hidden_sizes": [8, 4],
        "dropout": 0.1,
        "num_classes": 4,
    }
    assert job.feature_mean.shape == job.feature_std.shape == (8,)


def test_validation_must_have_the_train_columns(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    features, labels = make_classification(10, features=5)
    write_csv(tree.data_dir / "validation" / "validation.csv", features, labels)
    with pytest.raises(ContractError) as error:
        prepare_job(Hyperparameters, [], {"SAGEMAKER_BASE_DIR": str(tree.base)})
    assert str(error.value) == (
        "the validation channel has 5 features per row but the train channel has 8"
    )


def test_every_replica_needs_a_share_of_each_batch(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {"batch_size": "4"})
    job = prepare_job(Hyperparameters, [], {"SAGEMAKER_BASE_DIR": str(tree.base)})
    job.check_replicas(4)
    with pytest.raises(ContractError) as error:
        job.check_replicas(8)
    assert str(error.value) == (
        "batch_size=4 and the 300 train rows must each be at least the number of training "
        "replicas (8); raise batch_size or use fewer processes"
    )


def test_a_malformed_resource_config_is_named(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tree.config_dir / "resourceconfig.json").write_text('{"hosts": ')
    with pytest.raises(ContractError, match=r"resource config .*resourceconfig.json is not valid"):
        prepare_job(Hyperparameters, [], {"SAGEMAKER_BASE_DIR": str(tree.base)})

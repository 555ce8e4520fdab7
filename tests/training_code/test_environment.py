"""Paths and the cluster come from SM_* variables when present, else from the /opt/ml tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sagemaker_contract.cluster import tf_config, torchrun_command
from sagemaker_contract.environment import TrainingEnvironment
from sagemaker_contract.errors import ContractError


def test_defaults_are_the_opt_ml_tree() -> None:
    environment = TrainingEnvironment.from_environ({})
    assert environment.model_dir == Path("/opt/ml/model")
    assert environment.channel_dir("train") == Path("/opt/ml/input/data/train")
    assert environment.output_dir == Path("/opt/ml/output")
    assert environment.output_data_dir == Path("/opt/ml/output/data")
    assert environment.checkpoint_dir == Path("/opt/ml/checkpoints")
    assert (environment.hosts, environment.current_host, environment.num_gpus) == (
        ("algo-1",),
        "algo-1",
        None,
    )


def test_base_dir_override_and_resource_config(tmp_path: Path) -> None:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-2", "hosts": ["algo-2", "algo-1"]})
    )
    environment = TrainingEnvironment.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert environment.model_dir == tmp_path / "model"
    assert environment.channel_dir("validation") == tmp_path / "input/data/validation"
    assert environment.hosts == ("algo-1", "algo-2")
    assert environment.host_rank == 1


def test_toolkit_variables_win(tmp_path: Path) -> None:
    environment = TrainingEnvironment.from_environ(
        {
            "SAGEMAKER_BASE_DIR": str(tmp_path),
            "SM_MODEL_DIR": "/m",
            "SM_OUTPUT_DIR": "/o",
            "SM_OUTPUT_DATA_DIR": "/od",
            "SM_CHANNEL_TRAIN": "/data/train",
            "SM_HOSTS": '["algo-1", "algo-2", "algo-3"]',
            "SM_CURRENT_HOST": "algo-3",
            "SM_NUM_GPUS": "8",
            "CHECKPOINT_LOCAL_PATH": "/c",
        }
    )
    assert (environment.model_dir, environment.output_dir) == (Path("/m"), Path("/o"))
    assert (environment.output_data_dir, environment.checkpoint_dir) == (Path("/od"), Path("/c"))
    assert environment.channel_dir("train") == Path("/data/train")
    assert (environment.host_rank, environment.num_gpus) == (2, 8)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SM_HOSTS": "algo-1"}, "environment variable SM_HOSTS is not valid JSON"),
        ({"SM_HOSTS": "[]"}, "the hosts list must be a non-empty list of names, got []"),
        (
            {"SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-9"},
            "current host 'algo-9' is not in the hosts list ['algo-1']",
        ),
        ({"SM_NUM_GPUS": "two"}, "SM_NUM_GPUS must be a whole number >= 0, got 'two'"),
        ({"SM_INPUT_DATA_CONFIG": "[]"}, "the input data config must be a JSON object, got []"),
    ],
)
def test_malformed_environment(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ContractError) as error:
        TrainingEnvironment.from_environ(environ)
    assert str(error.value).startswith(message)


def test_torchrun_on_one_host_is_standalone() -> None:
    environment = TrainingEnvironment.from_environ({})
    command = torchrun_command(environment, 4, Path("train.py"), ["--epochs", "2"])
    assert command[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=4",
        "--standalone",
        "train.py",
        "--epochs",
        "2",
    ]


def test_torchrun_across_hosts_ranks_nodes_by_host() -> None:
    environment = TrainingEnvironment.from_environ(
        {"SM_HOSTS": '["algo-2", "algo-1"]', "SM_CURRENT_HOST": "algo-2"}
    )
    command = torchrun_command(environment, 8, Path("train.py"), [])
    assert command[3:-1] == [
        "--nproc-per-node=8",
        "--nnodes=2",
        "--node-rank=1",
        "--master-addr=algo-1",
        "--master-port=7777",
    ]


def test_tf_config_lists_every_host_as_a_worker() -> None:
    environment = TrainingEnvironment.from_environ(
        {"SM_HOSTS": '["algo-1", "algo-2"]', "SM_CURRENT_HOST": "algo-2"}
    )
    assert tf_config(environment) == {
        "cluster": {"worker": ["algo-1:2222", "algo-2:2222"]},
        "task": {"type": "worker", "index": 1},
    }

"""Our PyTorch model.tar.gz served by AWS's PyTorch inference stack, as an endpoint runs it.

The model is trained by ``training_code/pytorch`` on small data and packed as SageMaker packs it
(``model.pth``, ``model_spec.json``, ``code/inference.py`` and what it imports). TorchServe's real
Python worker loads it with the handler service of AWS's ``pytorch-inference`` container and
answers requests (``torchserve_worker``). Every mistake a client can make must come back as a
4xx with our one-line message, never a 500 with a traceback, and the worker keeps serving.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch

from training_code.local_sagemaker.containers import pack_model, run_training, unpack_model
from training_code.local_sagemaker.sample_data import write_channels
from training_code.local_sagemaker.tree import SageMakerTree
from training_code.pytorch.torch_model import load_for_serving

from .conftest import QUIET_THREADS, toolkit_environment
from .torchserve_worker import TorchServeWorker, WorkerResponse

pytestmark = pytest.mark.xdist_group("aws-pytorch-serving")

JSON = "application/json"
CSV = "text/csv"
TEXT = "text/plain; charset=utf-8"
ROWS = 4


class Model(NamedTuple):
    """The extracted model.tar.gz and the validation rows it was not trained on."""

    model_dir: Path
    features: np.ndarray


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    base = tmp_path_factory.mktemp("aws-pytorch-training")
    tree = SageMakerTree(base)
    channels = write_channels(tree.data_dir, train_rows=300, validation_rows=ROWS)
    tree.write_config({"epochs": "3", "hidden_sizes": "[16, 8]", "batch_size": "32"})
    result = run_training("pytorch", tree, extra_env=QUIET_THREADS, timeout=300)
    assert result.returncode == 0, result.stderr
    tarball = pack_model(tree.model_dir, tree.output_dir / "model.tar.gz")
    model_dir = unpack_model(tarball, tmp_path_factory.mktemp("aws-pytorch-serving") / "model")
    validation = np.loadtxt(channels["validation"], delimiter=",", ndmin=2)
    return Model(model_dir, validation[:, 1:])


@pytest.fixture(scope="module")
def worker(
    toolkits: Path, model: Model, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TorchServeWorker]:
    # As the container's start script does: the model's code/ first on PYTHONPATH.
    environment = toolkit_environment(toolkits, model.model_dir / "code")
    socket_dir = tmp_path_factory.mktemp("ts")
    with TorchServeWorker(model.model_dir, socket_dir, environment) as started:
        yield started


def csv_body(features: np.ndarray) -> bytes:
    return "".join(",".join(f"{value:.6g}" for value in row) + "\n" for row in features).encode()


def json_body(features: np.ndarray) -> bytes:
    return json.dumps(
        {"instances": [[float(f"{v:.6g}") for v in row] for row in features]}
    ).encode()


def expected_probabilities(model: Model) -> np.ndarray:
    """The model's own answer for the rows, computed here with the saved weights."""
    network = load_for_serving(model.model_dir, torch.device("cpu"))
    rows = np.array([[float(f"{v:.6g}") for v in row] for row in model.features], np.float32)
    with torch.inference_mode():
        return torch.softmax(network(torch.from_numpy(rows)), dim=1).numpy()


def invoke(worker: TorchServeWorker, body: bytes, content_type: str, accept: str) -> WorkerResponse:
    return worker.invoke(body, {"Content-Type": content_type, "Accept": accept})


@pytest.mark.parametrize("accept", [JSON, "*/*", None])
def test_json_rows_get_json_predictions(
    worker: TorchServeWorker, model: Model, accept: str | None
) -> None:
    headers = {"Content-Type": JSON, **({"Accept": accept} if accept else {})}
    response = worker.invoke(json_body(model.features), headers)
    assert (response.status, response.content_type) == (200, JSON), response.body
    predictions = json.loads(response.body)["predictions"]
    expected = expected_probabilities(model)
    assert [p["predicted_label"] for p in predictions] == expected.argmax(axis=1).tolist()
    got = np.array([p["probabilities"] for p in predictions])
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("content_type", [CSV, "text/csv; charset=utf-8"])
def test_csv_rows_get_csv_predictions(
    worker: TorchServeWorker, model: Model, content_type: str
) -> None:
    # With parameters the Transformer passes the body on undecoded, as TorchServe's bytearray.
    response = invoke(worker, csv_body(model.features), content_type, CSV)
    assert (response.status, response.content_type) == (200, CSV), response.body
    lines = [line.split(",") for line in response.text.splitlines()]
    expected = expected_probabilities(model)
    assert [int(line[0]) for line in lines] == expected.argmax(axis=1).tolist()
    np.testing.assert_allclose(
        [[float(v) for v in line[1:]] for line in lines], expected, atol=1e-6
    )


class BadRequest(NamedTuple):
    body: bytes
    content_type: str
    accept: str
    status: int
    message: str


BAD_REQUESTS = {
    "wrong-column-count": BadRequest(
        b"1,2,3\n", CSV, JSON, 400, "each row needs 8 features (no label), got 3"
    ),
    "non-numeric-cell": BadRequest(
        b"1,2,3,4,5,6,7,8\n1,2,abc,4,5,6,7,8\n",
        CSV,
        JSON,
        400,
        "text/csv body row 2, column 3: 'abc' is not a number",
    ),
    "ragged-rows": BadRequest(
        b"1,2,3,4,5,6,7,8\n1,2,3\n", CSV, JSON, 400, "text/csv body row 2: 3 columns, expected 8"
    ),
    "empty-body": BadRequest(
        b"", CSV, JSON, 400, "the request body is empty; send rows of features"
    ),
    "bad-json": BadRequest(
        b'{"instances": [[1, 2',
        JSON,
        JSON,
        400,
        "application/json body is not valid JSON: "
        "Expecting ',' delimiter: line 1 column 21 (char 20)",
    ),
    "wrong-json-shape": BadRequest(
        b"[[1, 2, 3]]",
        JSON,
        JSON,
        400,
        'application/json body must be an object {"instances": [[feature, ...], ...]}',
    ),
    "unsupported-content-type": BadRequest(
        b"\x93NUMPY",
        "application/x-npy",
        JSON,
        415,
        "Content-Type 'application/x-npy' is not supported; send text/csv or application/json",
    ),
    "unsupported-accept": BadRequest(
        b"1,2,3,4,5,6,7,8\n",
        CSV,
        "application/x-protobuf",
        406,
        "Accept 'application/x-protobuf' is not supported; ask for application/json or text/csv",
    ),
}


@pytest.mark.parametrize("bad", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_client_mistakes_get_4xx_with_our_one_line_message(
    worker: TorchServeWorker, bad: BadRequest
) -> None:
    response = invoke(worker, bad.body, bad.content_type, bad.accept)
    assert (response.status, response.text, response.content_type) == (
        bad.status,
        bad.message,
        TEXT,
    )


def test_the_worker_keeps_serving_after_client_mistakes(
    worker: TorchServeWorker, model: Model
) -> None:
    for bad in BAD_REQUESTS.values():
        assert invoke(worker, bad.body, bad.content_type, bad.accept).status == bad.status
    response = invoke(worker, csv_body(model.features), CSV, JSON)
    assert response.status == 200
    assert len(json.loads(response.body)["predictions"]) == ROWS
    assert "Traceback" not in worker.log_text()


def test_known_limit_a_non_utf8_csv_body_is_a_500_from_the_toolkit(
    worker: TorchServeWorker,
) -> None:
    """The Transformer decodes text/csv and application/json bodies as UTF-8 before any hook runs,
    so our 400 for such a body never gets a say (docs/training-code.md, serving table)."""
    response = invoke(worker, b"1,2,\xff\n", CSV, JSON)
    assert response.status == 500
    assert "UnicodeDecodeError" in response.text or "can't decode" in response.text
    assert invoke(worker, b"1,2,\xff\n", "text/csv; charset=utf-8", JSON).status == 400

"""``serve`` implements SageMaker's hosting contract over real HTTP, for both frameworks.

The model is the one the framework's training entry point wrote, packed into model.tar.gz and
extracted again, as SageMaker hands it to an endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sagemaker_contract.wsgi import load_handler

from training_code.local_sagemaker.containers import (
    ModelServer,
    free_port,
    pack_model,
    unpack_model,
)
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import FRAMEWORKS, QUIET_THREADS, SAFETY_TIMEOUT_S, TrainedModel, Trainings

JSON = "application/json"
CSV = "text/csv"


def feature_rows(trained: TrainedModel, count: int = 5) -> list[list[float]]:
    """The first validation rows without their label."""
    lines = (trained.tree.data_dir / "validation" / "validation.csv").read_text().splitlines()
    return [[float(cell) for cell in line.split(",")[1:]] for line in lines[:count]]


def as_csv(rows: list[list[float]]) -> bytes:
    return "".join(",".join(map(str, row)) + "\n" for row in rows).encode()


def assert_healthy(server: ModelServer) -> None:
    assert server.request("GET", "/ping").status == 200


def test_ping_answers_200(served: ModelServer) -> None:
    response = served.request("GET", "/ping")
    assert (response.status, response.body) == (200, b"")


def test_csv_rows_get_json_predictions(served: ModelServer, trained: TrainedModel) -> None:
    response = served.invoke(as_csv(feature_rows(trained)), CSV, "*/*")
    assert response.status == 200
    assert response.headers["content-type"] == JSON
    predictions = json.loads(response.body)["predictions"]
    assert len(predictions) == 5
    for prediction in predictions:
        probabilities = prediction["probabilities"]
        assert len(probabilities) == 3
        assert sum(probabilities) == pytest.approx(1, abs=1e-5)
        assert prediction["predicted_label"] == int(np.argmax(probabilities))


def test_json_and_csv_requests_and_responses_agree(
    served: ModelServer, trained: TrainedModel
) -> None:
    rows = feature_rows(trained)
    from_json = served.invoke(json.dumps({"instances": rows}).encode(), JSON, CSV)
    from_csv = served.invoke(as_csv(rows), f"{CSV}; charset=utf-8", CSV)
    assert from_json.status == from_csv.status == 200
    assert from_json.headers["content-type"] == CSV
    assert from_json.body == from_csv.body
    labels = [int(line.split(",")[0]) for line in from_csv.text.splitlines()]
    as_json = json.loads(served.invoke(as_csv(rows), CSV, JSON).body)["predictions"]
    assert labels == [prediction["predicted_label"] for prediction in as_json]


@dataclass(frozen=True)
class BadRequest:
    body: bytes
    content_type: str
    accept: str
    status: int
    message: str


@pytest.mark.parametrize(
    "request_",
    [
        BadRequest(b"1,2,abc\n", CSV, JSON, 400, "text/csv body row 1, column 3: 'abc' is not a"),
        BadRequest(b"1,2,3\n", CSV, JSON, 400, "each row needs 8 features (no label), got 3"),
        BadRequest(b'{"instances": [[1', JSON, JSON, 400, "application/json body is not valid"),
        BadRequest(b'{"rows": []}', JSON, JSON, 400, "application/json body must be an object"),
        BadRequest(b"", CSV, JSON, 400, "the request body is empty; send rows of features"),
        BadRequest(b"1,2", "application/x-npy", JSON, 415, "Content-Type 'application/x-npy' is"),
        BadRequest(b"1,2", CSV, "application/xml", 406, "Accept 'application/xml' is not"),
    ],
    ids=["non-numeric", "feature-count", "invalid-json", "json-shape", "empty", "415", "406"],
)
def test_bad_requests_get_4xx_with_a_message_and_the_server_stays_healthy(
    served: ModelServer, request_: BadRequest
) -> None:
    response = served.invoke(request_.body, request_.content_type, request_.accept)
    assert response.status == request_.status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(request_.message)
    assert_healthy(served)


def test_a_body_over_6_mb_gets_413(served: ModelServer) -> None:
    body = b"1," * (3 * 1024 * 1024 + 1)
    response = served.invoke(body, CSV)
    assert (response.status, response.text) == (
        413,
        "the request body is 6291458 bytes; the limit is 6291456 bytes",
    )
    assert_healthy(served)


def test_unknown_routes_and_methods(served: ModelServer) -> None:
    assert served.request("GET", "/invocations").status == 405
    assert served.request("POST", "/ping").text == "/ping accepts GET or HEAD"
    assert served.request("GET", "/models").text == "no route /models; use /ping or /invocations"


@pytest.mark.parametrize(
    ("framework", "message"),
    [
        ("pytorch", "model.pth not found; the model directory must hold the PyTorch training"),
        ("tensorflow", "no SavedModel version directory (like"),
    ],
    ids=FRAMEWORKS,
)
def test_serve_without_a_model_exits_non_zero_with_the_reason(
    framework: str, message: str, tmp_path: Path
) -> None:
    server = ModelServer(framework, SageMakerTree(tmp_path), free_port(), QUIET_THREADS).start()
    assert server.process.wait(timeout=SAFETY_TIMEOUT_S) != 0
    assert message in server.log_text()


def test_invalid_server_settings_are_named(tmp_path: Path) -> None:
    settings = {"SAGEMAKER_MODEL_SERVER_WORKERS": "zero"}
    server = ModelServer("pytorch", SageMakerTree(tmp_path), free_port(), settings).start()
    assert server.process.wait(timeout=SAFETY_TIMEOUT_S) == 1
    assert server.log_text().endswith(
        "serve: SAGEMAKER_MODEL_SERVER_WORKERS='zero' must be a whole number from 1 to 256\n"
    )


@pytest.mark.xdist_group("pytorch-model")
def test_sigterm_stops_the_server_gracefully(trainings: Trainings, tmp_path: Path) -> None:
    trained = trainings.get("pytorch")
    tree = SageMakerTree(tmp_path)
    unpack_model(pack_model(trained.tree.model_dir, tmp_path / "model.tar.gz"), tree.model_dir)
    with ModelServer("pytorch", tree, free_port(), QUIET_THREADS) as server:
        assert server.invoke(as_csv(feature_rows(trained, 1)), CSV).status == 200
        assert server.stop() == 0
    assert "Handling signal: term" in server.log_text()


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        (
            ("model_fn", "transform_fn", "input_fn"),
            "defines transform_fn and input_fn; define transform_fn or the three steps, not both",
        ),
        (("model_fn", "input_fn"), "does not define predict_fn, output_fn"),
        (("transform_fn",), "does not define model_fn"),
    ],
)
def test_a_handler_needs_transform_fn_or_the_three_steps_as_the_toolkit_does(
    tmp_path: Path, hooks: tuple[str, ...], message: str
) -> None:
    handler = tmp_path / "inference.py"
    handler.write_text("".join(f"def {hook}(*args):\n    pass\n" for hook in hooks))
    with pytest.raises(AttributeError) as error:
        load_handler(handler)
    assert str(error.value) == f"inference handler {handler} {message}"

"""model.tar.gz's ``code/inference.py`` answers as AWS's TensorFlow Serving container runs it.

The model is the SavedModel the TensorFlow training entry point wrote, packed into model.tar.gz
and extracted again. TensorFlow Serving (a C++ server from Google's own apt repository) and the
container's falcon service cannot run here, so two stand-ins take their place, each as small as
the part of them the handlers touch:

- TensorFlow Serving's REST ``predict`` (row format): an HTTP server in this process that calls
  the real SavedModel's ``serving_default`` signature, answering ``{"predictions": [...]}`` or
  a 400 ``{"error": ...}`` as TensorFlow Serving does;
- the container's invocation: a child process with only ``code/`` on its path (the container's
  PYTHONPATH), which imports ``code/inference.py`` by file as the container does, builds the
  request context with the container's fields and defaults (``tfs_utils.Context``), and calls
  ``handler`` from a method named like the container's ``_handle_invocation_post``, which sets
  200, calls the handler and answers any exception with 500 ``{"error": str(e)}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from training_code.local_sagemaker.containers import pack_model, unpack_model
from training_code.local_sagemaker.tree import SageMakerTree

from .conftest import QUIET_THREADS, Trainings

pytestmark = pytest.mark.xdist_group("tensorflow-model")

JSON = "application/json"
CSV = "text/csv"

#: The container's side of an invocation, run with only code/ importable (see the docstring).
CONTAINER = r"""
import importlib.util, io, json, sys
from collections import namedtuple

Context = namedtuple(
    "Context",
    "model_name, model_version, method, rest_uri, grpc_port, channel, "
    "custom_attributes, request_content_type, accept_header, content_length",
)


class Response:
    status = body = content_type = None


class PythonServiceResource:
    def __init__(self, path):
        spec = importlib.util.spec_from_file_location("inference", path)
        self.inference = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.inference)

    def _handle_invocation_post(self, data, context, res):
        try:
            res.status = "200 OK"
            res.body, res.content_type = self.inference.handler(data, context)
        except Exception as e:
            res.status = "500 Internal Server Error"
            res.body = json.dumps({"error": str(e)}).encode("utf-8")


service = PythonServiceResource(sys.argv[1])
answers = []
for case in json.loads(sys.stdin.read()):
    context = Context(
        None, None, None, sys.argv[2], 9000, None, None,
        case["content_type"] or "application/json", case["accept"] or "application/json",
        len(case["body"]),
    )
    res = Response()
    service._handle_invocation_post(io.BytesIO(case["body"].encode()), context, res)
    body = res.body.decode() if isinstance(res.body, bytes) else res.body
    answers.append([int(res.status.split()[0]), res.content_type, body])
print(json.dumps({
    "answers": answers,
    "inference": service.inference.__file__,
    "contract": sys.modules["sagemaker_contract"].__file__,
    "tensorflow_imported": "tensorflow" in sys.modules,
}))
"""


@dataclass(frozen=True)
class Case:
    body: str
    content_type: str | None = CSV
    accept: str | None = None


@dataclass(frozen=True)
class ServedModel:
    model_dir: Path
    rest_uri: str
    rows: list[list[float]]


class _TensorFlowServing(BaseHTTPRequestHandler):
    """TensorFlow Serving's ``POST /v1/models/<name>:predict`` in row format, on a real model."""

    signature: Any = None

    def do_POST(self) -> None:
        import tensorflow as tf

        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            outputs = self.signature(inputs=tf.constant(request["instances"], dtype=tf.float32))
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            self._answer(400, {"error": str(error).splitlines()[0]})
            return
        labels = outputs["predicted_label"].numpy().tolist()
        probabilities = outputs["probabilities"].numpy().tolist()
        predictions = [
            {"predicted_label": label, "probabilities": row}
            for label, row in zip(labels, probabilities, strict=True)
        ]
        self._answer(200, {"predictions": predictions})

    def _answer(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_model(
    trainings: Trainings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedModel]:
    import tensorflow as tf

    trained = trainings.get("tensorflow")
    base = tmp_path_factory.mktemp("tfs")
    model_dir = unpack_model(
        pack_model(trained.tree.model_dir, base / "model.tar.gz"), base / "opt/ml/model"
    )
    loaded = tf.saved_model.load(str(model_dir / "1"))
    _TensorFlowServing.signature = loaded.signatures["serving_default"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TensorFlowServing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    lines = (trained.tree.data_dir / "validation" / "validation.csv").read_text().splitlines()
    rows = [[float(cell) for cell in line.split(",")[1:]] for line in lines[:3]]
    try:
        yield ServedModel(
            model_dir, f"http://127.0.0.1:{server.server_port}/v1/models/model:predict", rows
        )
    finally:
        server.shutdown()
        server.server_close()


def invoke(model: ServedModel, *cases: Case) -> dict[str, Any]:
    """Run ``cases`` through code/inference.py as the container calls it; its answers."""
    code = model.model_dir / "code"
    payload = json.dumps([case.__dict__ for case in cases])
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            _with_path(code) + CONTAINER,
            str(code / "inference.py"),
            model.rest_uri,
        ],
        input=payload,
        env=SageMakerTree(model.model_dir.parent).environment(QUIET_THREADS),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _with_path(code: Path) -> str:
    # -I ignores PYTHONPATH and the working directory, so no checkout module leaks in; put back
    # exactly what the container puts on the path.
    return f"import sys; sys.path.insert(0, {str(code)!r})\n"


def as_csv(rows: list[list[float]]) -> str:
    return "".join(",".join(map(str, row)) + "\n" for row in rows)


def test_the_tarball_holds_the_savedmodel_and_the_code_in_the_containers_layout(
    served_model: ServedModel,
) -> None:
    model_dir = served_model.model_dir
    assert (model_dir / "1" / "saved_model.pb").is_file()
    assert (model_dir / "code" / "inference.py").is_file()
    assert (model_dir / "code" / "sagemaker_contract" / "payloads.py").is_file()
    assert not (model_dir / "code" / "requirements.txt").exists()  # no pip under isolation
    spec = json.loads((model_dir / "code" / "model_spec.json").read_text())
    assert spec == {"n_features": len(served_model.rows[0]), "num_classes": spec["num_classes"]}


def test_csv_and_json_get_the_same_predictions_in_json_and_csv(
    served_model: ServedModel,
) -> None:
    rows = served_model.rows
    result = invoke(
        served_model,
        Case(as_csv(rows)),
        Case(json.dumps({"instances": rows}), JSON),
        Case(as_csv(rows), f"{CSV}; charset=utf-8", CSV),
    )
    (csv_status, csv_type, csv_json), (json_status, json_type, json_json), csv_answer = result[
        "answers"
    ]
    assert (csv_status, json_status, csv_answer[0]) == (200, 200, 200)
    assert csv_type == json_type == JSON and csv_answer[1] == CSV
    assert csv_json == json_json
    predictions = json.loads(csv_json)["predictions"]
    assert len(predictions) == len(rows)
    for prediction, line in zip(predictions, csv_answer[2].splitlines(), strict=True):
        assert sum(prediction["probabilities"]) == pytest.approx(1, abs=1e-5)
        assert line.split(",")[0] == str(prediction["predicted_label"])
    model_dir = served_model.model_dir
    assert Path(result["inference"]) == model_dir / "code" / "inference.py"
    assert Path(result["contract"]).parent == model_dir / "code" / "sagemaker_contract"
    assert result["tensorflow_imported"] is False  # the container needs no TensorFlow in Python


BAD_REQUESTS = {
    "wrong-column-count": (Case("1,2,3\n"), 400, "each row needs 8 features (no label), got 3"),
    "non-numeric": (Case("1,2,abc\n"), 400, "text/csv body row 1, column 3: 'abc' is not a"),
    "ragged-rows": (Case("1,2,3\n1,2\n"), 400, "text/csv body row 2: 2 columns, expected 3"),
    "empty-body": (Case(""), 400, "the request body is empty; send rows of features"),
    "bad-json": (Case('{"instances": [[1', JSON), 400, "application/json body is not valid JSON"),
    "json-shape": (Case('{"rows": []}', JSON), 400, "application/json body must be an object"),
    "content-type": (Case("1,2", "application/x-npy"), 415, "Content-Type 'application/x-npy'"),
    "accept": (Case("1,2", CSV, "application/xml"), 406, "Accept 'application/xml' is not"),
}


def test_client_mistakes_are_4xx_with_a_one_line_message(served_model: ServedModel) -> None:
    cases = [case for case, _, _ in BAD_REQUESTS.values()]
    answers = invoke(served_model, *cases)["answers"]
    for name, (status, content_type, body) in zip(BAD_REQUESTS, answers, strict=True):
        _, expected_status, message = BAD_REQUESTS[name]
        assert (name, status, content_type) == (name, expected_status, JSON)
        error = json.loads(body)["error"]
        assert error.startswith(message), name
        assert "\n" not in error


def test_a_serving_failure_stays_the_containers_500(served_model: ServedModel) -> None:
    """Only a client's mistake is 4xx: TensorFlow Serving refusing our request is ours (500)."""
    bad_width = [row[:-1] for row in served_model.rows]
    spec = served_model.model_dir / "code" / "model_spec.json"
    original = spec.read_text()
    spec.write_text(json.dumps({"n_features": len(bad_width[0]), "num_classes": 2}))
    try:
        status, _, body = invoke(served_model, Case(as_csv(bad_width)))["answers"][0]
    finally:
        spec.write_text(original)
    assert status == 500
    assert json.loads(body)["error"].startswith("TensorFlow Serving answered 400: ")

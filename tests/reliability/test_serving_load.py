"""`serve` of each framework under load and abuse, and hostile bodies that must stay 4xx.

The load test is benchmarks/serving_load.py's run, asserted: a model trained by the real `train`
entry point, served by the real `serve` on 127.0.0.1, 2,000 requests from 16 concurrent clients
mixing valid CSV and JSON with malformed bodies, unsupported Content-Type and Accept, empty bodies
and bodies over 6 MB, while another client polls /ping with SageMaker's 2 s timeout. About 20 s
(PyTorch) and 30 s (TensorFlow) on two cores. Run with `-s` to see the figures.
"""

from __future__ import annotations

import io
import json
import types
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sagemaker_contract import payloads
from sagemaker_contract.wsgi import InvocationsApp

from benchmarks import serving_load
from training_code.local_sagemaker.containers import FRAMEWORKS

REQUESTS = 2000
CLIENTS = 16


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_serve_answers_2000_mixed_requests_from_16_clients_and_stays_healthy(
    framework: str, tmp_path: Path, record_property: Any
) -> None:
    tree = serving_load.prepare_model(framework, tmp_path)
    plan = serving_load.build_plan(REQUESTS, seed=0)
    with serving_load.serving(framework, tree) as server:
        report = serving_load.run_load(server, plan, clients=CLIENTS, framework=framework)
        serving_load.finish(report, server)
    print(report.describe())
    record_property("serving_load", report.describe())

    kinds = Counter(request.kind for request in plan)
    assert set(kinds) == set(serving_load.MIX) and min(kinds.values()) >= 40
    assert len(report.outcomes) == REQUESTS
    assert report.unexpected == []  # every request got the status (and answer) its kind must
    assert report.server_errors == 0
    assert report.failed_pings == []
    assert len(report.pings) >= 5, "/ping was not polled during the run"
    assert report.survived, f"{report.describe()}\n{server.log_text()[-3000:]}"


def _handler() -> types.ModuleType:
    """The real payload hooks around a stand-in model that predicts class 0."""
    handler = types.ModuleType("handler")
    handler.input_fn = payloads.input_fn  # type: ignore[attr-defined]
    handler.output_fn = payloads.output_fn  # type: ignore[attr-defined]

    def predict_fn(data: np.ndarray, model: object) -> payloads.Predictions:
        rows = len(data)
        return payloads.Predictions(np.zeros(rows, dtype=np.int64), np.ones((rows, 1)))

    handler.predict_fn = predict_fn  # type: ignore[attr-defined]
    return handler


def _invoke(body: bytes, content_type: str) -> tuple[int, str]:
    """POST /invocations to the server's WSGI application, in process."""
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    environ = {
        "PATH_INFO": "/invocations",
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_ACCEPT": payloads.JSON,
        "wsgi.input": io.BytesIO(body),
    }
    chunks = InvocationsApp(_handler(), model=None)(environ, start_response)
    return int(answer["status"].split()[0]), b"".join(chunks).decode()


def test_the_in_process_harness_answers_a_valid_body() -> None:
    status, text = _invoke(b'{"instances": [[1, 2], [3, 4]]}', payloads.JSON)
    assert status == 200
    assert len(json.loads(text)["predictions"]) == 2


HOSTILE_JSON = [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-100000-deep"),
    pytest.param(b'{"instances": [[' + b"9" * 5000 + b", 1]]}", id="integer-of-5000-digits"),
    pytest.param(b'{"instances": [[1' + b"0" * 400 + b", 1]]}", id="integer-beyond-float64"),
]


@pytest.mark.parametrize("body", HOSTILE_JSON)
def test_hostile_json_bodies_are_client_errors(body: bytes) -> None:
    status, text = _invoke(body, payloads.JSON)
    assert status == 400, text
    assert text.startswith("application/json body"), text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--requests", "100"], "--requests must be at least 400, so that every kind is sent"),
        (["--clients", "0"], "--clients must be at least 1"),
    ],
)
def test_the_benchmark_refuses_runs_that_would_measure_nothing(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        serving_load.main(arguments)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: {message}\n")

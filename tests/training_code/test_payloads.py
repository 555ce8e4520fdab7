"""Request bodies are parsed strictly with messages for the client; responses are stable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sagemaker_contract.errors import RequestError
from sagemaker_contract.payloads import (
    Predictions,
    check_feature_count,
    decode_features,
    encode_predictions,
    negotiate,
    transform,
)


def test_csv_and_json_give_the_same_matrix() -> None:
    from_csv = decode_features(b"1,2.5,3\r\n\n4,5,6e2\n", "text/csv; charset=utf-8")
    from_json = decode_features('{"instances": [[1, 2.5, 3], [4, 5, 600]]}', "application/json")
    assert from_csv.dtype == np.float32
    assert from_csv.tolist() == from_json.tolist() == [[1, 2.5, 3], [4, 5, 600]]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"1,2", None, 415, "Content-Type '(none)' is not supported; send text/csv or"),
        (b"1,2", "image/png", 415, "Content-Type 'image/png' is not supported"),
        (b"1,2\n3,x\n", "text/csv", 400, "text/csv body row 2, column 2: 'x' is not a number"),
        (b"1,2\n3\n", "text/csv", 400, "text/csv body row 2: 1 columns, expected 2"),
        (b"1,inf\n", "text/csv", 400, "text/csv body row 1, column 2: not a finite float32"),
        (b"\n\n", "text/csv", 400, "the request body is empty; send rows of features"),
        (b"\xff", "text/csv", 400, "text/csv body is not UTF-8 text (byte 0)"),
        (b"{", "application/json", 400, "application/json body is not valid JSON: Expecting"),
        (
            b"[[1, 2]]",
            "application/json",
            400,
            'application/json body must be an object {"instances": [[feature, ...], ...]}',
        ),
        (b'{"instances": []}', "application/json", 400, "application/json body has no rows"),
        (
            b'{"instances": [[1, "a"]]}',
            "application/json",
            400,
            'application/json instance 1 must be a non-empty list of numbers, got [1, "a"]',
        ),
        (
            b'{"instances": [[true]]}',
            "application/json",
            400,
            "application/json instance 1 must be a non-empty list of numbers, got [true]",
        ),
        (
            b'{"instances": [[1], [1, 2]]}',
            "application/json",
            400,
            "application/json instance 2 has 2 values, expected 1",
        ),
    ],
)
def test_malformed_requests(
    body: bytes, content_type: str | None, status: int, message: str
) -> None:
    with pytest.raises(RequestError) as error:
        decode_features(body, content_type)
    assert error.value.status == status
    assert error.value.message.startswith(message)


def test_feature_count_is_checked() -> None:
    with pytest.raises(RequestError, match=r"each row needs 3 features \(no label\), got 2"):
        check_feature_count(np.zeros((1, 2), dtype=np.float32), 3)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("image/png, text/*;q=0.5", "text/csv"),
        ("application/json; charset=utf-8", "application/json"),
    ],
)
def test_accept_negotiation(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_unsupported_accept() -> None:
    with pytest.raises(RequestError) as error:
        negotiate("image/png")
    assert (error.value.status, error.value.message) == (
        406,
        "Accept 'image/png' is not supported; ask for application/json or text/csv",
    )


def test_response_formats() -> None:
    predictions = Predictions(np.array([1, 0]), np.array([[0.25, 0.75], [0.9, 0.1]]))
    assert json.loads(encode_predictions(predictions, "application/json")) == {
        "predictions": [
            {"predicted_label": 1, "probabilities": [0.25, 0.75]},
            {"predicted_label": 0, "probabilities": [0.9, 0.1]},
        ]
    }
    assert (
        encode_predictions(predictions, "text/csv") == b"1,0.250000,0.750000\n0,0.900000,0.100000\n"
    )


def _first_is_positive(features: np.ndarray) -> Predictions:
    labels = (features[:, 0] > 0).astype(np.int64)
    return Predictions(labels, np.eye(2)[labels])


def test_transform_answers_with_the_negotiated_type() -> None:
    body, content_type = transform(_first_is_positive, b"-1,5\n2,5\n", "text/csv", "text/*")
    assert (body, content_type) == (b"0,1.000000,0.000000\n1,0.000000,1.000000\n", "text/csv")


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status"),
    [
        (b"", "text/csv", "text/csv", 400),
        (b" \n", "application/json", "application/json", 400),
        (b"1,2\n", "application/x-npy", "text/csv", 415),
        (b"1,2\n", "text/csv", "image/png", 406),
    ],
)
def test_transform_without_a_model_server_context_raises_the_request_error(
    body: bytes, content_type: str, accept: str, status: int
) -> None:
    """Our ``serve`` answers the raised error; under TorchServe the context gets the status."""
    with pytest.raises(RequestError) as error:
        transform(_first_is_positive, body, content_type, accept)
    assert error.value.status == status

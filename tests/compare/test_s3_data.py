"""DATA as an S3 prefix: every object under it is one table (moto's S3, in process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from compare_data import CompareError, read_s3_table
from moto import mock_aws


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="data")
        yield client


def test_every_object_under_the_prefix_is_read(s3: Any) -> None:
    s3.put_object(Bucket="data", Key="datasets/churn/part-0.csv", Body=b"0,1.5,2\n1,3,4\n")
    s3.put_object(Bucket="data", Key="datasets/churn/part-1.csv", Body=b"1,5,6\n")
    s3.put_object(Bucket="data", Key="datasets/other/part-0.csv", Body=b"0,9,9\n")
    table = read_s3_table("s3://data/datasets/churn/", s3)
    assert len(table) == 3
    assert table.labels.tolist() == [0, 1, 1]
    assert table.features.tolist() == [[1.5, 2], [3, 4], [5, 6]]


def test_an_empty_prefix_is_named(s3: Any) -> None:
    with pytest.raises(
        CompareError, match=r"DATA s3://data/nothing/: no objects under that prefix"
    ):
        read_s3_table("s3://data/nothing/", s3)


def test_a_bad_object_names_the_prefix_and_the_cell(s3: Any) -> None:
    s3.put_object(Bucket="data", Key="d/a.csv", Body=b"label,x\n1,2\n")
    with pytest.raises(
        CompareError, match=r"s3://data/d/: row 1, column 1: 'label' is not a number"
    ):
        read_s3_table("s3://data/d/", s3)

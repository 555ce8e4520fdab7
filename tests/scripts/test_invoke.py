"""scripts/invoke.py against moto's emulated SSM and SageMaker."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scripts.invoke import InvokeError, endpoint_name, main, require_in_service

ROLE = "arn:aws:iam::123456789012:role/model"


@pytest.fixture
def aws(fake_account: None) -> None:
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(
        ModelName="m",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="Dev-Serving-churn-abc", EndpointConfigName="c")
    boto3.client("ssm").put_parameter(
        Name="/sagemaker-platform/Dev/endpoints/churn-xgboost",
        Value="Dev-Serving-churn-abc",
        Type="String",
    )


def test_the_endpoint_name_comes_from_the_published_parameter(aws: None) -> None:
    assert endpoint_name(boto3.client("ssm"), "Dev", "churn-xgboost") == "Dev-Serving-churn-abc"


def test_an_undeclared_endpoint_says_where_to_declare_it(aws: None) -> None:
    with pytest.raises(InvokeError) as raised:
        endpoint_name(boto3.client("ssm"), "Dev", "churn-pytorch")
    assert str(raised.value) == (
        "Dev has no endpoint 'churn-pytorch' here (no SSM parameter "
        "/sagemaker-platform/Dev/endpoints/churn-pytorch); check config/<stage>.yaml "
        "`endpoints:` and deploy with `make deploy`"
    )


class _Creating:
    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:  # noqa: N803 (boto3 name)
        return {"EndpointStatus": "Creating"}


class _Failed:
    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:  # noqa: N803 (boto3 name)
        return {"EndpointStatus": "Failed", "FailureReason": "image not found"}


def test_an_endpoint_that_is_not_in_service_is_named_with_its_status() -> None:
    with pytest.raises(InvokeError) as raised:
        require_in_service(_Creating(), "e")
    assert (
        str(raised.value) == "endpoint e is Creating, not InService; try again when it is InService"
    )
    with pytest.raises(InvokeError) as raised:
        require_in_service(_Failed(), "e")
    assert str(raised.value) == "endpoint e is Failed, not InService: image not found"


def test_main_prints_the_answer(aws: None, capsys: Any) -> None:
    assert main(["churn-xgboost"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Dev endpoint churn-xgboost (Dev-Serving-churn-abc) answered:\n")

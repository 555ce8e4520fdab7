"""scripts/baseline.py against moto's emulated CloudFormation and SageMaker."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from scripts.baseline import BaselineError, baseline_request, main, stage_storage

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = "arn:aws:iam::123456789012:role/baselining"
DATASET = "s3://dev-data/datasets/churn/baseline/"
MONITOR_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
DATA_STACK = {
    "Resources": {"Artifacts": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "ArtifactsBucketName": {"Value": {"Ref": "Artifacts"}},
        "KeyArn": {"Value": KEY_ARN},
    },
}


def _request(**overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "name": "churn-xgboost",
        "job_name": "churn-xgboost-baseline-20261128-120000",
        "image_uri": MONITOR_IMAGE,
        "dataset": DATASET,
        "header": True,
        "bucket": "dev-artifacts",
        "key_arn": KEY_ARN,
        "role_arn": ROLE_ARN,
        "instance_type": "ml.m5.xlarge",
        **overrides,
    }
    return baseline_request(**arguments)  # type: ignore[arg-type]


def test_the_request_is_valid_for_botocore_and_writes_where_the_config_reads() -> None:
    request = _request()
    model = botocore.session.get_session().get_service_model("sagemaker")
    validate_parameters(request, model.operation_model("CreateProcessingJob").input_shape)
    output = request["ProcessingOutputConfig"]
    assert output == {
        "Outputs": [
            {
                "OutputName": "monitoring_output",
                "S3Output": {
                    "S3Uri": "s3://dev-artifacts/monitoring/churn-xgboost/baseline",
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                },
            }
        ],
        "KmsKeyId": KEY_ARN,
    }
    environment = request["Environment"]
    assert json.loads(environment["dataset_format"]) == {  # type: ignore[index]
        "csv": {"header": True, "output_columns_position": "START"}
    }
    assert request["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"dataset": "datasets/churn/"},
            "--dataset must be an S3 URI such as s3://bucket/prefix/ (got 'datasets/churn/')",
        ),
        (
            {"role_arn": "baselining"},
            "--role-arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/name "
            "(got 'baselining')",
        ),
    ],
)
def test_bad_arguments_give_one_exact_message(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(BaselineError) as raised:
        _request(**overrides)
    assert str(raised.value) == message


@pytest.mark.usefixtures("fake_account")
def test_a_stage_that_is_not_deployed_says_so() -> None:
    with pytest.raises(BaselineError) as raised:
        stage_storage(boto3.client("cloudformation"), "Dev")
    assert str(raised.value) == (
        "stack Dev-Data is not deployed here (Stack with id Dev-Data does not exist); deploy "
        "it first with `make deploy`"
    )


@pytest.mark.usefixtures("fake_account")
def test_main_starts_the_job_with_the_stages_bucket_key_and_region_image(
    capsys: pytest.CaptureFixture[str],
) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="Dev-Data", TemplateBody=json.dumps(DATA_STACK)
    )
    bucket, key_arn = stage_storage(boto3.client("cloudformation"), "Dev")
    assert key_arn == KEY_ARN

    code = main(["churn-xgboost", "--dataset", DATASET, "--role-arn", ROLE_ARN, "--no-header"])

    assert code == 0
    sagemaker = boto3.client("sagemaker")
    (summary,) = sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    job = sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
    assert job["AppSpecification"]["ImageUri"] == MONITOR_IMAGE
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == (
        f"s3://{bucket}/monitoring/churn-xgboost/baseline"
    )
    assert capsys.readouterr().out == (
        f"Started {summary['ProcessingJobName']}: the baseline goes to "
        f"s3://{bucket}/monitoring/churn-xgboost/baseline/\n"
    )


@pytest.mark.usefixtures("fake_account")
def test_main_waits_for_the_job_and_says_what_to_review(
    capsys: pytest.CaptureFixture[str],
) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="Dev-Data", TemplateBody=json.dumps(DATA_STACK)
    )
    argv = ["churn-xgboost", "--dataset", DATASET, "--role-arn", ROLE_ARN, "--wait", "--poll", "0"]

    assert main(argv) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["0", "s", "Completed"]
    assert lines[2] == "statistics.json and constraints.json are written; review constraints.json."


@pytest.mark.usefixtures("fake_account")
def test_main_reports_a_missing_stage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["churn-xgboost", "--dataset", DATASET, "--role-arn", ROLE_ARN])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: stack Dev-Data is not deployed here")

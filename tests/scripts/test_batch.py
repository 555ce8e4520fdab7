"""scripts/batch.py against moto's emulated CloudFormation, Step Functions (its state machine
interpreter on), SageMaker and S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.batch import (
    BatchError,
    Progress,
    execution_input,
    find_state_machine,
    follow,
    main,
    progress,
)

ROLE = "arn:aws:iam::123456789012:role/states"
JOB = "churn-xgboost-0f8fad5b"
RESULTS = f"s3://artifacts/batch/churn-xgboost/{JOB}/"


def _machine(*, fail: bool) -> dict[str, Any]:
    """The states `BatchTransformPipeline` has, with Pass states where SageMaker would run."""
    transform: dict[str, Any] = (
        {"Type": "Fail", "Error": "SageMaker.ClientError", "Cause": "model failed"}
        if fail
        else {
            "Type": "Pass",
            "Result": {"job_name": JOB, "output": RESULTS},
            "ResultPath": "$.transform",
            "End": True,
        }
    )
    return {
        "StartAt": "NameJob",
        "States": {
            "NameJob": {"Type": "Pass", "Result": {"job_name": JOB}, "Next": "Transform"},
            "Transform": transform,
        },
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A Dev-Batch stack whose output names a state machine that moto runs."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stepfunctions = boto3.client("stepfunctions")
        arns = {
            key: stepfunctions.create_state_machine(
                name=key, definition=json.dumps(_machine(fail=fail)), roleArn=ROLE
            )["stateMachineArn"]
            for key, fail in (("ChurnXgboost", False), ("Broken", True))
        }
        template = {
            "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {f"{key}StateMachineArn": {"Value": arn} for key, arn in arns.items()},
        }
        boto3.client("cloudformation").create_stack(
            StackName="Dev-Batch", TemplateBody=json.dumps(template)
        )
        yield


def _transform_job(input_files: int, done: int) -> None:
    s3 = boto3.client("s3")
    for bucket in ("data", "artifacts"):
        s3.create_bucket(Bucket=bucket)
    for index in range(input_files):
        s3.put_object(Bucket="data", Key=f"datasets/churn/batch/part-{index}.csv", Body=b"1,2\n")
    for index in range(done):
        s3.put_object(
            Bucket="artifacts", Key=f"batch/churn-xgboost/{JOB}/part-{index}.csv.out", Body=b"0.5"
        )
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(
        ModelName="model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        PrimaryContainer={"Image": "image", "ModelDataUrl": "s3://artifacts/model.tar.gz"},
    )
    sagemaker.create_transform_job(
        TransformJobName=JOB,
        ModelName="model",
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://data/datasets/churn/batch/",
                }
            },
            "ContentType": "text/csv",
        },
        TransformOutput={"S3OutputPath": RESULTS},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )


def test_finds_the_pipeline_of_a_definition(aws: None) -> None:
    arn = find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgboost")
    assert arn.endswith(":stateMachine:ChurnXgboost")


def test_an_unknown_definition_lists_the_known_ones(aws: None) -> None:
    with pytest.raises(BatchError) as raised:
        find_state_machine(boto3.client("cloudformation"), "Dev", "churn")
    assert str(raised.value) == "Dev has no batch transform 'churn'; known: broken, churn-xgboost"


def test_a_stage_without_a_batch_stack_says_how_to_get_one(aws: None) -> None:
    with pytest.raises(BatchError) as raised:
        find_state_machine(boto3.client("cloudformation"), "Prod", "churn-xgboost")
    assert str(raised.value).startswith("stack Prod-Batch is not deployed here (")
    assert str(raised.value).endswith(
        "declare batch_transforms in config/<stage>.yaml and deploy with `make deploy`"
    )


@pytest.mark.parametrize(
    "uri",
    ["churn/batch/", "datasets/churn/batch/", "s3://data/datasets/churn", "s3:/data/x/", "s3://"],
)
def test_an_input_that_is_not_an_s3_prefix_is_refused(uri: str) -> None:
    with pytest.raises(BatchError) as raised:
        execution_input(uri)
    assert str(raised.value) == (
        f"--input {uri!r}: give an S3 prefix, s3://<data bucket>/datasets/<prefix>/ (ending in '/')"
    )


def test_an_input_becomes_the_execution_input() -> None:
    assert execution_input("s3://data/datasets/churn/2026-11-28/") == {
        "input": "s3://data/datasets/churn/2026-11-28/"
    }
    assert execution_input(None) == {}


def test_progress_names_the_job_its_status_and_the_files_done(aws: None) -> None:
    _transform_job(input_files=3, done=1)
    stepfunctions = boto3.client("stepfunctions")
    arn = find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgboost")
    execution = stepfunctions.start_execution(stateMachineArn=arn, input="{}")

    lines: list[str] = []
    final = follow(
        lambda: progress(
            stepfunctions,
            boto3.client("sagemaker"),
            boto3.client("s3"),
            execution["executionArn"],
        ),
        timeout_s=30,
        poll_s=0.2,
        say=lines.append,
    )

    assert final.execution_status == "SUCCEEDED"
    assert final.job_name == JOB
    assert final.job_status == "Completed"  # moto's transform jobs are born Completed
    assert final.files == "1 of 3 input files"
    assert lines[-1].endswith(f"execution SUCCEEDED, job {JOB}: Completed, 1 of 3 input files")


def test_progress_without_listable_buckets_shows_the_statuses_only(aws: None) -> None:
    _transform_job(input_files=1, done=0)
    boto3.client("s3").delete_object(Bucket="data", Key="datasets/churn/batch/part-0.csv")
    boto3.client("s3").delete_bucket(Bucket="data")
    stepfunctions = boto3.client("stepfunctions")
    arn = find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgboost")
    execution = stepfunctions.start_execution(stateMachineArn=arn, input="{}")

    final = follow(
        lambda: progress(
            stepfunctions, boto3.client("sagemaker"), boto3.client("s3"), execution["executionArn"]
        ),
        timeout_s=30,
        poll_s=0.2,
        say=lambda line: None,
    )

    assert final.line() == f"execution SUCCEEDED, job {JOB}: Completed"


def test_a_line_before_the_job_exists() -> None:
    assert Progress("RUNNING").line() == "execution RUNNING"
    assert Progress("RUNNING", JOB).line() == f"execution RUNNING, job {JOB}: not started"


def test_main_starts_follows_and_prints_where_the_results_are(aws: None, capsys: Any) -> None:
    _transform_job(input_files=2, done=2)

    assert main(["churn-xgboost", "--input", "s3://data/datasets/new/", "--poll", "0.2"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Started churn-xgboost in Dev: arn:aws:states:")
    assert "2 of 2 input files" in out
    assert out.endswith(f"Results: {RESULTS}\n")


def test_main_exits_1_when_the_transform_fails(aws: None, capsys: Any) -> None:
    assert main(["broken", "--poll", "0.2"]) == 1
    assert capsys.readouterr().out.endswith(
        "Batch transform FAILED: see the execution in the Step Functions console and the "
        "job's logs under /aws/sagemaker/TransformJobs.\n"
    )


def test_main_reports_a_user_error_with_exit_2(aws: None, capsys: Any) -> None:
    assert main(["churn-xgboost", "--input", "churn/batch/"]) == 2
    assert capsys.readouterr().err == (
        "error: --input 'churn/batch/': give an S3 prefix, s3://<data bucket>/datasets/<prefix>/ "
        "(ending in '/')\n"
    )

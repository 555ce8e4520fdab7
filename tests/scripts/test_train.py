"""scripts/train.py against moto's emulated CloudFormation, Step Functions and SageMaker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.train import (
    AUTOML_START_STATE,
    TrainError,
    find_state_machine,
    follow,
    main,
    parse_data,
    summary,
)

TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "states.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            },
        },
        "ChurnXgboost": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "DefinitionString": json.dumps(
                    {"StartAt": "NameJob", "States": {"NameJob": {"Type": "Pass", "End": True}}}
                ),
                "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            },
        },
    },
    "Outputs": {"ChurnXgboostStateMachineArn": {"Value": {"Ref": "ChurnXgboost"}}},
}


@pytest.fixture
def aws(fake_account: None) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="Dev-Training", TemplateBody=json.dumps(TEMPLATE)
    )


def test_finds_the_pipeline_of_a_definition(aws: None) -> None:
    arn = find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgboost")
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:stateMachine:")


def test_an_unknown_definition_lists_the_known_ones(aws: None) -> None:
    with pytest.raises(TrainError) as raised:
        find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgbost")
    assert (
        str(raised.value) == "Dev has no training definition 'churn-xgbost'; known: churn-xgboost"
    )


def test_a_stage_that_is_not_deployed_says_how_to_deploy(aws: None) -> None:
    with pytest.raises(TrainError) as raised:
        find_state_machine(boto3.client("cloudformation"), "Prod", "churn-xgboost")
    assert str(raised.value).startswith("stack Prod-Training is not deployed here (")
    assert str(raised.value).endswith("deploy it first with `make deploy`")


@pytest.mark.parametrize("pair", ["train", "train=/local/path/", "=s3://b/p/", "train=s3://b/p"])
def test_data_overrides_must_be_s3_prefixes(pair: str) -> None:
    with pytest.raises(TrainError) as raised:
        parse_data([pair])
    assert str(raised.value) == (
        f"--data {pair!r}: give CHANNEL=s3://bucket/prefix/ (a prefix ending in '/')"
    )


def test_data_overrides_become_the_execution_input() -> None:
    assert parse_data(["train=s3://b/new/", "validation=s3://b/val/"]) == {
        "train": "s3://b/new/",
        "validation": "s3://b/val/",
    }


def test_follow_prints_status_changes_until_the_timeout(aws: None) -> None:
    arn = find_state_machine(boto3.client("cloudformation"), "Dev", "churn-xgboost")
    stepfunctions = boto3.client("stepfunctions")
    execution = stepfunctions.start_execution(stateMachineArn=arn, input="{}")
    lines: list[str] = []

    final, _ = follow(
        stepfunctions,
        boto3.client("sagemaker"),
        execution["executionArn"],
        timeout_s=0,
        say=lines.append,
    )

    assert final.execution_status in {"RUNNING", "SUCCEEDED"}
    assert len(lines) == 1
    assert lines[0].endswith(f"execution {final.execution_status}")


def test_main_reports_a_user_error_with_exit_2(aws: None, capsys: Any) -> None:
    assert main(["nope", "--timeout", "0"]) == 2
    assert "Dev has no training definition 'nope'; known: churn-xgboost" in capsys.readouterr().err


AUTOML_JOB = "churn-autopilot-0f8fad5b"


@pytest.fixture
def automl_execution(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An executed state machine shaped like an Autopilot pipeline, and its AutoML job."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        role = boto3.client("iam").create_role(RoleName="states", AssumeRolePolicyDocument="{}")
        definition = {
            "StartAt": "NameJob",
            "States": {
                "NameJob": {
                    "Type": "Pass",
                    "Parameters": {"job_name": AUTOML_JOB},
                    "Next": AUTOML_START_STATE,
                },
                AUTOML_START_STATE: {"Type": "Pass", "End": True},
            },
        }
        stepfunctions = boto3.client("stepfunctions")
        machine = stepfunctions.create_state_machine(
            name="churn-autopilot", definition=json.dumps(definition), roleArn=role["Role"]["Arn"]
        )
        boto3.client("sagemaker").create_auto_ml_job_v2(
            AutoMLJobName=AUTOML_JOB,
            AutoMLJobInputDataConfig=[
                {
                    "ChannelType": "training",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/churn/"}
                    },
                }
            ],
            OutputDataConfig={"S3OutputPath": "s3://artifacts/models/churn-autopilot/"},
            AutoMLProblemTypeConfig={
                "TabularJobConfig": {
                    "ProblemType": "BinaryClassification",
                    "TargetAttributeName": "churned",
                    "CompletionCriteria": {"MaxCandidates": 5},
                }
            },
            RoleArn="arn:aws:iam::123456789012:role/autopilot",
        )
        execution = stepfunctions.start_execution(
            stateMachineArn=machine["stateMachineArn"], input="{}"
        )
        for _ in range(100):  # moto runs the execution in a thread
            status = stepfunctions.describe_execution(executionArn=execution["executionArn"])
            if status["status"] != "RUNNING":
                break
            time.sleep(0.05)
        yield execution["executionArn"]


def test_follow_reports_the_automl_jobs_status_and_best_candidate(automl_execution: str) -> None:
    lines: list[str] = []

    final, _ = follow(
        boto3.client("stepfunctions"),
        boto3.client("sagemaker"),
        automl_execution,
        timeout_s=0,
        say=lines.append,
    )

    job = boto3.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=AUTOML_JOB)
    metric = job["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]
    assert final.job_name == AUTOML_JOB
    assert final.job_status == (
        f"{job['AutoMLJobStatus']}/{job['AutoMLJobSecondaryStatus']}, best "
        f"{job['BestCandidate']['CandidateName']} ({metric['MetricName']} {metric['Value']:g})"
    )
    assert lines[0].endswith(f"job {AUTOML_JOB}: {final.job_status}")


def test_the_summary_names_the_best_candidate_model_and_package() -> None:
    output = {
        "best": {"candidate": "churn-autopilot-0f8fad5bXGB-003-1a2b3c4d"},
        "model": {"model_arn": "arn:aws:sagemaker:us-east-1:123456789012:model/churn-autopilot"},
        "registration": {
            "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"
        },
    }
    assert summary(output) == [
        "Best candidate: churn-autopilot-0f8fad5bXGB-003-1a2b3c4d",
        "Model: arn:aws:sagemaker:us-east-1:123456789012:model/churn-autopilot",
        "Model package (pending approval): "
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1",
    ]
    training = {"training": {"model_data": "s3://a/m.tar.gz"}, "model": {"model_arn": "m"}}
    assert summary(training) == ["Model artifact: s3://a/m.tar.gz", "Model: m"]

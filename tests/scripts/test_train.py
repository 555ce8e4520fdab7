"""scripts/train.py against moto's emulated CloudFormation, Step Functions and SageMaker."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from scripts.train import TrainError, find_state_machine, follow, main, parse_data

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

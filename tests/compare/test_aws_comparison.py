"""`make compare TARGET=aws`: both pipelines started on the same data, the report from the jobs.

AWS's answers are botocore Stubber responses, checked against botocore's own service models, in
the order the real calls happen; the emulator cannot stand in because it never runs a job.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import compare
import pytest
from botocore.stub import Stubber
from compare import main
from compare_aws import channels_for, run_both, side_result
from compare_data import CompareError
from compare_report import build_report, render_markdown

from stacks.naming import state_machine_output

REGION = "us-east-1"
ACCOUNT = "123456789012"
DATA = "s3://data-bucket/datasets/churn/"
NAMES = {"built-in": "churn-xgboost", "custom": "churn-pytorch"}
JOBS = {"built-in": "churn-xgboost-0001", "custom": "churn-pytorch-0001"}
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def execution_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}:run-1"


def training_job(
    role: str, metrics: dict[str, float], training: int, billable: int
) -> dict[str, Any]:
    instance = "ml.m5.large" if role == "built-in" else "ml.m5.xlarge"
    name = JOBS[role]
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://artifacts/models/{name}/output/model.tar.gz"},
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": instance, "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "CreationTime": WHEN,
        "FinalMetricDataList": [
            {"MetricName": key, "Value": value, "Timestamp": WHEN} for key, value in metrics.items()
        ],
        "EnableManagedSpotTraining": True,
        "TrainingTimeInSeconds": training,
        "BillableTimeInSeconds": billable,
    }


BUILTIN_JOB = training_job(
    "built-in", {"validation:auc": 0.91, "validation:error": 0.12}, training=300, billable=120
)
CUSTOM_JOB = training_job(
    "custom", {"validation:accuracy": 0.9, "validation:loss": 0.3}, training=400, billable=400
)


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Real clients with fake credentials, each with a Stubber holding the expected calls."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.session.Session()
    made = {
        name: session.client(name)
        for name in ("cloudformation", "stepfunctions", "sagemaker", "s3")
    }
    stubbers = {name: Stubber(client) for name, client in made.items()}
    outputs = [
        {"OutputKey": state_machine_output(name), "OutputValue": machine_arn(name)}
        for name in NAMES.values()
    ]
    stack = {"StackName": "Dev-Training", "CreationTime": WHEN, "StackStatus": "CREATE_COMPLETE"}
    for _ in NAMES:
        stubbers["cloudformation"].add_response(
            "describe_stacks",
            {"Stacks": [{**stack, "Outputs": outputs}]},
            {"StackName": "Dev-Training"},
        )
    data = channels_for(DATA)
    for name in NAMES.values():
        stubbers["stepfunctions"].add_response(
            "start_execution",
            {"executionArn": execution_arn(name), "startDate": WHEN},
            {"stateMachineArn": machine_arn(name), "input": json.dumps(data)},
        )
    for role, name in NAMES.items():
        job = BUILTIN_JOB if role == "built-in" else CUSTOM_JOB
        stubbers["stepfunctions"].add_response(
            "describe_execution",
            {
                "executionArn": execution_arn(name),
                "stateMachineArn": machine_arn(name),
                "status": "SUCCEEDED",
                "startDate": WHEN,
                "output": json.dumps({"training": {"model_data": "s3://x/model.tar.gz"}}),
            },
            {"executionArn": execution_arn(name)},
        )
        stubbers["stepfunctions"].add_response(
            "get_execution_history",
            {
                "events": [
                    {
                        "timestamp": WHEN,
                        "type": "PassStateExited",
                        "id": 3,
                        "stateExitedEventDetails": {
                            "name": "NameJob",
                            "output": json.dumps({"job_name": JOBS[role]}),
                        },
                    }
                ]
            },
            {"executionArn": execution_arn(name), "maxResults": 100},
        )
        for _ in range(2):  # follow's status line, then the final figures
            stubbers["sagemaker"].add_response(
                "describe_training_job", job, {"TrainingJobName": JOBS[role]}
            )
    for role, size in (("built-in", 9000), ("custom", 40000)):
        key = f"models/{JOBS[role]}/output/model.tar.gz"
        stubbers["s3"].add_response(
            "head_object", {"ContentLength": size}, {"Bucket": "artifacts", "Key": key}
        )
    for stubber in stubbers.values():
        stubber.activate()
    yield made
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


class StubSession:
    def __init__(self, clients: dict[str, Any]) -> None:
        self._clients = clients

    def client(self, name: str) -> Any:
        return self._clients[name]


def test_both_pipelines_run_on_the_same_data_and_the_report_uses_their_jobs(
    clients: dict[str, Any],
) -> None:
    said: list[str] = []
    jobs = run_both(
        StubSession(clients),
        "Dev",
        NAMES,
        channels_for(DATA),
        timeout_s=60,
        poll_s=0,
        say=said.append,
    )
    builtin = side_result(
        "built-in",
        NAMES["built-in"],
        jobs["built-in"],
        description="SageMaker xgboost",
        s3=clients["s3"],
        owned_lines=0,
    )
    custom = side_result(
        "custom",
        NAMES["custom"],
        jobs["custom"],
        description="pytorch",
        s3=clients["s3"],
        owned_lines=1500,
    )
    assert builtin.metrics == {"auc": 0.91, "accuracy": pytest.approx(0.88)}
    assert custom.metrics == {"accuracy": 0.9, "log_loss": 0.3}
    assert builtin.billable_seconds == 120 and builtin.spot_savings == pytest.approx(0.6)
    assert custom.billable_seconds == 400 and custom.spot_savings == 0
    assert (builtin.model_bytes, custom.model_bytes) == (9000, 40000)
    report = build_report(
        data={
            "source": DATA,
            "rows": None,
            "train_rows": None,
            "validation_rows": None,
            "validation_sha256": None,
            "seed": None,
        },
        problem="classification",
        num_classes=2,
        builtin=builtin,
        custom=custom,
        request_rate=10,
        tie_margin=0.005,
    )
    assert report["primary_metric"] == "accuracy"  # the one metric both jobs report
    verdict = {line["criterion"]: line for line in report["verdict"]}
    assert verdict["accuracy"]["winner"] == "custom"
    assert "built-in 0.8800, custom 0.9000" in verdict["accuracy"]["evidence"]
    assert verdict["cost: training"]["winner"] == "built-in"
    assert "billable seconds: built-in 120.0, custom 400.0" in verdict["cost: training"]["evidence"]
    assert "instances ml.m5.large vs ml.m5.xlarge" in verdict["cost: training"]["evidence"]
    assert verdict["cost: serving"]["winner"] == "not measured"
    text = render_markdown(report)
    assert "| spot savings | 60% | 0% |" in text
    assert any("execution SUCCEEDED, job churn-xgboost-0001" in line for line in said)


def test_an_s3_prefix_without_a_trailing_slash_is_refused() -> None:
    with pytest.raises(CompareError, match="give an S3 prefix ending in '/'"):
        channels_for("s3://bucket/datasets/churn")


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason="matplotlib (requirements/training.in) is not installed",
)
def test_make_compare_target_aws_writes_the_report_and_the_plot(
    clients: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command as a user runs it, from the config's definitions to report.json."""
    monkeypatch.setattr(compare, "aws_session", lambda: StubSession(clients))
    out = tmp_path / "out"
    assert main(["--target", "aws", "--data", DATA, "--out", str(out), "--poll", "0"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["builtin"]["name"] == "churn-xgboost"
    assert report["custom"]["name"] == "churn-pytorch"
    assert report["builtin"]["billable_seconds"] == 120
    assert report["custom"]["owned_code_lines"] > 100
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert f"Data: {DATA}: its train/ and validation/ channels, 2-class classification" in printed
    assert "| accuracy | custom |" in printed

"""Both sides of `make compare TARGET=aws`: the stage's two pipelines on the same S3 data.

It starts the two training pipelines of a deployed stage with scripts/train.py's machinery (the
same state machines `make train` starts), on the same train and validation prefixes, follows
both, and reads each job's final metrics and billing fields from DescribeTrainingJob. The
local emulator creates training jobs but never runs them, so against it this stops before
starting anything and says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from compare_data import CompareError
from compare_report import SideResult
from train import FINAL_STATES, TrainError, find_state_machine, follow, parse_data

from constructs_lib.builtin_algorithms import get_algorithm

#: Final metric names of each side's job -> (the report's metric, transform).
METRICS: Mapping[str, tuple[str, Callable[[float], float]]] = {
    "validation:auc": ("auc", float),
    "validation:error": ("accuracy", lambda error: 1.0 - error),
    "validation:merror": ("accuracy", lambda error: 1.0 - error),
    "validation:logloss": ("log_loss", float),
    "validation:mlogloss": ("log_loss", float),
    "validation:rmse": ("rmse", float),
    # linear-learner's
    "validation:binary_classification_accuracy": ("accuracy", float),
    "validation:multiclass_accuracy": ("accuracy", float),
    # the custom code's metric_definitions.json: cross-entropy is the log loss
    "validation:accuracy": ("accuracy", float),
    "validation:loss": ("log_loss", float),
}
EMULATOR_MESSAGE = (
    "AWS_ENDPOINT_URL is set ({url}): the local emulator creates training jobs but never "
    "runs them, so there are no final metrics or billable seconds to compare. Compare on this "
    "machine with `make compare` (no TARGET), or unset AWS_ENDPOINT_URL to use your AWS account."
)


def refuse_emulator(environ: Mapping[str, str] = os.environ) -> None:
    url = environ.get("AWS_ENDPOINT_URL")
    if url:
        raise CompareError(EMULATOR_MESSAGE.format(url=url))


def channels_for(prefix: str | None) -> dict[str, str]:
    """``s3://b/p/`` -> train and validation channels under it; None -> the configured ones."""
    if prefix is None:
        return {}
    try:
        if not prefix.endswith("/"):
            raise TrainError(prefix)
        return parse_data([f"train={prefix}train/", f"validation={prefix}validation/"])
    except TrainError:
        raise CompareError(
            f"DATA {prefix!r}: on AWS give an S3 prefix ending in '/' that holds train/ and "
            "validation/ (e.g. s3://BUCKET/datasets/churn/)"
        ) from None


def run_both(
    session: Any,
    stage: str,
    names: Mapping[str, str],
    data: dict[str, str],
    *,
    timeout_s: float,
    poll_s: float,
    say: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Start both pipelines, follow each to its end; DescribeTrainingJob of each, by role."""
    cloudformation = session.client("cloudformation")
    stepfunctions = session.client("stepfunctions")
    sagemaker = session.client("sagemaker")
    try:
        arns = {role: find_state_machine(cloudformation, stage, n) for role, n in names.items()}
        executions = {
            role: stepfunctions.start_execution(stateMachineArn=arn, input=json.dumps(data))[
                "executionArn"
            ]
            for role, arn in arns.items()
        }
        jobs = {}
        for role, execution in executions.items():
            say(f"{role} {names[role]}: {execution}")
            final, _ = follow(
                stepfunctions,
                sagemaker,
                execution,
                timeout_s=timeout_s,
                poll_s=poll_s,
                say=_prefixed(say, role),
            )
            if final.execution_status not in FINAL_STATES:
                raise CompareError(
                    f"{role} {names[role]!r} still {final.execution_status} after "
                    f"{timeout_s:g} s; it goes on in AWS: compare again when it has ended"
                )
            if final.execution_status != "SUCCEEDED" or not final.job_name:
                raise CompareError(
                    f"{role} {names[role]!r} ended {final.execution_status}: see its execution "
                    "and the job's log under /aws/sagemaker/TrainingJobs"
                )
            jobs[role] = sagemaker.describe_training_job(TrainingJobName=final.job_name)
    except TrainError as error:
        raise CompareError(str(error)) from None
    except (BotoCoreError, ClientError) as error:
        raise CompareError(f"AWS refused the request: {error}") from None
    return jobs


def _prefixed(say: Callable[[str], None], role: str) -> Callable[[str], None]:
    return lambda line: say(f"  {role}: {line}")


def side_result(
    role: str,
    name: str,
    job: Mapping[str, Any],
    *,
    description: str,
    s3: Any,
    owned_lines: int,
) -> SideResult:
    """A side's figures from its DescribeTrainingJob response."""
    metrics: dict[str, float] = {}
    for item in job.get("FinalMetricDataList", []):
        mapped = METRICS.get(item["MetricName"])
        if mapped:
            metrics[mapped[0]] = mapped[1](float(item["Value"]))
    training = float(job.get("TrainingTimeInSeconds", 0))
    billable = float(job.get("BillableTimeInSeconds", training))
    spot = bool(job.get("EnableManagedSpotTraining"))
    resources = job.get("ResourceConfig", {})
    count = int(resources.get("InstanceCount", 1))
    return SideResult(
        role=role,
        name=name,
        description=f"{description}, job {job['TrainingJobName']}",
        metrics=metrics,
        training_seconds=training,
        model_bytes=_artifact_size(s3, job.get("ModelArtifacts", {}).get("S3ModelArtifacts")),
        owned_code_lines=owned_lines,
        distributed_training=True
        if role == "custom"
        else get_algorithm("xgboost").supports_distributed_training,
        billable_seconds=billable * count,
        spot_savings=(1 - billable / training) if spot and training > 0 else None,
        instance_type=resources.get("InstanceType"),
        notes=[
            f"{role} latency: not measured on AWS runs (no endpoint is deployed by the "
            "comparison); `make compare` measures it locally"
        ],
    )


def _artifact_size(s3: Any, uri: str | None) -> int:
    if not uri:
        return 0
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        return int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except ClientError:
        return 0

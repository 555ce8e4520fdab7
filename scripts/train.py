"""Start a training run of a deployed stage and follow it until it ends.

    make train NAME=churn-xgboost                         # Dev, default data
    .venv/bin/python -m scripts.train churn-xgboost --stage Prod \
        --data train=s3://bucket/datasets/new/

It finds the pipeline's state machine in the stage's Training stack outputs, starts an
execution (channel URIs given with --data override the defaults), then prints each status
change of the execution and of its SageMaker job with the elapsed time (for an Autopilot
definition: the AutoML job's status, its secondary status such as CandidateDefinitionsGenerated
or TrainingModels, and the best candidate so far), and at the end the model artifact's S3
location, or the best candidate of an Autopilot run. It uses your AWS credentials in the
stage's region (config/<stage>.yaml). Against the local emulator that
`make deploy ARGS=--keep-running` leaves up (`make train NAME=... ENDPOINT_URL=URL`) it checks
the pipeline and the data and starts nothing: the emulator never runs an execution's states.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stacks.naming import state_machine_arn, state_machine_names

# The sibling modules under scripts/ import each other by name, as deploy.py does.
_SCRIPTS = str(Path(__file__).resolve().parent)
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

from stage_access import (  # noqa: E402
    StageAccessError,
    emulator_cannot,
    request_failure,
    stage_access,
)

FINAL_STATES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class TrainError(Exception):
    """A problem the user can fix; the message says how."""


@dataclass(frozen=True)
class Progress:
    """What the run looks like at one moment."""

    execution_status: str
    job_name: str | None
    job_status: str | None


def find_state_machine(cloudformation: Any, stage: str, name: str) -> str:
    """The ARN of the state machine that trains `name` in `stage`."""
    stack = f"{stage}-Training"
    try:
        outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    except ClientError as error:
        raise TrainError(
            f"stack {stack} is not deployed here ({error.response['Error']['Message']}); "
            "deploy it first with `make deploy`"
        ) from None
    arn = state_machine_arn(outputs, name)
    if arn is None:
        known = ", ".join(state_machine_names(outputs)) or "none"
        raise TrainError(f"{stage} has no training definition {name!r}; known: {known}")
    return arn


def parse_data(pairs: Sequence[str]) -> dict[str, str]:
    """`["train=s3://b/p/"]` -> `{"train": "s3://b/p/"}`, refusing anything else."""
    data = {}
    for pair in pairs:
        channel, _, uri = pair.partition("=")
        if not channel or not uri.startswith("s3://") or not uri.endswith("/"):
            raise TrainError(
                f"--data {pair!r}: give CHANNEL=s3://bucket/prefix/ (a prefix ending in '/')"
            )
        data[channel] = uri
    return data


#: The state that starts an Autopilot job (constructs_lib/training_pipeline.py).
AUTOML_START_STATE = "StartAutoML"


def progress(stepfunctions: Any, sagemaker: Any, execution_arn: str) -> tuple[Progress, Any]:
    """The current statuses, and the execution's output once it has one."""
    execution = stepfunctions.describe_execution(executionArn=execution_arn)
    output = json.loads(execution["output"]) if execution.get("output") else None
    job_name, automl = _job_name(stepfunctions, execution_arn)
    job_status = None
    if job_name:
        try:
            job_status = (
                _automl_status(sagemaker, job_name)
                if automl
                else _training_status(sagemaker, job_name)
            )
        except ClientError:
            job_status = None
    return Progress(execution["status"], job_name, job_status), output


def _training_status(sagemaker: Any, job_name: str) -> str:
    job = sagemaker.describe_training_job(TrainingJobName=job_name)
    return f"{job['TrainingJobStatus']}/{job.get('SecondaryStatus', '-')}"


def _automl_status(sagemaker: Any, job_name: str) -> str:
    """`InProgress/TrainingModels, best <candidate> (F1 0.8123)` for an AutoML job."""
    job = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=job_name)
    status = f"{job['AutoMLJobStatus']}/{job.get('AutoMLJobSecondaryStatus', '-')}"
    best = job.get("BestCandidate")
    if best:
        metric = best.get("FinalAutoMLJobObjectiveMetric") or {}
        score = f" ({metric['MetricName']} {metric['Value']:g})" if "Value" in metric else ""
        status += f", best {best['CandidateName']}{score}"
    return status


def _job_name(stepfunctions: Any, execution_arn: str) -> tuple[str | None, bool]:
    """The execution's job name, and whether it is an AutoML job."""
    events = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=100)
    name, automl = None, False
    for event in events.get("events", []):
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == "NameJob":
            name = json.loads(details.get("output", "{}")).get("job_name")
        entered = event.get("stateEnteredEventDetails") or {}
        automl = automl or entered.get("name") == AUTOML_START_STATE
    return (str(name) if name else None), automl


def follow(
    stepfunctions: Any,
    sagemaker: Any,
    execution_arn: str,
    *,
    timeout_s: float,
    poll_s: float = 15.0,
    say: Callable[[str], None] = print,
) -> tuple[Progress, Any]:
    """Print each change of status until the execution ends or `timeout_s` passes."""
    started = time.monotonic()
    last: Progress | None = None
    while True:
        current, output = progress(stepfunctions, sagemaker, execution_arn)
        elapsed = time.monotonic() - started
        if current != last:
            job = f", job {current.job_name}: {current.job_status}" if current.job_name else ""
            say(f"[{elapsed:7.0f}s] execution {current.execution_status}{job}")
            last = current
        if current.execution_status in FINAL_STATES or elapsed >= timeout_s:
            return current, output
        time.sleep(poll_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="training definition name, e.g. churn-xgboost")
    parser.add_argument("--stage", default="Dev", choices=["Dev", "Prod"])
    parser.add_argument("--data", action="append", default=[], metavar="CHANNEL=S3_URI")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds to follow")
    parser.add_argument("--poll", type=float, default=15.0, help="seconds between checks")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="the emulator left up by make deploy --keep-running"
    )
    args = parser.parse_args(argv)
    try:
        data = parse_data(args.data)
        access = stage_access(args.stage, args.endpoint_url)
    except (TrainError, StageAccessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = access.session
    try:
        arn = find_state_machine(session.client("cloudformation"), args.stage, args.name)
        if access.emulator_url:
            for line in emulator_cannot(
                f"Found {args.stage}'s training pipeline {args.name} in the emulator ({arn}); "
                "nothing was started.",
                "it records a Step Functions execution but never runs its states, so no "
                "training job would start and the run would wait forever",
            ):
                print(line)
            return 0
        stepfunctions = session.client("stepfunctions")
        execution = stepfunctions.start_execution(stateMachineArn=arn, input=json.dumps(data))
        print(f"Started {args.name} in {args.stage}: {execution['executionArn']}")
        final, output = follow(
            stepfunctions,
            session.client("sagemaker"),
            execution["executionArn"],
            timeout_s=args.timeout,
            poll_s=args.poll,
        )
    except TrainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: {request_failure(error, access)}", file=sys.stderr)
        return 2
    return report(final, output, args.timeout)


def report(final: Progress, output: Any, timeout_s: float) -> int:
    """Print how the followed run ended; the exit status (0: it succeeded)."""
    if final.execution_status not in FINAL_STATES:
        print(f"Still {final.execution_status} after {timeout_s:g} s; it goes on in AWS.")
        return 1
    if final.execution_status != "SUCCEEDED":
        print(
            f"Training {final.execution_status}: see the execution in the Step Functions "
            "console and the job's logs under /aws/sagemaker/TrainingJobs (an Autopilot "
            "job's also under /aws/sagemaker/ProcessingJobs)."
        )
        return 1
    for line in summary(output):
        print(line)
    return 0


def summary(output: dict[str, Any]) -> list[str]:
    """What a successful execution made: the artifact or best candidate, model and package."""
    lines = []
    if "best" in output:
        lines.append(f"Best candidate: {output['best']['candidate']}")
    else:
        lines.append(f"Model artifact: {output['training']['model_data']}")
    lines.append(f"Model: {output['model']['model_arn']}")
    if "registration" in output:
        lines.append(
            f"Model package (pending approval): {output['registration']['model_package_arn']}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())

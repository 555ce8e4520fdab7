"""Start a batch transform of a deployed stage and follow it until it ends.

    make batch NAME=churn-xgboost                         # Dev, the configured input prefix
    .venv/bin/python -m scripts.batch churn-xgboost --stage Prod \
        --input s3://<data bucket>/datasets/churn/batch/2026-11-28/

It finds the pipeline's state machine in the stage's Batch stack outputs, starts an execution
(--input overrides the configured input prefix; it must lie under the data bucket's
datasets/), then prints each change of the execution's status, of its transform job's status
and of how many input files have their results written, with the elapsed time, and at the end
where the results are. It uses your AWS credentials in the stage's region (config/<stage>.yaml).
Against the local emulator that `make deploy ARGS=--keep-running` leaves up
(`make batch NAME=... ENDPOINT_URL=URL`) it checks the pipeline and the input and starts
nothing: the emulator never runs an execution's states.
"""

from __future__ import annotations

import argparse
import json
import re
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

#: Execution statuses after which nothing changes any more.
FINAL_STATES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
#: Step Functions keeps the job name in the output of this state (BatchTransformPipeline).
NAME_STATE = "NameJob"
_S3_PREFIX = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>\S*/)$")


class BatchError(Exception):
    """A problem the user can fix; the message says how."""


@dataclass(frozen=True)
class Progress:
    """What the run looks like at one moment.

    Attributes:
        execution_status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
        job_name: the transform job's name, once the execution has chosen it.
        job_status: InProgress, Completed, Failed, Stopping or Stopped (with the failure
            reason when there is one), once the job exists.
        files: `<done> of <all> input files`, once the job exists.
    """

    execution_status: str
    job_name: str | None = None
    job_status: str | None = None
    files: str | None = None

    def line(self) -> str:
        """`execution RUNNING, job churn-xgboost-...: InProgress, 3 of 10 input files`."""
        text = f"execution {self.execution_status}"
        if self.job_name:
            text += f", job {self.job_name}: {self.job_status or 'not started'}"
        if self.files:
            text += f", {self.files}"
        return text


def find_state_machine(cloudformation: Any, stage: str, name: str) -> str:
    """The ARN of the state machine that runs batch transform `name` in `stage`."""
    stack = f"{stage}-Batch"
    try:
        outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    except ClientError as error:
        raise BatchError(
            f"stack {stack} is not deployed here ({error.response['Error']['Message']}); "
            "declare batch_transforms in config/<stage>.yaml and deploy with `make deploy`"
        ) from None
    arn = state_machine_arn(outputs, name)
    if arn is None:
        known = ", ".join(state_machine_names(outputs)) or "none"
        raise BatchError(f"{stage} has no batch transform {name!r}; known: {known}")
    return arn


def execution_input(uri: str | None) -> dict[str, str]:
    """The execution input for `--input`: `{"input": uri}`, or `{}` for the configured one.

    Raises:
        BatchError: if `uri` is not an S3 prefix, `s3://bucket/prefix/`.
    """
    if uri is None:
        return {}
    if not _S3_PREFIX.match(uri):
        raise BatchError(
            f"--input {uri!r}: give an S3 prefix, s3://<data bucket>/datasets/<prefix>/ "
            "(ending in '/')"
        )
    return {"input": uri}


def progress(stepfunctions: Any, sagemaker: Any, s3: Any, execution_arn: str) -> Progress:
    """The execution's, its transform job's and its files' state now."""
    execution = stepfunctions.describe_execution(executionArn=execution_arn)
    status = str(execution["status"])
    job_name = _job_name(stepfunctions, execution_arn)
    if job_name is None:
        return Progress(status)
    try:
        job = sagemaker.describe_transform_job(TransformJobName=job_name)
    except ClientError:
        return Progress(status, job_name)
    job_status = str(job["TransformJobStatus"])
    if job.get("FailureReason"):
        job_status += f" ({job['FailureReason']})"
    source = job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    results = job["TransformOutput"]["S3OutputPath"]
    try:
        files = f"{_count(s3, results)} of {_count(s3, source)} input files"
    except ClientError:
        files = None  # the buckets are not listable with these credentials: statuses only
    return Progress(status, job_name, job_status, files)


def _job_name(stepfunctions: Any, execution_arn: str) -> str | None:
    history = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=100)
    for event in history.get("events", []):
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == NAME_STATE:
            name = json.loads(details.get("output", "{}")).get("job_name")
            return str(name) if name else None
    return None


def _count(s3: Any, uri: str) -> int:
    """How many objects are under an S3 URI (a transform writes one result per input file)."""
    match = re.match(r"^s3://([^/]+)/(.*)$", uri)
    if match is None:
        return 0
    bucket, prefix = match.groups()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(page.get("KeyCount", 0) for page in pages)


def follow(
    read: Callable[[], Progress],
    *,
    timeout_s: float,
    poll_s: float = 15.0,
    say: Callable[[str], None] = print,
) -> Progress:
    """Print each change of `read()` until the execution ends or `timeout_s` passes."""
    started = time.monotonic()
    last: Progress | None = None
    while True:
        current = read()
        elapsed = time.monotonic() - started
        if current != last:
            say(f"[{elapsed:7.0f}s] {current.line()}")
            last = current
        if current.execution_status in FINAL_STATES or elapsed >= timeout_s:
            return current
        time.sleep(poll_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("name", help="batch transform name, e.g. churn-xgboost")
    parser.add_argument("--stage", default="Dev", choices=["Dev", "Prod"])
    parser.add_argument("--input", metavar="S3_PREFIX", help="default: the configured prefix")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds to follow")
    parser.add_argument("--poll", type=float, default=15.0, help="seconds between checks")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="the emulator left up by make deploy --keep-running"
    )
    args = parser.parse_args(argv)
    try:
        given = execution_input(args.input)
        access = stage_access(args.stage, args.endpoint_url)
    except (BatchError, StageAccessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = access.session
    try:
        arn = find_state_machine(session.client("cloudformation"), args.stage, args.name)
        if access.emulator_url:
            for line in emulator_cannot(
                f"Found {args.stage}'s batch transform {args.name} in the emulator ({arn}); "
                "nothing was started.",
                "it records a Step Functions execution but never runs its states, so no "
                "transform job would start and the run would wait forever",
            ):
                print(line)
            return 0
        stepfunctions = session.client("stepfunctions")
        execution = stepfunctions.start_execution(stateMachineArn=arn, input=json.dumps(given))
        execution_arn = execution["executionArn"]
        print(f"Started {args.name} in {args.stage}: {execution_arn}")
        sagemaker, s3 = session.client("sagemaker"), session.client("s3")
        final = follow(
            lambda: progress(stepfunctions, sagemaker, s3, execution_arn),
            timeout_s=args.timeout,
            poll_s=args.poll,
        )
        output = stepfunctions.describe_execution(executionArn=execution_arn).get("output")
    except BatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: {request_failure(error, access)}", file=sys.stderr)
        return 2
    return report(final, output, args.timeout)


def report(final: Progress, output: str | None, timeout_s: float) -> int:
    """Print how the followed run ended; the exit status (0: it succeeded)."""
    if final.execution_status not in FINAL_STATES:
        print(f"Still {final.execution_status} after {timeout_s:g} s; it goes on in AWS.")
        return 1
    if final.execution_status != "SUCCEEDED" or output is None:
        print(
            f"Batch transform {final.execution_status}: see the execution in the Step Functions "
            "console and the job's logs under /aws/sagemaker/TransformJobs."
        )
        return 1
    print(f"Results: {json.loads(output)['transform']['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

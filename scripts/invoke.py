"""Send a sample request to a deployed endpoint of a stage and print the answer.

    make invoke NAME=churn-xgboost                       # Dev, a sample CSV row
    .venv/bin/python -m scripts.invoke churn-xgboost --stage Prod --body "0.5,1,0,3.2,..."

The endpoint's name comes from the SSM parameter the Serving stack publishes. It uses your AWS
credentials in the stage's region (config/<stage>.yaml). Against the local emulator
(`make invoke NAME=... ENDPOINT_URL=URL`) it checks that the endpoint is deployed and
InService and sends nothing: the emulator has no model behind an endpoint, and its fixed answer
is not a prediction.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stacks.serving_stack import endpoint_name_parameter

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

#: Eight features, no label: the shape of the sample churn data the Dev models train on.
SAMPLE_CSV = "0.42,1.0,0.0,3.2,15.0,0.7,2.0,0.13"


class InvokeError(Exception):
    """A problem the user can fix; the message says how."""


def endpoint_name(ssm: Any, stage: str, name: str) -> str:
    """The deployed name of endpoint `name` in `stage`."""
    parameter = endpoint_name_parameter(stage, name)
    try:
        return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ParameterNotFound":
            raise InvokeError(
                f"{stage} has no endpoint {name!r} here (no SSM parameter {parameter}); "
                "check config/<stage>.yaml `endpoints:` and deploy with `make deploy`"
            ) from None
        raise


def require_in_service(sagemaker: Any, name: str) -> None:
    """Fail with the endpoint's status unless it can take requests."""
    description = sagemaker.describe_endpoint(EndpointName=name)
    status = description["EndpointStatus"]
    if status != "InService":
        reason = description.get("FailureReason")
        raise InvokeError(
            f"endpoint {name} is {status}, not InService"
            + (f": {reason}" if reason else "; try again when it is InService")
        )


def invoke(runtime: Any, name: str, body: str, content_type: str, accept: str) -> str:
    response = runtime.invoke_endpoint(
        EndpointName=name, Body=body.encode(), ContentType=content_type, Accept=accept
    )
    return str(response["Body"].read().decode())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="endpoint definition name, e.g. churn-xgboost")
    parser.add_argument("--stage", default="Dev", choices=["Dev", "Prod"])
    parser.add_argument("--body", default=SAMPLE_CSV, help="request body (default: a CSV row)")
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--accept", default="application/json")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="the emulator left up by make deploy --keep-running"
    )
    args = parser.parse_args(argv)
    try:
        access = stage_access(args.stage, args.endpoint_url)
    except StageAccessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = access.session
    try:
        name = endpoint_name(session.client("ssm"), args.stage, args.name)
        require_in_service(session.client("sagemaker"), name)
        if access.emulator_url:
            for line in emulator_cannot(
                f"Found {args.stage}'s endpoint {args.name} ({name}) in the emulator, "
                "InService; no request was sent.",
                "it has no model behind an endpoint and answers every request with the same "
                "fixed placeholder, which is not a prediction",
            ):
                print(line)
            return 0
        answer = invoke(
            session.client("sagemaker-runtime"), name, args.body, args.content_type, args.accept
        )
    except InvokeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: {request_failure(error, access)}", file=sys.stderr)
        return 2
    print(f"{args.stage} endpoint {args.name} ({name}) answered:\n{answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

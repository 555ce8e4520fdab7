"""Start the Model Monitor suggest-baseline job for an endpoint's data-quality monitor.

    make baseline NAME=churn-xgboost DATASET=s3://<data bucket>/datasets/churn/baseline/ \
        ROLE=arn:aws:iam::123456789012:role/baselining [STAGE=Dev] [NO_HEADER=1]
    .venv/bin/python -m scripts.baseline churn-xgboost --stage Prod --dataset s3://... \
        --role-arn arn:... --wait

It reads the stage's artifacts bucket and key from the Data stack's outputs, resolves the Model
Monitor image for the region through the SageMaker SDK, and starts a processing job that reads
the CSV dataset (the training data, with the columns the endpoint receives) and writes
`statistics.json` and `constraints.json` to `s3://<artifacts>/monitoring/<NAME>/baseline/`:
the keys the environment files' `data_quality` sections name. The job's volume and output are
encrypted with the stage key and it runs without network access.

`--role-arn` is a role SageMaker may assume that reads the dataset, writes under
`monitoring/<NAME>/baseline/` and uses the stage key; the stacks create none (a monitoring role
may not rewrite its own baseline). It uses the standard AWS configuration: your credentials for
real AWS, or `AWS_ENDPOINT_URL` for the local emulator.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from constructs_lib.builtin_algorithms import sdk

FINAL_STATUSES = {"Completed", "Failed", "Stopped"}
INPUT_PATH = "/opt/ml/processing/input/baseline_dataset_input"
OUTPUT_PATH = "/opt/ml/processing/output"
_S3_PREFIX = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")


class BaselineError(Exception):
    """A problem the user can fix; the message says how."""


def stage_storage(cloudformation: Any, stage: str) -> tuple[str, str]:
    """The artifacts bucket name and the key ARN of `stage`, from its Data stack's outputs."""
    stack = f"{stage}-Data"
    try:
        outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    except ClientError as error:
        raise BaselineError(
            f"stack {stack} is not deployed here ({error.response['Error']['Message']}); "
            "deploy it first with `make deploy`"
        ) from None
    values = {output["OutputKey"]: output["OutputValue"] for output in outputs}
    missing = [key for key in ("ArtifactsBucketName", "KeyArn") if key not in values]
    if missing:
        raise BaselineError(f"stack {stack} has no output {', '.join(missing)}; redeploy it")
    return values["ArtifactsBucketName"], values["KeyArn"]


def baseline_request(
    *,
    name: str,
    job_name: str,
    image_uri: str,
    dataset: str,
    header: bool,
    bucket: str,
    key_arn: str,
    role_arn: str,
    instance_type: str,
) -> dict[str, Any]:
    """The CreateProcessingJob request of a data-quality suggest-baseline job."""
    if not _S3_PREFIX.match(dataset):
        raise BaselineError(
            f"--dataset must be an S3 URI such as s3://bucket/prefix/ (got {dataset!r})"
        )
    if not _ROLE_ARN.match(role_arn):
        raise BaselineError(
            f"--role-arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/name "
            f"(got {role_arn!r})"
        )
    return {
        "ProcessingJobName": job_name,
        "RoleArn": role_arn,
        "AppSpecification": {"ImageUri": image_uri},
        "Environment": {
            "dataset_format": json.dumps(
                {"csv": {"header": header, "output_columns_position": "START"}}
            ),
            "dataset_source": INPUT_PATH,
            "output_path": OUTPUT_PATH,
            "publish_cloudwatch_metrics": "Disabled",
        },
        "ProcessingInputs": [
            {
                "InputName": "baseline_dataset_input",
                "S3Input": {
                    "S3Uri": dataset,
                    "LocalPath": INPUT_PATH,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": baseline_uri(bucket, name),
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
            "KmsKeyId": key_arn,
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": instance_type,
                "VolumeSizeInGB": 20,
                "VolumeKmsKeyId": key_arn,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "NetworkConfig": {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
        },
    }


def baseline_uri(bucket: str, name: str) -> str:
    """Where the baseline files go: the prefix of the keys the config names by default."""
    return f"s3://{bucket}/monitoring/{name}/baseline"


def wait(
    sagemaker: Any,
    job_name: str,
    *,
    timeout_s: float,
    poll_s: float,
    report: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Follow the job until it ends or `timeout_s` passes; its last status."""
    start = clock()
    last = ""
    while True:
        job = sagemaker.describe_processing_job(ProcessingJobName=job_name)
        status = str(job["ProcessingJobStatus"])
        if status != last:
            report(f"{clock() - start:7.0f} s  {status}")
            last = status
        if status in FINAL_STATUSES or clock() - start >= timeout_s:
            return status
        sleep(poll_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="endpoint definition name, e.g. churn-xgboost")
    parser.add_argument("--stage", default="Dev", choices=["Dev", "Prod"])
    parser.add_argument("--dataset", required=True, help="S3 URI of the CSV baseline dataset")
    parser.add_argument("--role-arn", required=True, help="the role the job runs with")
    parser.add_argument("--no-header", action="store_true", help="the CSV has no header row")
    parser.add_argument("--instance-type", default="ml.m5.xlarge")
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to follow")
    parser.add_argument("--poll", type=float, default=15.0, help="seconds between checks")
    args = parser.parse_args(argv)
    try:
        session = boto3.session.Session()
        region = session.region_name or "us-east-1"
        bucket, key_arn = stage_storage(session.client("cloudformation"), args.stage)
        job_name = f"{args.name}-baseline-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
        request = baseline_request(
            name=args.name,
            job_name=job_name,
            image_uri=sdk.monitoring_image("model-monitor", region),
            dataset=args.dataset,
            header=not args.no_header,
            bucket=bucket,
            key_arn=key_arn,
            role_arn=args.role_arn,
            instance_type=args.instance_type,
        )
        sagemaker = session.client("sagemaker")
        sagemaker.create_processing_job(**request)
        print(f"Started {job_name}: the baseline goes to {baseline_uri(bucket, args.name)}/")
        if not args.wait:
            return 0
        status = wait(sagemaker, job_name, timeout_s=args.timeout, poll_s=args.poll)
    except (BaselineError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS refused the request: {error}", file=sys.stderr)
        return 2
    if status != "Completed":
        print(f"{job_name} is {status}: see its logs under /aws/sagemaker/ProcessingJobs.")
        return 1
    print("statistics.json and constraints.json are written; review constraints.json.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

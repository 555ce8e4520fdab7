"""End to end: `scripts/deploy.py` deploys Dev with the real CDK CLI into the emulator, a config
change updates it through change sets, and `--destroy` removes it.

One test, three commands, one emulator (left up by the first command with --keep-running and
always stopped by the fixture). Expected counts come from the config, so they stay right when
training definitions or endpoints are added.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from assembly import read_stage

from config import load_stage_config
from tests.conftest import REPO_ROOT
from tests.deploy.conftest import emulator_processes, run_script

pytestmark = pytest.mark.xdist_group("deploy")

KEEP_RUNNING = re.compile(r"keeps running at (http://localhost:\d+) \(process group (\d+)\)")


@dataclass
class Running:
    """The emulator a test left up, if any."""

    url: str = ""
    pgid: int = 0


@pytest.fixture
def running() -> Iterator[Running]:
    """Holds the emulator the test starts; stops its process group however the test ends."""
    state = Running()
    try:
        yield state
    finally:
        if state.pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(state.pgid, signal.SIGKILL)
    assert state.pgid not in emulator_processes()


def test_deploy_update_and_destroy_dev_in_the_emulator(running: Running, tmp_path: Path) -> None:
    logs = str(tmp_path / "logs")
    first = run_script(
        "deploy.py", "--keep-running", "--outdir", str(tmp_path / "out1"), "--log-dir", logs
    )
    match = KEEP_RUNNING.search(first.stdout)
    if match:
        running.url, running.pgid = match.group(1), int(match.group(2))
    assert first.returncode == 0, first.stdout + first.stderr
    assert match, first.stdout
    for phase in ("synth", "emulator", "bootstrap", "publish", "deploy"):
        assert re.search(rf"^  {phase} +\.\.\. +\d+\.\d s", first.stdout, re.MULTILINE), phase
    assert "/cdk-bootstrap/hnb659fds/version = " in first.stdout
    assert "Not deployed, and why:" in first.stdout
    assert "AWS::S3::BucketPolicy" in first.stdout

    config = load_stage_config(REPO_ROOT / "config" / "dev.yaml")
    session = _emulator(running.url)
    stacks = [stack.stack_name for stack in read_stage(tmp_path / "out1", "Dev")]
    assert stacks[:2] == ["Dev-Data", "Dev-Training"]
    _check_dev(session, stacks, tmp_path / "out1", expected_state_machines=len(config.training))

    changed, epochs_changed = _changed_config(tmp_path / "config")
    second = run_script(
        "deploy.py",
        "--endpoint-url",
        running.url,
        "-c",
        f"config_dir={changed}",
        "--outdir",
        str(tmp_path / "out2"),
        "--log-dir",
        logs,
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "bootstrap  skipped: already bootstrapped" in second.stdout
    assert not re.search(r"^  emulator ", second.stdout, re.MULTILINE)  # it used the running one
    _check_update(session, stacks, epochs_changed=epochs_changed)

    third = run_script(
        "deploy.py",
        "--destroy",
        "--endpoint-url",
        running.url,
        "--assembly",
        str(tmp_path / "out2"),
        "--log-dir",
        logs,
    )
    assert third.returncode == 0, third.stdout + third.stderr
    assert f"removed {', '.join(stacks)}" in third.stdout
    stacks = session.client("cloudformation").describe_stacks()["Stacks"]
    assert [stack["StackName"] for stack in stacks] == ["CDKToolkit"]
    buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]
    assert all(name.startswith("cdk-hnb659fds-") for name in buckets), buckets


def _check_dev(
    session: Any, stacks: list[str], outdir: Path, *, expected_state_machines: int
) -> None:
    """What the first deploy must have created, read back from the emulator."""
    resources = _stack_resources(session, stacks)

    roles = [_role(session, name) for name in resources["AWS::IAM::Role"]]
    sagemaker_roles = [role for role in roles if _trusts(role, "sagemaker.amazonaws.com")]
    assert sagemaker_roles, [role["RoleName"] for role in roles]

    keys = resources["AWS::KMS::Key"]
    assert len(keys) == 1
    key_arn = session.client("kms").describe_key(KeyId=keys[0])["KeyMetadata"]["Arn"]
    buckets = resources["AWS::S3::Bucket"]
    assert len(buckets) == 3
    algorithms = sorted(_encryption(session, bucket)[0] for bucket in buckets)
    assert algorithms == ["AES256", "aws:kms", "aws:kms"]  # the access-log bucket: SSE-S3
    assert {
        _encryption(session, bucket)[1]
        for bucket in buckets
        if _encryption(session, bucket)[0] == "aws:kms"
    } == {key_arn}

    machines = resources.get("AWS::StepFunctions::StateMachine", [])
    assert len(machines) == expected_state_machines
    endpoints = resources.get("AWS::SageMaker::Endpoint", [])
    assert len(endpoints) == _template_count(outdir, "AWS::SageMaker::Endpoint")
    for endpoint_arn in endpoints:
        name = endpoint_arn.rsplit("/", 1)[-1]
        status = session.client("sagemaker").describe_endpoint(EndpointName=name)
        assert status["EndpointStatus"] == "InService"


def _check_update(session: Any, stacks: list[str], *, epochs_changed: bool) -> None:
    """The second deploy changed a tag everywhere and a hyperparameter in its state machine."""
    resources = _stack_resources(session, stacks)
    for bucket in resources["AWS::S3::Bucket"]:
        tags = session.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
        assert {"Key": "environment", "Value": "dev-changed"} in tags
    key_tags = session.client("kms").list_resource_tags(KeyId=resources["AWS::KMS::Key"][0])
    assert {"TagKey": "environment", "TagValue": "dev-changed"} in key_tags["Tags"]
    definitions = [
        session.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
        for arn in resources.get("AWS::StepFunctions::StateMachine", [])
    ]
    if epochs_changed:
        assert any('"epochs":"6"' in definition.replace(" ", "") for definition in definitions)
    events = session.client("cloudformation").describe_stacks(StackName="Dev-Data")["Stacks"]
    assert events[0]["StackStatus"] == "UPDATE_COMPLETE"


def _changed_config(folder: Path) -> tuple[Path, bool]:
    """A copy of config/ with the Dev `environment` tag changed, and the first `epochs: 5`
    hyperparameter (if there is one) set to 6. Returns the folder and whether epochs changed."""
    folder.mkdir()
    for path in (REPO_ROOT / "config").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    dev = folder / "dev.yaml"
    text = dev.read_text()
    assert "environment: dev\n" in text
    text = text.replace("environment: dev\n", "environment: dev-changed\n")
    text, epochs_changed = re.subn(r"(\n\s+epochs: )5\n", r"\g<1>6\n", text, count=1)
    dev.write_text(text)
    return folder, epochs_changed == 1


def _emulator(url: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    class Clients:
        def client(self, service: str) -> Any:
            return session.client(service, endpoint_url=url)

    return Clients()


def _stack_resources(session: Any, stack_names: list[str]) -> dict[str, list[str]]:
    """Physical ids by resource type (resources moto skipped have none and are left out)."""
    found: dict[str, list[str]] = {}
    cloudformation = session.client("cloudformation")
    for name in stack_names:
        for summary in cloudformation.list_stack_resources(StackName=name)[
            "StackResourceSummaries"
        ]:
            if summary.get("PhysicalResourceId"):
                found.setdefault(summary["ResourceType"], []).append(summary["PhysicalResourceId"])
    return found


def _role(session: Any, name: str) -> dict[str, Any]:
    role: dict[str, Any] = session.client("iam").get_role(RoleName=name)["Role"]
    return role


def _trusts(role: dict[str, Any], service: str) -> bool:
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    return any(
        statement["Effect"] == "Allow"
        and statement["Action"] == "sts:AssumeRole"
        and service in json.dumps(statement.get("Principal", {}))
        for statement in statements
    )


def _encryption(session: Any, bucket: str) -> tuple[str, str | None]:
    rules = session.client("s3").get_bucket_encryption(Bucket=bucket)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    return default["SSEAlgorithm"], default.get("KMSMasterKeyID")


def _template_count(outdir: Path, resource_type: str) -> int:
    count = 0
    for template in outdir.glob("assembly-Dev/*.template.json"):
        resources = json.loads(template.read_text())["Resources"].values()
        count += sum(1 for resource in resources if resource["Type"] == resource_type)
    return count

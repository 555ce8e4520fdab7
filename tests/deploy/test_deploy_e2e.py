"""End to end: `scripts/deploy.py` deploys Dev with the real CDK CLI into the emulator, a config
change updates it through change sets, `--destroy` removes every resource of it, and a deploy
interrupted half way (held at a known request, see `HoldingProxy`) completes when it is run again.

The clean deploy (`clean_dev`) runs once per module with --keep-running; its emulator is stopped
by the fixture however the tests end. Expected counts come from the config and the templates,
so they stay right when training definitions, endpoints or whole stacks are added.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import inventory
import pytest
from assembly import read_stage
from emulator import Emulator

from config import load_stage_config
from tests.conftest import REPO_ROOT
from tests.deploy.conftest import (
    SAFETY_TIMEOUT_S,
    SCRIPTS,
    HoldingProxy,
    ProxiedRequest,
    run_script,
    tool_environment,
    wait_until_gone,
)

pytestmark = pytest.mark.xdist_group("deploy")

KEEP_RUNNING = re.compile(r"keeps running at (http://localhost:\d+) \(process group (\d+)\)")


@dataclass(frozen=True)
class Deployed:
    """Dev deployed once, cleanly, into an emulator that stays up for the module."""

    url: str
    outdir: Path
    stacks: list[str]
    state: dict[str, Any]
    """`_account_state` right after the clean deploy."""


@pytest.fixture(scope="module")
def clean_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """`scripts/deploy.py --keep-running`: synth, emulator, bootstrap, publish, deploy, report."""
    tmp_path = tmp_path_factory.mktemp("clean-dev")
    outdir = tmp_path / "out"
    first = run_script(
        "deploy.py", "--keep-running", "--outdir", str(outdir), "--log-dir", str(tmp_path / "logs")
    )
    match = KEEP_RUNNING.search(first.stdout)
    pgid = int(match.group(2)) if match else 0
    try:
        assert first.returncode == 0, first.stdout + first.stderr
        assert match, first.stdout
        for phase in ("synth", "emulator", "bootstrap", "publish", "deploy"):
            assert re.search(rf"^  {phase} +\.\.\. +\d+\.\d s", first.stdout, re.MULTILINE), phase
        assert "/cdk-bootstrap/hnb659fds/version = " in first.stdout
        assert "Not deployed, and why:" in first.stdout
        assert "AWS::S3::BucketPolicy" in first.stdout
        url = match.group(1)
        stacks = [stack.stack_name for stack in read_stage(outdir, "Dev")]
        yield Deployed(url, outdir, stacks, _account_state(_emulator(url), stacks))
    finally:
        if pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            wait_until_gone(pgid)


def test_deploy_update_and_destroy_dev_in_the_emulator(clean_dev: Deployed, tmp_path: Path) -> None:
    logs = str(tmp_path / "logs")
    config = load_stage_config(REPO_ROOT / "config" / "dev.yaml")
    session = _emulator(clean_dev.url)
    stacks = clean_dev.stacks
    assert stacks[:2] == ["Dev-Data", "Dev-Training"]
    _check_dev(session, stacks, clean_dev.outdir, expected_state_machines=len(config.training))

    changed, epochs_changed = _changed_config(tmp_path / "config")
    second = run_script(
        "deploy.py",
        "--endpoint-url",
        clean_dev.url,
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

    # Every resource the stacks list, looked up through its own service: all exist now.
    resources = inventory.stack_resources(session, stacks)
    probed = [r for r in resources if r.resource_type in inventory.PROBES]
    assert inventory.unknown_types(resources) == [], (
        "add each type to PROBES (how to look it up) or NOT_LOOKED_UP (why not) in "
        "scripts/inventory.py"
    )
    assert [left.resource for left in inventory.leftovers(session, resources)] == probed
    stack_ids = {
        name: session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0][
            "StackId"
        ]
        for name in stacks
    }
    data_bucket = _data_bucket(session, resources)
    s3 = session.client("s3")
    s3.put_object(Bucket=data_bucket, Key="datasets/churn/a.csv", Body=b"1\n")
    destroy = ("deploy.py", "--destroy", "--endpoint-url", clean_dev.url, "--log-dir", logs)
    assembly = ("--assembly", str(tmp_path / "out2"))

    third = run_script(*destroy, *assembly)

    # As in CloudFormation: the bucket that holds an object stops its stack's deletion, the
    # rest is deleted, and the message names the bucket and what to do.
    assert third.returncode == 1, third.stdout + third.stderr
    assert re.search(r"Dev-Data \|.*\| DELETE_FAILED .*BucketNotEmpty", third.stderr)
    assert third.stderr.splitlines()[-2:] == [
        "1 resource(s) of Dev remain:",
        f"  AWS::S3::Bucket {data_bucket} (Dev-Data/{_logical_id(resources, data_bucket)}): "
        "holds 1 object version(s): CloudFormation deletes only empty buckets (Dev: "
        "removal_policy destroy, auto_delete_objects false). Empty it (`aws s3 rm "
        f"s3://{data_bucket} --recursive`, and every object version when versioning is on), "
        "then destroy again",
    ]
    assert _stack_states(session, stack_ids) == {
        name: "DELETE_FAILED" if name == "Dev-Data" else "DELETE_COMPLETE" for name in stacks
    }
    redeploy = run_script(
        "deploy.py", "--endpoint-url", clean_dev.url, "--log-dir", logs, *assembly
    )
    assert redeploy.returncode == 1
    assert redeploy.stderr.splitlines()[-2:] == [
        "error: cannot deploy over these stacks:",
        "  Dev-Data (Dev/Data) is DELETE_FAILED: an earlier destroy did not finish: run this "
        "command with --destroy again; its message names what blocks the deletion",
    ]

    s3.delete_object(Bucket=data_bucket, Key="datasets/churn/a.csv")
    fourth = run_script(*destroy, *assembly)

    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    assert re.search(
        r"^  check +\.\.\. +\d+\.\d s  (\d+) of \1 resources gone$", fourth.stdout, re.M
    )
    assert _stack_states(session, stack_ids) == dict.fromkeys(stacks, "DELETE_COMPLETE")
    live = [
        stack["StackName"] for stack in session.client("cloudformation").describe_stacks()["Stacks"]
    ]
    assert live == ["CDKToolkit"]
    assert inventory.leftovers(session, resources) == []


def _stack_states(session: Any, stack_ids: dict[str, str]) -> dict[str, str]:
    """Stack name -> state, looked up by stack id (a deleted stack is found by its id only)."""
    cloudformation = session.client("cloudformation")
    return {
        name: cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        for name, stack_id in stack_ids.items()
    }


def test_an_interrupted_deploy_completes_when_run_again(
    clean_dev: Deployed, tmp_path: Path
) -> None:
    """Ctrl-C while the CLI waits for CloudFormation to take the second stack's change set (the
    first stack is deployed by then); the same command again ends where a clean deploy does:
    the same stacks, the same resources, nothing extra in the account.

    The deploy talks to the emulator through a proxy that holds that one request, so the
    interrupt always lands mid-deploy, however fast or slow the machine is.
    """
    logs = tmp_path / "logs"
    first_stack, second_stack = clean_dev.stacks[:2]

    def second_change_set(request: ProxiedRequest) -> bool:
        return request.is_api_call("CreateChangeSet", second_stack)

    with (
        Emulator(log_path=tmp_path / "emulator.log") as running,
        HoldingProxy(running.endpoint_url, hold_when=second_change_set) as proxy,
    ):
        session = _emulator(running.endpoint_url)
        arguments = ["--assembly", str(clean_dev.outdir), "--log-dir", str(logs)]
        first = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "deploy.py"), "--endpoint-url", proxy.url, *arguments],
            cwd=REPO_ROOT,
            env=tool_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            proxy.wait_until_held(first)
            at_interrupt = _states(session, clean_dev.stacks)
            first.send_signal(signal.SIGINT)
            out, err = first.communicate(timeout=SAFETY_TIMEOUT_S)
        finally:
            if first.poll() is None:
                first.kill()
            proxy.release()
        assert at_interrupt == {first_stack: "CREATE_COMPLETE"}
        assert first.returncode == 130, out + err
        assert "interrupted; the emulator and the CDK CLI were stopped" in err
        assert not _cdk_processes(clean_dev.outdir), "the CDK CLI outlived the interrupted deploy"
        assert _states(session, clean_dev.stacks) == at_interrupt

        again = run_script("deploy.py", "--endpoint-url", running.endpoint_url, *arguments)

        assert again.returncode == 0, again.stdout + again.stderr
        assert "bootstrap  skipped: already bootstrapped" in again.stdout
        assert _account_state(session, clean_dev.stacks) == clean_dev.state


def _states(session: Any, stacks: list[str]) -> dict[str, str]:
    """Stack name -> state, for the stacks that exist."""
    found = session.client("cloudformation").describe_stacks()["Stacks"]
    return {s["StackName"]: s["StackStatus"] for s in found if s["StackName"] in stacks}


def _account_state(session: Any, stacks: list[str]) -> dict[str, Any]:
    """What a deploy leaves, without physical names (they differ between deploys): every stack's
    state and resources, and how many resources of each kind the whole account holds."""
    cloudformation = session.client("cloudformation")
    resources = {}
    for name in stacks:
        summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        resources[name] = sorted(
            (s["LogicalResourceId"], s["ResourceType"], s["ResourceStatus"]) for s in summaries
        )
    s3, iam, sagemaker = session.client("s3"), session.client("iam"), session.client("sagemaker")
    keys = session.client("kms").list_keys()["Keys"]
    counts = {
        "buckets": len(s3.list_buckets()["Buckets"]),
        "roles": len(iam.list_roles()["Roles"]),
        "policies": len(iam.list_policies(Scope="Local")["Policies"]),
        "enabled keys": sum(
            session.client("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
            == "Enabled"
            for key in keys
        ),
        "state machines": len(
            session.client("stepfunctions").list_state_machines()["stateMachines"]
        ),
        "topics": len(session.client("sns").list_topics()["Topics"]),
        "parameters": len(session.client("ssm").describe_parameters()["Parameters"]),
        "log groups": len(session.client("logs").describe_log_groups()["logGroups"]),
        "rules": len(session.client("events").list_rules()["Rules"]),
        "models": len(sagemaker.list_models()["Models"]),
        "endpoint configs": len(sagemaker.list_endpoint_configs()["EndpointConfigs"]),
        "endpoints": len(sagemaker.list_endpoints()["Endpoints"]),
    }
    return {"stacks": _states(session, stacks), "resources": resources, "counts": counts}


def _cdk_processes(assembly: Path) -> list[int]:
    """Process ids of CDK CLI processes (`cdk ... --app ASSEMBLY`) still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"cdk" in command and str(assembly).encode() in command:
            found.append(int(entry.name))
    return found


def _data_bucket(session: Any, resources: list[inventory.StackResource]) -> str:
    """The physical name of the Dev data bucket (the one its training channels read)."""
    buckets = [r for r in resources if r.resource_type == "AWS::S3::Bucket"]
    (data,) = [r for r in buckets if r.logical_id.startswith("BucketsData")]
    return data.physical_id


def _logical_id(resources: list[inventory.StackResource], physical_id: str) -> str:
    (found,) = [r.logical_id for r in resources if r.physical_id == physical_id]
    return found


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
    assert len(machines) == _template_count(outdir, "AWS::StepFunctions::StateMachine")
    training = _stack_resources(session, ["Dev-Training"])["AWS::StepFunctions::StateMachine"]
    assert len(training) == expected_state_machines
    endpoints = resources.get("AWS::SageMaker::Endpoint", [])
    assert len(endpoints) == _template_count(outdir, "AWS::SageMaker::Endpoint")
    for endpoint_arn in endpoints:
        name = endpoint_arn.rsplit("/", 1)[-1]
        status = session.client("sagemaker").describe_endpoint(EndpointName=name)
        assert status["EndpointStatus"] == "InService"
    # The TensorFlow endpoint serves its artifact with the SDK's TensorFlow Serving image.
    sagemaker = session.client("sagemaker")
    tensorflow = session.client("ssm").get_parameter(
        Name="/sagemaker-platform/Dev/endpoints/churn-tensorflow"
    )["Parameter"]["Value"]
    config_name = sagemaker.describe_endpoint(EndpointName=tensorflow)["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)[
        "ProductionVariants"
    ][0]
    container = sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]
    assert "/tensorflow-inference:" in container["Image"]


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

"""What a re-run meets, and what a destroy leaves: scripts/deploy.py's checks against moto.

`check_stack_states` runs before every deploy: a stack left by an interrupted or failed deploy
in a state a deploy cannot start from is refused with a message naming it and what to do; the
states the CDK CLI deals with itself get a note. `inventory.leftovers` runs after every destroy
and looks each resource the stacks had up through its own service API.

The stacks are real moto stacks (in process, `mock_aws`); their state is set on moto's backend,
because moto's CloudFormation never fails or pauses a stack by itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import deploy
import inventory
import pytest
from assembly import StackArtifact
from botocore.stub import Stubber
from deploy import BLOCKING_STATES, HANDLED_STATES, DeployError, check_stack_states
from inventory import StackResource
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends

ACCOUNT, REGION = "123456789012", "us-east-1"
DATA = StackArtifact(
    path="Dev/Data", stack_name="Dev-Data", account=ACCOUNT, region=REGION, template={}
)
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def session() -> Iterator[Any]:
    """A boto3 session on an empty moto account (in process)."""
    with mock_aws():
        yield boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )


def _stack_in_state(session: Any, state: str) -> None:
    session.client("cloudformation").create_stack(StackName="Dev-Data", TemplateBody=TEMPLATE)
    backend = cloudformation_backends[ACCOUNT][REGION]
    (stack,) = [stack for stack in backend.stacks.values() if stack.name == "Dev-Data"]
    stack.status = state


@pytest.mark.parametrize(
    ("state", "what_to_do"),
    [
        ("UPDATE_ROLLBACK_FAILED", "`npx cdk rollback Dev/Data` (add `--orphan LOGICAL_ID`"),
        ("DELETE_FAILED", "run this command with --destroy again"),
        ("CREATE_FAILED", "roll it back with `npx cdk rollback Dev/Data`, then deploy again"),
        ("UPDATE_FAILED", "roll it back with `npx cdk rollback Dev/Data`, then deploy again"),
    ],
)
def test_a_stack_a_deploy_cannot_start_from_is_refused_by_name(
    session: Any, state: str, what_to_do: str
) -> None:
    _stack_in_state(session, state)
    with pytest.raises(DeployError) as raised:
        check_stack_states(session, [DATA], target="aws", out=io.StringIO())
    message = str(raised.value)
    expected = BLOCKING_STATES[state].format(path="Dev/Data")
    assert message == (
        f"cannot deploy over these stacks:\n  Dev-Data (Dev/Data) is {state}: {expected}"
    )
    assert what_to_do in message


@pytest.mark.parametrize("state", sorted(HANDLED_STATES))
def test_states_the_cli_deals_with_get_a_note(session: Any, state: str) -> None:
    _stack_in_state(session, state)
    out = io.StringIO()
    check_stack_states(session, [DATA], target="emulator", out=out)
    assert out.getvalue() == f"  note: Dev-Data (Dev/Data) is {state}: {HANDLED_STATES[state]}\n"


def test_an_operation_in_progress_blocks_the_emulator_only(session: Any) -> None:
    _stack_in_state(session, "UPDATE_IN_PROGRESS")
    with pytest.raises(DeployError, match=r"Dev-Data \(Dev/Data\) is UPDATE_IN_PROGRESS: the "):
        check_stack_states(session, [DATA], target="emulator", out=io.StringIO())
    out = io.StringIO()
    check_stack_states(session, [DATA], target="aws", out=out)
    assert out.getvalue() == (
        "  note: Dev-Data (Dev/Data) is UPDATE_IN_PROGRESS: cdk deploy waits for it to finish "
        "first\n"
    )


def test_complete_and_absent_stacks_pass_silently(session: Any) -> None:
    _stack_in_state(session, "CREATE_COMPLETE")
    training = StackArtifact(
        path="Dev/Training", stack_name="Dev-Training", account=ACCOUNT, region=REGION, template={}
    )
    out = io.StringIO()
    check_stack_states(session, [DATA, training], target="emulator", out=out)
    assert out.getvalue() == ""


def test_a_bucket_that_holds_objects_is_reported_with_what_to_do(session: Any) -> None:
    s3, iam = session.client("s3"), session.client("iam")
    s3.create_bucket(Bucket="dev-data-bucket")
    s3.put_object(Bucket="dev-data-bucket", Key="datasets/a.csv", Body=b"1,2\n")
    s3.create_bucket(Bucket="dev-empty-bucket")
    iam.create_role(RoleName="dev-role", AssumeRolePolicyDocument="{}")
    resources = [
        StackResource("Dev-Data", "DataBucket", "AWS::S3::Bucket", "dev-data-bucket"),
        StackResource("Dev-Data", "Logs", "AWS::S3::Bucket", "dev-empty-bucket"),
        StackResource("Dev-Data", "Gone", "AWS::S3::Bucket", "dev-deleted-bucket"),
        StackResource("Dev-Data", "Role", "AWS::IAM::Role", "dev-role"),
        StackResource("Dev-Data", "RolePolicy", "AWS::IAM::Policy", "Dev-Role-Policy"),
    ]
    iam.delete_role(RoleName="dev-role")
    s3.delete_bucket(Bucket="dev-empty-bucket")

    left = inventory.leftovers(session, resources)

    assert [(item.resource.logical_id, item.state) for item in left] == [
        (
            "DataBucket",
            "holds 1 object version(s): CloudFormation deletes only empty buckets (Dev: "
            "removal_policy destroy, auto_delete_objects false). Empty it (`aws s3 rm "
            "s3://dev-data-bucket --recursive`, and every object version when versioning is "
            "on), then destroy again",
        )
    ]


def test_a_type_without_a_probe_is_named_and_not_looked_up(session: Any) -> None:
    queue = StackResource("Dev-Batch", "Queue", "AWS::Batch::JobQueue", "arn:aws:batch:queue")
    metadata = StackResource("Dev-Batch", "CDKMetadata", "AWS::CDK::Metadata", "id")
    assert inventory.unknown_types([queue, metadata]) == ["AWS::Batch::JobQueue"]
    assert inventory.leftovers(session, [queue, metadata]) == []


#: Probed types whose lookup moto does not implement: checked against botocore's model instead.
MOTO_LACKS = {"AWS::SageMaker::MonitoringSchedule": "describe_monitoring_schedule"}


@pytest.mark.parametrize("resource_type", sorted(set(inventory.PROBES) - set(MOTO_LACKS)))
def test_every_probe_says_gone_for_a_resource_that_never_existed(
    session: Any, resource_type: str
) -> None:
    """Each lookup's "not found" answer is one of its gone codes (botocore validates the call)."""
    physical_ids = {
        "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/missing",
        "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:missing",
        "AWS::StepFunctions::StateMachine": (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:missing"
        ),
        "AWS::KMS::Key": "0b7e9a1c-0000-4000-8000-000000000000",
        "AWS::KMS::Alias": "alias/missing",
    }
    physical_id = physical_ids.get(resource_type, "missing-resource")
    resource = StackResource("Dev-Any", "Missing", resource_type, physical_id)
    assert inventory.leftovers(session, [resource]) == []


@pytest.mark.parametrize(("resource_type", "operation"), sorted(MOTO_LACKS.items()))
def test_probes_moto_lacks_send_valid_requests_and_know_not_found(
    resource_type: str, operation: str
) -> None:
    """botocore's Stubber checks the request against the service model and answers with the
    service's own "not found" error code."""
    probe = inventory.PROBES[resource_type]
    client = boto3.client(
        probe.service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    error_codes = {
        shape.name
        for shape in client.meta.service_model.operation_model(
            client.meta.method_to_api_mapping[operation]
        ).error_shapes
    }
    assert set(probe.gone_codes) <= error_codes
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/missing"
    with Stubber(client) as stubber:
        stubber.add_client_error(
            operation,
            service_error_code=probe.gone_codes[0],
            expected_params={"MonitoringScheduleName": "missing"},
        )

        class Session:
            def client(self, service: str) -> Any:
                return client

        resource = StackResource("Dev-Serving", "Schedule", resource_type, arn)
        assert inventory.leftovers(Session(), [resource]) == []
        stubber.assert_no_pending_responses()


def test_credentials_that_cannot_list_the_stacks_stop_the_destroy_before_it_starts(
    tmp_path: Path,
) -> None:
    cloudformation = boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    class Session:
        def client(self, service: str) -> Any:
            assert service == "cloudformation"
            return cloudformation

    options = deploy.parse_args(["--target", "aws", "--destroy", "--assembly", str(tmp_path)])
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "list_stack_resources",
            service_error_code="AccessDenied",
            service_message="not allowed",
            expected_params={"StackName": "Dev-Data"},
        )
        with pytest.raises(DeployError) as raised:
            deploy.destroy(
                options,
                stacks=[DATA],
                env={},
                session=Session(),
                timings=deploy.Timings(),
                out=io.StringIO(),
            )
    assert str(raised.value) == (
        "listing the stacks' resources failed: An error occurred (AccessDenied) when calling "
        "the ListStackResources operation: not allowed"
    )

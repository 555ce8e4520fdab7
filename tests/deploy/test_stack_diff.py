"""scripts/stack_diff.py (`make diff`): the review of a change, and the data-at-risk gate.

The first tests compare small templates; the last ones make a git repository of this project in
a temporary folder, commit changes on top of it as a pull request would, and run the command
there: the real synth, the real CDK CLI diff, the real CloudFormation schemas.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stack_diff
from assembly import StackArtifact
from review_report import review
from stack_diff import DiffError, allowances, checked_out, compare, render

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import tool_environment

BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "notifications"}}


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def with_properties(resource: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {**resource, "Properties": {**resource.get("Properties", {}), **properties}}


def stack(path: str, body: dict[str, Any]) -> StackArtifact:
    return StackArtifact(path, path.replace("/", "-"), "123456789012", "us-east-1", body)


def lines(base: dict[str, Any], head: dict[str, Any], path: str = "Dev/Data") -> list[str]:
    report = compare([stack(path, base)], [stack(path, head)], "main")
    return render(report, "text").splitlines()


# --- replacement semantics from the CloudFormation schemas ---------------------------------


def test_a_topic_made_fifo_is_data_at_risk_named_by_the_schema_property() -> None:
    result = review(
        {"Dev/Data": template(Topic=TOPIC)},
        {"Dev/Data": template(Topic=with_properties(TOPIC, FifoTopic=True))},
    )
    assert [(f.address, f.text) for f in result.data_at_risk] == [
        (
            "Dev/Data/Topic",
            "replaced: FifoTopic changed (create-only in the CloudFormation schema of "
            "AWS::SNS::Topic)",
        )
    ]
    assert not result.replacements


def test_a_property_that_updates_in_place_is_no_replacement() -> None:
    result = review(
        {"Dev/Data": template(Topic=TOPIC, Data=BUCKET)},
        {
            "Dev/Data": template(
                Topic=with_properties(TOPIC, DisplayName="alerts"),
                Data=with_properties(BUCKET, VersioningConfiguration={"Status": "Suspended"}),
            )
        },
    )
    assert not result.data_at_risk and not result.replacements
    assert [(c.logical_id, c.kind) for c in result.other] == [("Data", "~"), ("Topic", "~")]


def test_a_model_package_group_description_replaces_the_registry() -> None:
    """Not obvious from the console, but create-only in the schema: the registry is lost."""
    group = {
        "Type": "AWS::SageMaker::ModelPackageGroup",
        "Properties": {"ModelPackageGroupName": "g"},
    }
    result = review(
        {"Dev/Data": template(Group=group)},
        {"Dev/Data": template(Group=with_properties(group, ModelPackageGroupDescription="new"))},
    )
    assert [f.text for f in result.data_at_risk] == [
        "replaced: ModelPackageGroupDescription changed (create-only in the CloudFormation "
        "schema of AWS::SageMaker::ModelPackageGroup)"
    ]


def test_a_key_spec_change_fails_the_update_rather_than_replacing_the_key() -> None:
    """The KMS key schema has no create-only property: CloudFormation refuses a new KeySpec."""
    key = {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}}
    result = review(
        {"Dev/Data": template(Key=key)},
        {"Dev/Data": template(Key=with_properties(key, KeySpec="RSA_2048"))},
    )
    assert not result.data_at_risk and not result.replacements
    assert [(c.logical_id, [x.path for x in c.changes]) for c in result.other] == [
        ("Key", ["Properties.KeySpec"])
    ]


def test_a_renamed_or_removed_stateful_resource_is_a_deletion() -> None:
    retained = {**BUCKET, "DeletionPolicy": "Retain"}
    result = review(
        {"Prod/Data": template(Data1=BUCKET, Logs=retained)}, {"Prod/Data": template(Data2=BUCKET)}
    )
    assert [(f.logical_id, f.text) for f in result.data_at_risk] == [
        ("Data1", "deleted"),
        ("Logs", "deleted; its DeletionPolicy keeps the old one, orphaned outside the stack"),
    ]
    assert [(c.logical_id, c.kind) for c in result.other] == [("Data2", "+")]


def test_stateless_replacements_are_expected_and_do_not_fail() -> None:
    model = {
        "Type": "AWS::SageMaker::Model",
        "Properties": {"PrimaryContainer": {"Image": "xgboost:1.7-1", "ModelDataUrl": "s3://a"}},
    }
    head = with_properties(
        model, PrimaryContainer={"Image": "xgboost:1.7-1", "ModelDataUrl": "s3://b"}
    )
    text = lines(template(Model=model), template(Model=head), "Dev/Serving")
    assert text[2] == "No stateful resource is replaced or deleted."
    assert (
        "  Dev/Serving AWS::SageMaker::Model Model: replaced: PrimaryContainer changed "
        "(create-only in the CloudFormation schema of AWS::SageMaker::Model)"
    ) in text
    assert (
        "  Model (Dev/Serving, AWS::SageMaker::Model Model): model artifact "
        "(PrimaryContainer.ModelDataUrl): s3://a -> s3://b"
    ) in text


# --- security and ML changes in words ------------------------------------------------------


def test_security_changes_list_statements_added_and_removed_first() -> None:
    def policy(*actions: str) -> dict[str, Any]:
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        return {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": {"Statement": [statement], "Version": "2012-10-17"}},
        }

    limits = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {"MaxCapacity": 2},
    }
    text = lines(
        template(Policy=policy("s3:GetObject"), Scaling=limits),
        template(
            Policy=policy("s3:GetObject", "s3:PutObject"),
            Scaling=with_properties(limits, MaxCapacity=6),
        ),
        "Dev/Serving",
    )
    assert text[6:10] == [
        "Security changes:",
        "  Dev/Serving AWS::IAM::ManagedPolicy Policy: removed PolicyDocument: Allow s3:GetObject "
        "on *",
        "  Dev/Serving AWS::IAM::ManagedPolicy Policy: added PolicyDocument: Allow s3:GetObject, "
        "s3:PutObject on *",
        "",
    ]
    assert text[10:12] == [
        "ML changes:",
        "  Scaling (Dev/Serving, AWS::ApplicationAutoScaling::ScalableTarget Scaling): autoscaling "
        "max instances (MaxCapacity): 2 -> 6",
    ]


def test_a_hyperparameter_in_a_state_machine_definition_is_one_line_in_words() -> None:
    def machine(rounds: str) -> dict[str, Any]:
        parts = [
            '{"States":{"Train":{"Resource":"arn:',
            {"Ref": "AWS::Partition"},
            ':states:::sagemaker:createTrainingJob.sync","Parameters":{"HyperParameters":'
            f'{{"num_round":"{rounds}"}}}}}}}}}}',
        ]
        return {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": {"Fn::Join": ["", parts]}},
        }

    text = lines(template(Train=machine("50")), template(Train=machine("60")), "Dev/Training")
    assert text[6:8] == [
        "ML changes:",
        "  Train (Dev/Training, AWS::StepFunctions::StateMachine Train): state Train: "
        "hyperparameter num_round: 50 -> 60",
    ]


REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_metadata_is_not_a_change_and_a_new_asset_is() -> None:
    def machine(digest: str, path: str) -> dict[str, Any]:
        definition = {
            "States": {
                "Train": {
                    "Parameters": {
                        "AlgorithmSpecification": {"TrainingImage": f"{REGISTRY}/assets:{digest}"}
                    }
                }
            }
        }
        return {
            "Type": "AWS::StepFunctions::StateMachine",
            "Metadata": {"aws:cdk:path": path},
            "Properties": {"DefinitionString": json.dumps(definition)},
        }

    same = lines(
        template(T=machine("a" * 64, "Dev/Training/T/A")), template(T=machine("a" * 64, "B"))
    )
    assert same[2] == "No template changes."
    changed = lines(template(T=machine("a" * 64, "A")), template(T=machine("b" * 64, "A")))
    assert changed[7].startswith(
        "  T (Dev/Data, AWS::StepFunctions::StateMachine T): state Train: image "
    )
    assert changed[7].endswith(f"-> 123456789012.dkr.ecr.us-east-1.am...{'b' * 64}")


def test_the_markdown_report_shows_wildcards_as_written() -> None:
    def key(*actions: str) -> dict[str, Any]:
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [statement]}}}

    report = compare(
        [stack("Dev/Data", template(Key=key("kms:Decrypt")))],
        [stack("Dev/Data", template(Key=key("kms:Decrypt", "kms:GenerateDataKey*")))],
        "main",
    )
    assert (
        "- Dev/Data AWS::KMS::Key Key: added KeyPolicy: Allow kms:Decrypt, "
        "kms:GenerateDataKey\\* on \\*"
    ) in render(report, "markdown").splitlines()


# --- allowing a replacement ----------------------------------------------------------------


def test_an_allowed_replacement_passes_and_an_unused_allowance_is_noted() -> None:
    base = [stack("Dev/Data", template(Topic=TOPIC))]
    head = [stack("Dev/Data", template(Topic=with_properties(TOPIC, TopicName="alerts")))]
    blocked = compare(base, head, "main")
    assert [f.address for f in blocked.blocking()] == ["Dev/Data/Topic"]
    allowed = compare(base, head, "main", frozenset({"Dev/Data/Topic", "Dev/Data/Other"}))
    assert not allowed.blocking()
    text = render(allowed, "markdown")
    assert "Data at risk: every replacement or deletion is allowed by the pull request." in text
    assert "Note: allow-replace Dev/Data/Other matches no resource at risk." in text
    assert "(create-only in the CloudFormation schema of AWS::SNS::Topic) (allowed by" in text


def test_allowances_come_from_the_command_line_and_allow_replace_lines(tmp_path: Path) -> None:
    body = tmp_path / "pull-request.md"
    body.write_text(
        "Moves the topic to FIFO.\n\nallow-replace: Dev/Data/Topic\n"
        "- allow-replace: Prod/Data/Topic\n"
        "We will not allow-replace: Dev/Data/Key here.\n"
    )
    assert allowances(["Dev/Data/Key2"], [body]) == {
        "Dev/Data/Key2",
        "Dev/Data/Topic",
        "Prod/Data/Topic",
    }
    with pytest.raises(DiffError, match=r"^--allow-replace-from .*missing\.md: No such file"):
        allowances([], [tmp_path / "missing.md"])


# --- the base ref in a temporary worktree --------------------------------------------------


def test_an_unknown_base_ref_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiffError) as error, checked_out("no-such-branch-xyz", tmp_path):
        pass
    assert str(error.value) == (
        "base ref 'no-such-branch-xyz' is not a commit in this repository: fetch it (e.g. "
        "`git fetch origin no-such-branch-xyz`) or pass another --base"
    )


def test_the_base_worktree_shares_node_modules_and_is_removed(tmp_path: Path) -> None:
    with checked_out("HEAD", tmp_path) as worktree:
        assert (worktree / "app.py").is_file()
        assert (worktree / "node_modules").resolve() == (REPO_ROOT / "node_modules").resolve()
    assert not worktree.exists()
    listed = subprocess.run(
        ["git", "worktree", "list"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert str(worktree) not in listed.stdout


# --- a pull request's history, with the real app, CLI and schemas --------------------------

#: A user's pull request: retrain with more rounds, serve a new artifact on a bigger instance,
#: and (in code) let the execution roles retire KMS grants too.
ML_AND_SECURITY = {
    "config/dev.yaml": [
        ("      num_round: 50\n", "      num_round: 60\n"),
        (
            "    instance_type: ml.m5.large\n    instance_count: 1\n",
            "    instance_type: ml.m5.xlarge\n    instance_count: 1\n",
        ),
        ("churn-xgboost-3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f", "churn-xgboost-0a1b2c3d"),
    ],
    "constructs_lib/execution_role.py": [
        ('actions=["kms:CreateGrant"],', 'actions=["kms:CreateGrant", "kms:RetireGrant"],')
    ],
}
#: A pull request that names the notification topic (a create-only property) and renames the
#: data bucket's construct (a new logical id: the old bucket is deleted).
DATA_AT_RISK = {
    "constructs_lib/notifications.py": [
        (
            'display_name="SageMaker platform notifications",',
            'display_name="SageMaker platform notifications", topic_name="ml-notifications",',
        )
    ],
    "constructs_lib/storage.py": [('encrypted("Data",', 'encrypted("Dataset",')],
}


@dataclass
class Run:
    returncode: int
    out: str
    full_diff: str


@dataclass
class History:
    ml_and_security: Run
    data_at_risk: Run
    data_at_risk_allowed: Run


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A repository of this project (base commit on `main`) and two pull-request branches, each
    reviewed with the command; the base is synthesized once and reused."""
    root = tmp_path_factory.mktemp("history")
    repo = root / "repo"
    _copy_project(repo)
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / ".git" / "info" / "exclude").write_text("/.venv\n/node_modules\n")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", "base")
    base = root / "base.out"
    stack_diff.synth(repo, base)

    _branch(repo, "retrain-and-promote", ML_AND_SECURITY)
    # As `make diff` runs it: the base ref checked out in a worktree and synthesized.
    ml_and_security = _diff(repo, root, "--base", "main")

    _branch(repo, "rename-storage", DATA_AT_RISK)
    head = root / "head.out"
    stack_diff.synth(repo, head)
    assemblies = ("--base-assembly", str(base), "--head-assembly", str(head))
    data_at_risk = _diff(repo, root, *assemblies, "--format", "markdown")
    body = root / "pull-request.md"
    body.write_text(
        "Names the topic.\n\nallow-replace: Dev/Data/NotificationsCE9D1424\n"
        "allow-replace: Prod/Data/NotificationsCE9D1424\n"
    )
    allowed = _diff(
        repo,
        root,
        *assemblies,
        "--allow-replace-from",
        str(body),
        "--allow-replace",
        "Dev/Data/BucketsData2BA7BAFB",
        "--allow-replace",
        "Prod/Data/BucketsData2BA7BAFB",
    )
    yield History(ml_and_security, data_at_risk, allowed)


@pytest.mark.xdist_group("diff")
def test_ml_and_security_changes_are_listed_in_words_and_pass(history: History) -> None:
    run = history.ml_and_security
    assert run.returncode == 0, run.out
    text = run.out.splitlines()
    assert text[:5] == [
        "Stack diff: main -> the working tree",
        "",
        "No stateful resource is replaced or deleted.",
        "",
        "=== Dev ===",
    ]
    prod = text.index("=== Prod ===")
    report = text[: text.index("--- The CDK CLI's diff (cdk diff --template <base template>) ---")]
    sections = [line for line in report if line.endswith(":") and not line.startswith(" ")]
    assert sections == [
        "Security changes:",
        "Expected replacements (stateless: a new one is created, then the old one deleted):",
        "ML changes:",
        "Security changes:",  # Prod: the roles' code changed, its config did not
    ]
    assert text[prod + 2] == "Security changes:"
    grant = "Allow kms:CreateGrant, kms:RetireGrant on ${Fn::ImportValue:Dev-Data:Exports"
    assert any(
        "AWS::IAM::ManagedPolicy" in line and f"added PolicyDocument: {grant}" in line
        for line in text
    )
    for line in (
        "  Dev/Serving AWS::SageMaker::Model ChurnXgboostModelF32E8B13: replaced: PrimaryContainer "
        "changed (create-only in the CloudFormation schema of AWS::SageMaker::Model)",
        "  Dev/Serving AWS::SageMaker::EndpointConfig ChurnXgboostEndpointConfigA5705AB6: "
        "replaced: ProductionVariants changed (create-only in the CloudFormation schema of "
        "AWS::SageMaker::EndpointConfig)",
        "  ChurnXgboost (Dev/Training, AWS::StepFunctions::StateMachine ChurnXgboost4653DE08): "
        "state Train: hyperparameter num_round: 50 -> 60",
        "  ChurnXgboost (Dev/Serving, AWS::SageMaker::EndpointConfig "
        "ChurnXgboostEndpointConfigA5705AB6): instance type (ProductionVariants[0].InstanceType): "
        "ml.m5.large -> ml.m5.xlarge",
    ):
        assert line in text
    assert any(
        "(Dev/Serving, AWS::SageMaker::Model ChurnXgboostModelF32E8B13): model artifact" in line
        and "churn-xgboost-0a1b2c3d" in line
        for line in text
    )
    # The CDK CLI's own diff, with its IAM table, follows the report and is the full text.
    assert "--- The CDK CLI's diff (cdk diff --template <base template>) ---" in text
    assert "Stack Dev/Training (Dev-Training)" in text
    assert "Stack Dev/Training (Dev-Training)" in run.full_diff
    assert "IAM Statement Changes" in run.full_diff
    assert "kms:RetireGrant" in run.full_diff


@pytest.mark.xdist_group("diff")
def test_a_named_topic_and_a_renamed_bucket_fail_naming_resource_and_property(
    history: History,
) -> None:
    run = history.data_at_risk
    assert run.returncode == 1, run.out
    assert "> **DATA AT RISK: 4 stateful resources would be replaced or deleted" in run.out
    for stage in ("Dev", "Prod"):
        assert (
            f"- {stage}/Data AWS::SNS::Topic NotificationsCE9D1424: replaced: TopicName changed "
            "(create-only in the CloudFormation schema of AWS::SNS::Topic) **[blocks]**"
        ) in run.out
    assert "- Dev/Data AWS::S3::Bucket BucketsData2BA7BAFB: deleted **[blocks]**" in run.out
    assert (
        "- Prod/Data AWS::S3::Bucket BucketsData2BA7BAFB: deleted; its DeletionPolicy keeps the "
        "old one, orphaned outside the stack **[blocks]**"
    ) in run.out
    assert "<summary><code>cdk diff</code> of Dev/Data</summary>" in run.out
    assert "AWS::SNS::Topic Data/Notifications/Resource NotificationsCE9D1424 replace" in run.out
    assert "is in the `stack-diff` artifact (too long for a comment)." in run.out
    assert "[~] AWS::SNS::Topic Data/Notifications/Resource NotificationsCE9D1424 replace" in (
        run.full_diff
    )


@pytest.mark.xdist_group("diff")
def test_data_at_risk_allowed_by_the_pull_request_passes(history: History) -> None:
    run = history.data_at_risk_allowed
    assert run.returncode == 0, run.out
    assert "Data at risk: every replacement or deletion is allowed by the pull request." in run.out
    assert (
        "  Dev/Data AWS::SNS::Topic NotificationsCE9D1424: replaced: TopicName changed "
        "(create-only in the CloudFormation schema of AWS::SNS::Topic) "
        "(allowed by the pull request)"
    ) in run.out


def _copy_project(destination: Path) -> None:
    """The project's files as git sees them (committed or not, never ignored ones), with this
    checkout's installed .venv and node_modules linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in ("node_modules", ".venv"):
        (destination / name).symlink_to((REPO_ROOT / name).resolve(), target_is_directory=True)


def _branch(repo: Path, name: str, edits: dict[str, list[tuple[str, str]]]) -> None:
    _git(repo, "checkout", "--quiet", "-B", name, "main")
    for path, replacements in edits.items():
        file = repo / path
        text = file.read_text()
        for old, new in replacements:
            assert old in text, f"{path} no longer has {old!r}: update this test's edit"
            text = text.replace(old, new, 1)
        file.write_text(text)
    _git(repo, "commit", "--quiet", "--all", "--message", name)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _diff(repo: Path, root: Path, *args: str) -> Run:
    full_diff = root / "full-diff.txt"
    full_diff.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "scripts/stack_diff.py", *args, "--full-diff", str(full_diff)],
        cwd=repo,
        env=tool_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    out = result.stdout + result.stderr
    return Run(result.returncode, out, full_diff.read_text() if full_diff.exists() else "")

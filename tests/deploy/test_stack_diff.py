"""scripts/stack_diff.py: template diffs for review, and the stateful-resource gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stack_diff
from stack_diff import DiffError, checked_out, compare, diff_values, render, stateful_dangers

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import SCRIPTS, tool_environment

BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "On"}}}
KEY = {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}}


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def test_a_renamed_bucket_is_a_deletion() -> None:
    dangers = stateful_dangers("Dev/Data", template(Data1=BUCKET), template(Dataset2=BUCKET))
    assert [(d.logical_id, d.reason) for d in dangers] == [
        ("Data1", "DELETED (logical id changed? new AWS::S3::Bucket: Dataset2)")
    ]


def test_replacement_properties_are_flagged_and_others_are_not() -> None:
    named = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "new-name"}}
    spec = {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": "RSA_2048"}}
    versioning_off = {"Type": "AWS::S3::Bucket", "Properties": {}}
    dangers = stateful_dangers(
        "Dev/Data",
        template(Data=BUCKET, Key=KEY, Logs=BUCKET),
        template(Data=named, Key=spec, Logs=versioning_off),
    )
    assert [(d.logical_id, d.reason) for d in dangers] == [
        ("Data", "REPLACED: BucketName changed (update requires replacement)"),
        ("Key", "REPLACED: KeySpec changed (update requires replacement)"),
    ]


def test_a_retained_bucket_that_leaves_the_template_is_flagged_as_orphaned() -> None:
    retained = dict(BUCKET, DeletionPolicy="Retain")
    (danger,) = stateful_dangers("Prod/Data", template(Data=retained), template())
    assert danger.reason == (
        "DELETED; DeletionPolicy Retain keeps the old one, orphaned outside the stack"
    )


def test_property_changes_are_listed_leaf_by_leaf() -> None:
    old = {"Tags": [{"Key": "environment", "Value": "dev"}], "Days": 7, "Gone": 1}
    new = {"Tags": [{"Key": "environment", "Value": "qa"}], "Days": 9, "New": [1]}
    shown = [(c.path, c.old, c.new) for c in diff_values(old, new)]
    assert shown[0] == ("Days", 7, 9)
    assert shown[1][0] == "Gone" and shown[1][1] == 1
    assert shown[2][0] == "New" and shown[2][2] == [1]
    assert shown[3] == ("Tags[0].Value", "dev", "qa")


def test_a_hyperparameter_in_a_state_machine_definition_shows_as_one_field() -> None:
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

    base = [_stack("Dev/Training", template(Train=machine("50")))]
    head = [_stack("Dev/Training", template(Train=machine("60")))]
    report = compare(base, head, "main")
    text = render(report, "text")
    assert "[~] AWS::StepFunctions::StateMachine Train" in text
    assert '.HyperParameters.num_round: "50" -> "60"' in text
    assert not report.dangers


def test_asset_hashes_and_metadata_are_not_changes() -> None:
    def bucket(digest: str, path: str) -> dict[str, Any]:
        return dict(BUCKET, Metadata={"aws:cdk:path": path}, Properties={"Key": f"{digest}.zip"})

    base = [_stack("Dev/Data", template(Data=bucket("a" * 64, "Dev/Data/A")))]
    head = [_stack("Dev/Data", template(Data=bucket("b" * 64, "Dev/Data/B")))]
    assert render(compare(base, head, "main"), "text").endswith("No template changes.\n")


def test_the_markdown_report_warns_loudly() -> None:
    report = compare(
        [_stack("Dev/Data", template(Data1=BUCKET))],
        [_stack("Dev/Data", template(Data2=BUCKET))],
        "main",
    )
    text = render(report, "markdown")
    assert "> [!CAUTION]" in text
    assert "**STATEFUL RESOURCES WOULD BE REPLACED OR DELETED" in text
    assert "```diff\n- [-] AWS::S3::Bucket Data1\n+ [+] AWS::S3::Bucket Data2\n```" in text


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


# --- with the real app, synthesized by the real CLI ------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A worktree of HEAD running this checkout's diff code, and its synthesized assembly."""
    root = tmp_path_factory.mktemp("stack-diff")
    worktree = root / "app"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(worktree), "HEAD"],
        cwd=REPO_ROOT,
        check=True,
    )
    try:
        for name in ("stack_diff.py", "assembly.py", "cdk_env.py"):
            shutil.copy(SCRIPTS / name, worktree / "scripts" / name)
        for name in ("node_modules", ".venv"):
            if (REPO_ROOT / name).exists():
                (worktree / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
        base = root / "base.out"
        stack_diff.synth(worktree, base)
        yield worktree, base
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO_ROOT, check=False
        )


@pytest.mark.xdist_group("diff")
def test_a_config_change_shows_its_fields_and_passes(workspace: tuple[Path, Path]) -> None:
    worktree, base = workspace
    dev = worktree / "config" / "dev.yaml"
    original = dev.read_text()
    assert "noncurrent_version_expiration_days: 7\n" in original
    dev.write_text(
        original.replace(
            "noncurrent_version_expiration_days: 7\n", "noncurrent_version_expiration_days: 9\n"
        ).replace("environment: dev\n", "environment: dev-changed\n")
    )
    try:
        result = _diff(worktree, "--base-assembly", str(base))
    finally:
        dev.write_text(original)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "STATEFUL" not in out
    assert "Stack Dev/Data\n" in out
    assert "NoncurrentVersionExpiration.NoncurrentDays: 7 -> 9" in out
    assert '.Value: "dev" -> "dev-changed"' in out
    assert "Stack Prod/" not in out


@pytest.mark.xdist_group("diff")
def test_a_renamed_bucket_construct_fails_the_check(workspace: tuple[Path, Path]) -> None:
    worktree, base = workspace
    storage = worktree / "constructs_lib" / "storage.py"
    original = storage.read_text()
    assert original.count('encrypted("Data",') == 1
    storage.write_text(original.replace('encrypted("Data",', 'encrypted("Dataset",'))
    try:
        result = _diff(worktree, "--base-assembly", str(base), "--format", "markdown")
    finally:
        storage.write_text(original)

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "**STATEFUL RESOURCES WOULD BE REPLACED OR DELETED: their data would be lost**" in out
    for stage in ("Dev", "Prod"):
        assert f"> - {stage}/Data AWS::S3::Bucket BucketsData2BA7BAFB: DELETED (logical id" in out
    assert "- [-] AWS::S3::Bucket BucketsData2BA7BAFB" in out


def _diff(worktree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(worktree / "scripts" / "stack_diff.py"), *args],
        cwd=worktree,
        env=tool_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _stack(path: str, body: dict[str, Any]) -> Any:
    from assembly import StackArtifact

    return StackArtifact(
        path=path,
        stack_name=path.replace("/", "-"),
        account="123456789012",
        region="us-east-1",
        template=body,
    )

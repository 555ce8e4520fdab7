#!/usr/bin/env python3
"""Pull-request review: what a change does to each stack's template, offline, without AWS.

    scripts/stack_diff.py                    the working tree against `main`
    scripts/stack_diff.py --base origin/main the working tree against another ref
    scripts/stack_diff.py --format markdown  the same, as a pull-request comment

The app is synthesized twice with the real CDK CLI: at the base ref (checked out with
`git worktree` into a temporary folder, reusing this checkout's .venv and node_modules) and in
the working tree. The templates are compared per stack: resources added, removed and modified
(property by property; asset hashes and resource metadata ignored) and outputs.

A replacement or deletion of a stateful resource (see `STATEFUL`) is flagged loudly and the
command exits with status 1, so CI can block the merge. Exit status: 0 no stateful resource at
risk (with or without changes), 1 a stateful resource would be replaced or deleted, 2 an error
(unknown ref, synth failed).
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
from typing import Any, Literal

from assembly import AssemblyError, StackArtifact, read_stacks
from cdk_env import REPO_ROOT, offline_environment

#: Stateful resource types, and the properties whose change makes CloudFormation replace the
#: resource (a new physical resource: for a bucket or key, the data is gone with the old one).
#: From the CloudFormation reference, "Update requires: Replacement".
STATEFUL: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("BucketName", "ObjectLockEnabled"),
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "MultiRegion", "Origin"),
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupName",),
}
#: Resource types whose changes are noise in a review.
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
MAX_VALUE = 80
SYNTH_TIMEOUT_S = 600

Format = Literal["text", "markdown"]


class DiffError(Exception):
    """The diff could not be made. The message is for humans."""


@dataclass(frozen=True)
class PropertyChange:
    """One changed value, at a dotted path such as `Properties.Tags[1].Value`."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceChange:
    """A resource added (+), removed (-) or modified (~) in a stack."""

    kind: Literal["+", "-", "~"]
    logical_id: str
    resource_type: str
    changes: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class Danger:
    """A stateful resource that the change would replace or delete."""

    stack: str
    logical_id: str
    resource_type: str
    reason: str


@dataclass
class StackDiff:
    """The differences of one stack (`Dev/Data`), by resource and output."""

    path: str
    status: Literal["added", "removed", "changed"]
    resources: list[ResourceChange] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)


@dataclass
class Report:
    """Every stack's differences and the stateful resources at risk."""

    base: str
    stacks: list[StackDiff] = field(default_factory=list)
    dangers: list[Danger] = field(default_factory=list)


# --- comparing -----------------------------------------------------------------------------


def compare(base: list[StackArtifact], head: list[StackArtifact], base_name: str) -> Report:
    """Compare two synthesized apps stack by stack (matched by construct path)."""
    report = Report(base=base_name)
    old_stacks = {stack.path: stack for stack in base}
    new_stacks = {stack.path: stack for stack in head}
    for path in sorted(old_stacks.keys() | new_stacks.keys()):
        old = _normalized(old_stacks[path].template) if path in old_stacks else None
        new = _normalized(new_stacks[path].template) if path in new_stacks else None
        diff = _stack_diff(path, old, new)
        if diff.resources or diff.outputs or diff.status != "changed":
            report.stacks.append(diff)
        report.dangers += stateful_dangers(path, old or {}, new or {})
    return report


def stateful_dangers(
    stack: str, old_template: dict[str, Any], new_template: dict[str, Any]
) -> list[Danger]:
    """Stateful resources of `old_template` that `new_template` replaces or deletes."""
    old = old_template.get("Resources", {})
    new = new_template.get("Resources", {})
    dangers = []
    for logical_id, resource in sorted(old.items()):
        resource_type = resource.get("Type", "")
        if resource_type not in STATEFUL:
            continue
        if logical_id not in new or new[logical_id].get("Type") != resource_type:
            dangers.append(
                Danger(stack, logical_id, resource_type, _deletion_reason(resource, old, new))
            )
            continue
        changed = [
            name
            for name in STATEFUL[resource_type]
            if resource.get("Properties", {}).get(name)
            != new[logical_id].get("Properties", {}).get(name)
        ]
        if changed:
            reason = f"REPLACED: {', '.join(changed)} changed (update requires replacement)"
            dangers.append(Danger(stack, logical_id, resource_type, reason))
    return dangers


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """The leaf-level differences between two JSON values.

    Dicts are compared key by key, lists of equal length item by item; lists of different
    lengths give one change per item only one side has (`path[-]`, `path[+]`).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(old.keys() | new.keys(), key=str):
            child = f"{path}.{key}" if path else str(key)
            changes += diff_values(old.get(key, _ABSENT), new.get(key, _ABSENT), child)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new):
            return [
                change
                for index, (old_item, new_item) in enumerate(zip(old, new, strict=True))
                for change in diff_values(old_item, new_item, f"{path}[{index}]")
            ]
        removed = [PropertyChange(f"{path}[-]", item, _ABSENT) for item in old if item not in new]
        added = [PropertyChange(f"{path}[+]", _ABSENT, item) for item in new if item not in old]
        return removed + added
    return [] if old == new else [PropertyChange(path, old, new)]


def _stack_diff(path: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> StackDiff:
    status: Literal["added", "removed", "changed"] = (
        "added" if old is None else "removed" if new is None else "changed"
    )
    old_resources = (old or {}).get("Resources", {})
    new_resources = (new or {}).get("Resources", {})
    diff = StackDiff(path=path, status=status)
    for logical_id in sorted(old_resources.keys() | new_resources.keys()):
        before, after = old_resources.get(logical_id), new_resources.get(logical_id)
        resource_type = (after or before or {}).get("Type", "?")
        if resource_type in IGNORED_TYPES:
            continue
        if before is None:
            diff.resources.append(ResourceChange("+", logical_id, resource_type))
        elif after is None:
            diff.resources.append(ResourceChange("-", logical_id, resource_type))
        elif before != after:
            changes = tuple(diff_values(before, after))
            diff.resources.append(ResourceChange("~", logical_id, resource_type, changes))
    diff.outputs = diff_values((old or {}).get("Outputs", {}), (new or {}).get("Outputs", {}))
    return diff


def _deletion_reason(resource: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> str:
    renamed_to = sorted(
        logical_id
        for logical_id, candidate in new.items()
        if logical_id not in old and candidate.get("Type") == resource.get("Type")
    )
    what = "DELETED"
    if renamed_to:
        what = f"DELETED (logical id changed? new {resource['Type']}: {', '.join(renamed_to)})"
    if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
        what += "; DeletionPolicy Retain keeps the old one, orphaned outside the stack"
    return what


def _normalized(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what changes on every synth or says nothing (asset hashes,
    resource metadata such as construct paths), with JSON documents that CDK renders as
    `Fn::Join` (state machine definitions) parsed, so that a change shows as one field."""
    scrubbed: dict[str, Any] = json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template)))
    for resource in scrubbed.get("Resources", {}).values():
        resource.pop("Metadata", None)
    parsed: dict[str, Any] = _parse_joined_json(scrubbed)
    return parsed


def _parse_joined_json(value: Any) -> Any:
    """`{"Fn::Join": ["", [...]]}` whose text is a JSON object -> that object, with each
    intrinsic (Ref, Fn::GetAtt, ...) shown as a `${...}` placeholder; anything else as is."""
    if isinstance(value, list):
        return [_parse_joined_json(item) for item in value]
    if not isinstance(value, dict):
        return value
    join = value.get("Fn::Join")
    if len(value) == 1 and isinstance(join, list) and len(join) == 2 and join[0] == "":
        text = "".join(part if isinstance(part, str) else _placeholder(part) for part in join[1])
        if text.startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                pass
    return {key: _parse_joined_json(item) for key, item in value.items()}


def _placeholder(intrinsic: Any) -> str:
    if isinstance(intrinsic, dict) and "Ref" in intrinsic:
        return f"${{{intrinsic['Ref']}}}"
    if isinstance(intrinsic, dict) and "Fn::GetAtt" in intrinsic:
        return f"${{{'.'.join(map(str, intrinsic['Fn::GetAtt']))}}}"
    return "${" + json.dumps(intrinsic, sort_keys=True).replace('"', "") + "}"


class _Absent:
    """Marks a key that one side of a comparison does not have."""

    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


# --- rendering -----------------------------------------------------------------------------


def render(report: Report, output_format: Format) -> str:
    """The report as plain text (terminal) or Markdown (pull-request comment)."""
    markdown = output_format == "markdown"
    lines = ["## Stack diff" if markdown else "Stack diff", ""]
    lines.append(
        f"Base: `{report.base}`; head: the working tree."
        if markdown
        else (f"Base: {report.base}; head: the working tree.")
    )
    lines.append("")
    if report.dangers:
        lines += _danger_lines(report.dangers, markdown)
    if not report.stacks:
        lines.append("No template changes.")
    for stack in report.stacks:
        lines += _stack_lines(stack, markdown)
    return "\n".join(lines).rstrip() + "\n"


def _danger_lines(dangers: list[Danger], markdown: bool) -> list[str]:
    title = "STATEFUL RESOURCES WOULD BE REPLACED OR DELETED: their data would be lost"
    lines = [f"> [!CAUTION]\n> **{title}**" if markdown else f"!!! {title} !!!"]
    for danger in dangers:
        entry = f"{danger.stack} {danger.resource_type} {danger.logical_id}: {danger.reason}"
        lines.append(f"> - {entry}" if markdown else f"!!!   {entry}")
    lines.append(
        "> If this is intended, migrate the data first and say so in the pull request."
        if markdown
        else "!!! If this is intended, migrate the data first and say so in the pull request."
    )
    return [*lines, ""]


def _stack_lines(stack: StackDiff, markdown: bool) -> list[str]:
    heading = f"### {stack.path}" if markdown else f"Stack {stack.path}"
    if stack.status != "changed":
        heading += f" ({stack.status})"
    lines = [heading]
    body = []
    for resource in stack.resources:
        body.append(f"[{resource.kind}] {resource.resource_type} {resource.logical_id}")
        body += [f"    {_change_line(change)}" for change in resource.changes]
    if stack.outputs:
        body.append("Outputs:")
        body += [f"    {_change_line(change)}" for change in stack.outputs]
    lines += (
        ["```diff", *[_diff_marker(line) for line in body], "```"]
        if markdown
        else [f"  {line}" for line in body]
    )
    return [*lines, ""]


def _diff_marker(line: str) -> str:
    """A leading +/-/! so GitHub colours the line in a ```diff block."""
    if line.startswith("[+]"):
        return f"+ {line}"
    if line.startswith("[-]"):
        return f"- {line}"
    if line.startswith("[~]"):
        return f"! {line}"
    return f"  {line}"


def _change_line(change: PropertyChange) -> str:
    return f"{change.path}: {_shown(change.old)} -> {_shown(change.new)}"


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


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
        if node_modules.exists():
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
        description="Diff the synthesized templates of a git ref and the working tree, offline.",
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
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    try:
        report = _report(args.base, args.base_assembly, args.head_assembly)
    except (DiffError, AssemblyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = render(report, args.format)
    print(text, end="")
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 1 if report.dangers else 0


def _report(base: str, base_assembly: Path | None, head_assembly: Path | None) -> Report:
    with tempfile.TemporaryDirectory(prefix="stack-diff-") as scratch:
        parent = Path(scratch)
        if base_assembly:
            old = read_stacks(base_assembly)
        else:
            with checked_out(base, parent) as worktree:
                old = synth(worktree, parent / "base.out")
        new = read_stacks(head_assembly) if head_assembly else synth(REPO_ROOT, parent / "head.out")
    return compare(old, new, base)


if __name__ == "__main__":
    sys.exit(main())

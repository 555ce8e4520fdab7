#!/usr/bin/env python3
"""Draw a stage's architecture from the synthesized cloud assembly (`cdk.out/`).

The drawing is made from what CloudFormation deploys, not kept by hand: one box per stack of
the stage; in it, one node per construct that owns resources (e.g. `Buckets/Data`, listing its
`S3::Bucket` and `S3::BucketPolicy`); a solid arrow per cross-stack reference (an
`Fn::ImportValue` of another stack's export) from the exporting construct to the importing one,
coloured by what is exported; and a thin dashed arrow per reference inside a stack (`Ref`,
`Fn::GetAtt`, `Fn::Sub`), e.g. from an endpoint to the parameter that publishes its name.

Graphviz lays it out: `dot` comes from the Debian/Ubuntu package `graphviz` (or Homebrew's).
The SVG carries a fingerprint of the graph it draws, so `--check` tells whether the committed
drawing still matches the app, without Graphviz:

    npx cdk synth --quiet                               # writes cdk.out/
    python scripts/architecture_diagram.py              # writes docs/architecture.svg
    python scripts/architecture_diagram.py --check      # exit 1 if docs/architecture.svg is stale
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ASSEMBLY = REPO_ROOT / "cdk.out"
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "architecture.svg"
DEFAULT_STAGE = "Dev"

#: Graphviz writes the graph's `comment` into the SVG as an XML comment.
FINGERPRINT = re.compile(r"<!-- sha256 (?P<digest>[0-9a-f]{64}) -->")

_METADATA_TYPE = "AWS::CDK::Metadata"
_SUB_REFERENCE = re.compile(r"\$\{(?P<id>[A-Za-z0-9]+)(?:\.(?P<attribute>[A-Za-z0-9.]+))?\}")
_FONT = "Helvetica,Arial,sans-serif"
#: Colours of the cross-stack arrows, given to exporting components in drawing order.
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
_IN_STACK_COLOUR = "#9aa5b1"

LogicalId = tuple[str, str]
"""A resource: (stack path, logical id)."""


@dataclass(frozen=True)
class Component:
    """A construct of one stack and the CloudFormation resources it owns.

    Attributes:
        stack: the stack's path in the assembly, e.g. `Dev/Data`.
        path: the construct's path inside the stack, e.g. `Buckets/Data`.
        resource_types: the types of its resources, sorted, e.g. `("AWS::S3::Bucket", ...)`.
    """

    stack: str
    path: str
    resource_types: tuple[str, ...]

    @property
    def node_id(self) -> str:
        """The component's Graphviz node id: `Dev/Data/Buckets/Data`."""
        return f"{self.stack}/{self.path}"


@dataclass(frozen=True)
class Reference:
    """`consumer` uses `attributes` of resources that `producer` owns.

    Attributes:
        producer: the node id of the component referred to.
        consumer: the node id of the component that refers to it.
        attributes: what it uses, sorted: `Ref` and `Fn::GetAtt` names such as `Arn`.
        cross_stack: whether the reference crosses stacks (`Fn::ImportValue` of an export).
    """

    producer: str
    consumer: str
    attributes: tuple[str, ...]
    cross_stack: bool


@dataclass(frozen=True)
class StackBox:
    """A stack of the stage: its path, CloudFormation name, description and components."""

    path: str
    stack_name: str
    description: str
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Architecture:
    """What a stage deploys: its stacks with their components, and their references."""

    stage: str
    stacks: tuple[StackBox, ...]
    references: tuple[Reference, ...]


def read_architecture(assembly_dir: Path, stage: str) -> Architecture:
    """Read one stage of a cloud assembly (the output of `cdk synth`).

    Raises:
        SystemExit: if the assembly or the stage is missing, saying what to run instead.
    """
    if not (assembly_dir / "manifest.json").is_file():
        raise SystemExit(f"{assembly_dir} is not a cloud assembly: run `npx cdk synth` first")
    assembly = cx_api.CloudAssembly(str(assembly_dir))
    stages = {nested.display_name: nested for nested in assembly.nested_assemblies}
    if stage not in stages:
        raise SystemExit(f"{assembly_dir} has no stage {stage!r}; it has {', '.join(stages)}")
    stacks = _in_deployment_order(stages[stage].nested_assembly.stacks)

    owners: dict[LogicalId, Component] = {}
    boxes = []
    for stack in stacks:
        resources = stack.template["Resources"]
        groups: dict[str, list[str]] = defaultdict(list)
        for logical_id, owner in _owners(_resource_paths(stack)).items():
            groups[owner].append(logical_id)
        components = []
        for owner, logical_ids in sorted(groups.items()):
            types = tuple(sorted({resources[logical_id]["Type"] for logical_id in logical_ids}))
            component = Component(stack=stack.hierarchical_id, path=owner, resource_types=types)
            components.append(component)
            owners.update({(stack.hierarchical_id, i): component for i in logical_ids})
        boxes.append(
            StackBox(
                path=stack.hierarchical_id,
                stack_name=stack.stack_name,
                description=str(stack.template.get("Description", "")),
                components=tuple(components),
            )
        )
    return Architecture(stage=stage, stacks=tuple(boxes), references=_references(stacks, owners))


def _in_deployment_order(
    stacks: Sequence[cx_api.CloudFormationStackArtifact],
) -> list[cx_api.CloudFormationStackArtifact]:
    """Stacks others depend on first (Data before Training and Serving), then by path."""
    by_id = {stack.id: stack for stack in stacks}
    depths: dict[str, int] = {}

    def depth(stack: cx_api.CloudFormationStackArtifact) -> int:
        if stack.id not in depths:
            needed = [by_id[d.id] for d in stack.dependencies if d.id in by_id]
            depths[stack.id] = 1 + max(map(depth, needed), default=-1)
        return depths[stack.id]

    return sorted(stacks, key=lambda stack: (depth(stack), stack.hierarchical_id))


def _resource_paths(stack: cx_api.CloudFormationStackArtifact) -> dict[str, str]:
    """Logical id -> construct path inside the stack, for every resource but CDK's metadata."""
    resources = stack.template["Resources"]
    prefix = f"/{stack.hierarchical_id}/"
    paths = {}
    for entry in stack.find_metadata_by_type("aws:cdk:logicalId"):
        resource = resources.get(str(entry.data))
        if resource is not None and resource["Type"] != _METADATA_TYPE:
            paths[str(entry.data)] = entry.path.removeprefix(prefix)
    return dict(sorted(paths.items()))


def _owners(paths: Mapping[str, str]) -> dict[str, str]:
    """Logical id -> the construct its resource belongs to.

    CDK constructs name their primary resource `Resource`, so a resource belongs to its
    outermost ancestor that has a `Resource` child: the component a reader knows
    (`Buckets/Data`, the `ChurnXgboost` endpoint), into which roles, policies and alarms fold.
    A resource with no such ancestor is its own component.
    """
    primaries = {
        "/".join(parts[:index])
        for parts in (path.split("/") for path in paths.values())
        for index, part in enumerate(parts)
        if part == "Resource" and index > 0
    }
    owners = {}
    for logical_id, path in paths.items():
        parts = path.split("/")
        ancestors = ("/".join(parts[:depth]) for depth in range(1, len(parts)))
        owners[logical_id] = next((a for a in ancestors if a in primaries), path)
    return owners


def _references(
    stacks: Sequence[cx_api.CloudFormationStackArtifact], owners: Mapping[LogicalId, Component]
) -> tuple[Reference, ...]:
    exports = {
        name: ((stack.hierarchical_id, logical_id), attribute)
        for stack in stacks
        for name, (logical_id, attribute) in _exports(stack.template).items()
    }
    used: dict[tuple[str, str, bool], set[str]] = defaultdict(set)
    for stack in stacks:
        for logical_id, resource in stack.template["Resources"].items():
            consumer = owners.get((stack.hierarchical_id, logical_id))
            if consumer is None:
                continue
            found = [(exports[name], True) for name in _imports(resource) if name in exports]
            found += [
                (((stack.hierarchical_id, target), attribute), False)
                for target, attribute in _local_targets(resource)
            ]
            for (producer_key, attribute), cross_stack in found:
                producer = owners.get(producer_key)
                if producer is not None and producer != consumer:
                    used[(producer.node_id, consumer.node_id, cross_stack)].add(attribute)
    return tuple(
        Reference(producer, consumer, tuple(sorted(attributes)), cross_stack)
        for (producer, consumer, cross_stack), attributes in sorted(used.items())
    )


def _exports(template: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Export name -> (logical id, attribute) of the value each output exports."""
    found = {}
    for output in template.get("Outputs", {}).values():
        name = output.get("Export", {}).get("Name")
        value = output.get("Value")
        target = next(_local_targets(value), None)
        if isinstance(name, str) and target is not None:
            found[name] = target
    return found


def _imports(node: Any) -> Iterator[str]:
    """Every export name a template fragment imports with `Fn::ImportValue`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue" and isinstance(value, str):
                yield value
            else:
                yield from _imports(value)
    elif isinstance(node, list):
        for item in node:
            yield from _imports(item)


def _local_targets(node: Any) -> Iterator[tuple[str, str]]:
    """(logical id, attribute) of every `Ref`, `Fn::GetAtt` and `Fn::Sub` `${...}` in a fragment.

    Parameters and pseudo parameters (`AWS::Region`) come out too; they own no component.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value, "Ref"
            elif key == "Fn::GetAtt" and isinstance(value, list) and len(value) == 2:
                yield str(value[0]), str(value[1])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                for match in _SUB_REFERENCE.finditer(str(text)):
                    yield match["id"], match["attribute"] or "Ref"
                if isinstance(value, list):
                    yield from _local_targets(value[1:])
            else:
                yield from _local_targets(value)
    elif isinstance(node, list):
        for item in node:
            yield from _local_targets(item)


def fingerprint(architecture: Architecture) -> str:
    """The SHA-256 of the drawing's Graphviz source, which an up-to-date drawing carries."""
    return hashlib.sha256(_dot_body(architecture).encode()).hexdigest()


def to_dot(architecture: Architecture) -> str:
    """The Graphviz source of the drawing, with its fingerprint as the graph's comment."""
    body = _dot_body(architecture)
    comment = f"  comment={_quote(f'sha256 {fingerprint(architecture)}')};\n"
    head, rest = body.split("\n", 1)
    return f"{head}\n{comment}{rest}"


def _dot_body(architecture: Architecture) -> str:
    title = (
        f"{architecture.stage} stage, from cdk.out: resources by stack and construct. Solid "
        "arrows: cross-stack references (Fn::ImportValue); dashed: references inside a stack"
    )
    lines = [
        "digraph architecture {",
        "  graph [rankdir=LR, concentrate=true, nodesep=0.3, ranksep=1.2,"
        f" fontname={_quote(_FONT)}, fontsize=15, labelloc=t, label={_quote(title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", color="#5b6b7f",'
        f" fontname={_quote(_FONT)}, fontsize=11];",
        f"  edge [fontname={_quote(_FONT)}, fontsize=9, arrowsize=0.7];",
    ]
    for index, stack in enumerate(architecture.stacks):
        label = f"<<b>{_html(stack.path)}</b> ({_html(stack.stack_name)})"
        if stack.description:
            label += f'<br/><font point-size="10">{_html(stack.description)}</font>'
        lines += [
            f"  subgraph cluster_{index} {{",
            f"    label={label}>;",
            f'    style="rounded"; color="{_IN_STACK_COLOUR}"; fontsize=13;',
        ]
        for component in stack.components:
            types = "<br/>".join(_html(t.removeprefix("AWS::")) for t in component.resource_types)
            label = f'<<b>{_html(component.path)}</b><br/><font point-size="9">{types}</font>>'
            lines.append(f"    {_quote(component.node_id)} [label={label}];")
        lines.append("  }")
    exporters = sorted({r.producer for r in architecture.references if r.cross_stack})
    colours = {node: _PALETTE[i % len(_PALETTE)] for i, node in enumerate(exporters)}
    for reference in architecture.references:
        used = ", ".join(reference.attributes)
        style = (
            f'color="{colours[reference.producer]}", penwidth=1.3'
            if reference.cross_stack
            else f'color="{_IN_STACK_COLOUR}", style=dashed, arrowsize=0.5'
        )
        lines.append(
            f"  {_quote(reference.producer)} -> {_quote(reference.consumer)}"
            f" [{style}, tooltip={_quote(used)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(dot_source: str, output: Path) -> None:
    """Lay out and write the drawing; the format is the output's suffix (`.svg`, `.png`).

    Raises:
        SystemExit: if Graphviz's `dot` is not installed.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit(
            "Graphviz's `dot` is not installed: `sudo apt-get install graphviz` (Debian, "
            "Ubuntu) or `brew install graphviz` (macOS)"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [dot, f"-T{output.suffix.lstrip('.')}", "-o", str(output)],
        input=dot_source,
        text=True,
        check=True,
    )


def drawn_fingerprint(drawing: Path) -> str | None:
    """The fingerprint an SVG drawing carries; None if it has none or does not exist."""
    if not drawing.is_file():
        return None
    match = FINGERPRINT.search(drawing.read_text(encoding="utf-8", errors="replace"))
    return match["digest"] if match else None


def main(argv: Sequence[str] | None = None) -> int:
    """Draw (or check) the diagram; see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--assembly", type=Path, default=DEFAULT_ASSEMBLY, help="cdk.out folder")
    parser.add_argument("--stage", default=DEFAULT_STAGE, help="the stage to draw")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=".svg or .png")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--dot", action="store_true", help="print the Graphviz source instead")
    group.add_argument("--check", action="store_true", help="exit 1 if the SVG is stale")
    args = parser.parse_args(argv)

    architecture = read_architecture(args.assembly, args.stage)
    if args.check:
        if drawn_fingerprint(args.output) != fingerprint(architecture):
            print(
                f"{args.output} does not draw the {args.stage} stage in {args.assembly}: run "
                "python scripts/architecture_diagram.py and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    source = to_dot(architecture)
    if args.dot:
        print(source, end="")
        return 0
    render(source, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures: the real app, built as `cdk synth` builds it, synthesized once per worker.

Tests that need the synthesized app use the `synthesized` fixture and carry
`pytest.mark.xdist_group("app")`, so pytest-xdist runs them on one worker and the app is
synthesized once per test session.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from app import build_app
from stacks import SageMakerStage

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def cdk_json_context(**overrides: Any) -> dict[str, Any]:
    """The context `cdk synth` gives the app: cdk.json's, plus `overrides`."""
    context = dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
    context.update(overrides)
    return context


@dataclass
class SynthesizedApp:
    """The app after one synth: its stages, stacks and templates, by `Stage/Stack` path."""

    app: App
    outdir: Path
    stages: dict[str, SageMakerStage]
    stacks: dict[str, Stack]

    def template(self, path: str) -> Template:
        return Template.from_stack(self.stacks[path])

    def template_json(self, path: str) -> dict[str, Any]:
        return self.template(path).to_json()  # type: ignore[no-any-return]


def synthesize(outdir: Path, **context: Any) -> SynthesizedApp:
    """Build and synthesize the whole app into `outdir` with cdk.json's context."""
    app = build_app(context=cdk_json_context(**context), outdir=str(outdir))
    app.synth()
    stages = {
        child.node.id: child for child in app.node.children if isinstance(child, SageMakerStage)
    }
    stacks = {
        f"{stage_id}/{stack.node.id}": stack
        for stage_id, stage in stages.items()
        for stack in stage.node.children
        if isinstance(stack, Stack)
    }
    return SynthesizedApp(app=app, outdir=outdir, stages=stages, stacks=stacks)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynthesizedApp]:
    yield synthesize(tmp_path_factory.mktemp("cdk.out"))


def scrub_asset_hashes(value: Any) -> Any:
    """Replace content hashes (they change with any asset byte) by a fixed marker."""
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(value)))


def cdk_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run the pinned CDK CLI (`npx cdk`) with the project's own Node.js first on PATH."""
    env = dict(os.environ)
    node_bin = REPO_ROOT / ".venv" / "node" / "bin"
    env["PATH"] = os.pathsep.join([str(node_bin), str(Path(sys.executable).parent), env["PATH"]])
    return subprocess.run(
        ["npx", "--no-install", "cdk", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def meaningful_lines(output: str) -> list[str]:
    """Output lines, minus npm's notice about the host's own ~/.npmrc (not this project's)."""
    return [
        line
        for line in output.splitlines()
        if line.strip() and not line.startswith('npm warn Unknown user config "nodedir"')
    ]


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the `with` block: for caches
    that other workers and other test sessions on the machine build too."""
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

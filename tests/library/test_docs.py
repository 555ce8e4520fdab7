"""What a user reads before adopting the library: docs/library.md, the API reference, the
changelog and the architecture drawing, checked against the code so they cannot drift.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import constructs_lib
from scripts import architecture_diagram
from tests.conftest import REPO_ROOT, SynthesizedApp
from tests.library.conftest import check, run

LIBRARY_MD = REPO_ROOT / "docs" / "library.md"
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
DIAGRAM = REPO_ROOT / "docs" / "architecture.svg"
#: The context the examples run with: none, as docs/library.md (Install) promises.
APP_CONTEXT: dict[str, object] = {}

_SECTION = re.compile(
    r"^### `(?P<name>\w+)`\n(?P<body>.*?)(?=^#{2,3} |\Z)", re.MULTILINE | re.DOTALL
)
_PYTHON_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
_RELEASE = re.compile(r"^## \[(?P<version>\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)


def _sections() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _SECTION.finditer(LIBRARY_MD.read_text())}


def _documented_names(cls: type) -> list[str]:
    """The props (`__init__` parameters) and factories (static methods) a section must name."""
    names = []
    init = vars(cls).get("__init__")
    if init is not None:
        skipped = {"self", "scope", "construct_id"}
        names += [p for p in inspect.signature(init).parameters if p not in skipped]
    names += [
        name
        for name, member in vars(cls).items()
        if isinstance(member, staticmethod) and not name.startswith("_")
    ]
    return names


def test_every_public_class_has_a_section_naming_each_prop_and_factory() -> None:
    sections = _sections()
    missing = []
    for name in constructs_lib.__all__:
        value: Any = getattr(constructs_lib, name)
        if not inspect.isclass(value):
            continue
        if name not in sections:
            missing.append(f"no section ### `{name}`")
            continue
        for prop in _documented_names(value):
            if not re.search(rf"[`.]{prop}[`(]", sections[name]):
                missing.append(f"### `{name}` does not name `{prop}`")

    assert missing == []


def test_the_examples_run_in_order_and_the_result_passes_cdk_nag(tmp_path: Path) -> None:
    blocks = [m["code"] for m in _PYTHON_BLOCK.finditer(LIBRARY_MD.read_text())]
    # A `training_code/` folder next to the app, as TrainingImage and SourceBundle expect.
    pytorch = tmp_path / "training_code" / "pytorch"
    pytorch.mkdir(parents=True)
    (pytorch / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /opt/ml/code\n")
    (pytorch / "train.py").write_text("print('training')\n")
    app = tmp_path / "app.py"
    app.write_text("\n\n".join([*blocks, "app.synth()\n"]))
    outdir = tmp_path / "cdk.out"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        CDK_CONTEXT_JSON=json.dumps(APP_CONTEXT),
        CDK_OUTDIR=str(outdir),
        PATH=os.pathsep.join([str(REPO_ROOT / ".venv" / "node" / "bin"), env["PATH"]]),
    )

    check(run([sys.executable, app], cwd=tmp_path, env=env, timeout=300))

    report = json.loads((outdir / "validation-report.json").read_text())
    assert len(blocks) >= 20
    assert report["pluginReports"] == []
    assert sorted(p.name for p in outdir.glob("*.template.json")) == ["Churn.template.json"]


def test_the_install_section_names_the_declared_dependency_ranges() -> None:
    import tomllib

    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    text = LIBRARY_MD.read_text()
    for dependency in dependencies:
        name, spec = re.match(r"([a-z0-9-]+)(.*)", dependency).groups()  # type: ignore[union-attr]
        assert f"| `{name}` | `{spec}` |" in text


def test_the_api_reference_builds_with_pdoc_without_warnings(tmp_path: Path) -> None:
    result = check(
        run([sys.executable, REPO_ROOT / "scripts" / "build_docs.py", "--output", tmp_path])
    )

    assert "wrote" in result.stdout
    index = (tmp_path / "constructs_lib.html").read_text()
    for name in constructs_lib.__all__:
        assert f'id="{name}"' in index, name
    assert (tmp_path / "constructs_lib" / "serving.html").is_file()
    assert (tmp_path / "constructs_lib" / "builtin_algorithms.html").is_file()


def test_the_changelog_records_this_version_and_every_public_name() -> None:
    text = CHANGELOG.read_text()
    releases = [m["version"] for m in _RELEASE.finditer(text)]

    assert text.startswith("# Changelog\n")
    assert "## [Unreleased]" in text
    assert releases[0] == constructs_lib.__version__
    for name in constructs_lib.__all__:
        assert f"`{name}`" in text, f"CHANGELOG.md does not mention {name}"


@pytest.mark.xdist_group("app")
def test_the_architecture_drawing_is_of_the_current_dev_stage(
    synthesized: SynthesizedApp,
) -> None:
    architecture = architecture_diagram.read_architecture(synthesized.outdir, "Dev")

    assert architecture_diagram.drawn_fingerprint(DIAGRAM) == architecture_diagram.fingerprint(
        architecture
    ), "docs/architecture.svg is stale: run `python scripts/architecture_diagram.py`"
    assert "](architecture.svg)" in LIBRARY_MD.read_text()
    stacks = {stack.path for stack in architecture.stacks}
    assert {"Dev/Data", "Dev/Training"} <= stacks
    assert all(r.producer.startswith("Dev/Data/") for r in architecture.references if r.cross_stack)

"""Nothing in `constructs_lib` reads configuration: no app modules, files, environment or context.

A construct gets everything through its typed props (DESIGN.md section 1), so the library can
be installed into any app. This test reads the package's source and refuses:

- imports of the app's own modules (`app`, `config`, `stacks`, `scripts`, `tests`);
- environment variables (`os.environ`, `os.getenv`, `from os import environ`);
- CDK context (`try_get_context`, `get_context`);
- file reads (`open(`, `.open(`, `read_text`, `read_bytes`, `sys.argv`).

An exception is listed in `ALLOWED` with the function that makes the call and the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "constructs_lib"

APP_MODULES = frozenset({"app", "config", "stacks", "scripts", "tests"})
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "environ",
        "getenv",
        "putenv",
        "try_get_context",
        "get_context",
        "read_text",
        "read_bytes",
        "open",
        "argv",
    }
)
FORBIDDEN_NAMES = frozenset({"open", "environ", "getenv", "argv"})

#: (file, function, name) -> why the call is legitimate.
ALLOWED = {
    ("custom_code.py", "pack_source", "read_bytes"): (
        "SourceBundle packs the folder its caller names (`directory`, a prop): reading those "
        "files is the construct's job, like a CDK asset's, not configuration"
    ),
    ("custom_code.py", "pack_source", "open"): (
        "tarfile.open(fileobj=...) writes the bundle into an in-memory buffer; it opens no file"
    ),
    ("builtin_algorithms/sdk.py", "_config", "read_text"): (
        "reads the SageMaker SDK's own bundled image config, as `config_for_framework` does, "
        "without the 5 s SDK import: package data, not configuration"
    ),
    ("builtin_algorithms/sdk.py", "_read_answers", "read_text"): (
        "the SDK answer file, only where the app names one with `keep_answers_in`: a cache of "
        "the SDK's answers keyed by its version, never an input"
    ),
}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    function: str
    name: str

    def __str__(self) -> str:
        return f"constructs_lib/{self.file}:{self.line} in {self.function}(): {self.name}"


def _findings(path: Path) -> Iterator[Finding]:
    relative = path.relative_to(PACKAGE_DIR).as_posix()
    tree = ast.parse(path.read_text(), filename=str(path))
    for function, node in _walk_with_function(tree, "<module>"):
        name = _forbidden(node)
        if name is not None:
            yield Finding(relative, getattr(node, "lineno", 0), function, name)


def _walk_with_function(node: ast.AST, function: str) -> Iterator[tuple[str, ast.AST]]:
    for child in ast.iter_child_nodes(node):
        inner = (
            child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
        )
        yield inner, child
        yield from _walk_with_function(child, inner)


def _forbidden(node: ast.AST) -> str | None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] in APP_MODULES:
                return f"import {alias.name}"
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module.split(".")[0] in APP_MODULES:
            return f"from {node.module} import ..."
        forbidden = sorted({alias.name for alias in node.names} & FORBIDDEN_NAMES)
        if forbidden:
            return f"from {node.module} import {forbidden[0]}"
    if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
        return node.attr
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FORBIDDEN_NAMES
    ):
        return node.func.id
    return None


def _all_findings() -> list[Finding]:
    return [finding for path in sorted(PACKAGE_DIR.rglob("*.py")) for finding in _findings(path)]


def test_the_library_reads_no_app_module_file_environment_or_context() -> None:
    findings = [
        str(finding)
        for finding in _all_findings()
        if (finding.file, finding.function, finding.name) not in ALLOWED
    ]

    assert findings == []


def test_every_allowed_exception_is_still_needed() -> None:
    found = {(finding.file, finding.function, finding.name) for finding in _all_findings()}

    assert set(ALLOWED) <= found


def test_the_scan_sees_what_it_forbids() -> None:
    source = """
import os
from stacks import DataStack
from os import environ
def construct(scope, path):
    region = os.environ["AWS_REGION"]
    bucket = scope.node.try_get_context("bucket")
    text = open(path).read()
    other = path.read_text()
"""
    names = sorted(
        name
        for _, node in _walk_with_function(ast.parse(source), "<module>")
        if (name := _forbidden(node)) is not None
    )

    assert names == [
        "environ",
        "from os import environ",
        "from stacks import ...",
        "open",
        "read_text",
        "try_get_context",
    ]

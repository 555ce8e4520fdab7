"""checkov finds nothing unacknowledged in the templates `cdk synth` writes for both stages.

checkov 3.3.30 cannot share the project's venv: it pins boto3 1.35, packaging < 24, networkx
< 2.7 and termcolor < 2.4. It runs from a venv of its own, built from checkov-requirements.txt
on first use and kept in the temporary directory (keyed by the pins and the Python version) for
later sessions. Its settings are the repository's .checkov.yaml; the accepted findings, each
with its reason, are in checkov_skips.yaml.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT, cdk_cli, exclusive

pytestmark = pytest.mark.xdist_group("checkov")

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "checkov-requirements.txt"
SKIPS = HERE / "checkov_skips.yaml"
CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
STAGE_STACKS = {
    f"{stage}{stack}"
    for stage in ("Dev", "Prod")
    for stack in ("Data", "Training", "Serving", "Batch")
}
#: assembly-Dev/DevDataF961E460.template.json: the stack's artifact id, then a hash suffix.
TEMPLATE_NAME = re.compile(r"^assembly-\w+/(\w+?)[0-9A-F]{8}\.template\.json$")


@dataclass(frozen=True)
class Finding:
    """A failed check: its id and title, the template (relative to cdk.out) and the resource."""

    check: str
    title: str
    template: str
    resource: str

    def __str__(self) -> str:
        return f"{self.check} {self.resource} in {self.template}: {self.title}"


@dataclass(frozen=True)
class Skip:
    """An accepted finding from checkov_skips.yaml."""

    check: str
    template: str
    resource: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (
            finding.check == self.check
            and fnmatchcase(finding.template, self.template)
            and fnmatchcase(finding.resource, self.resource)
        )


@dataclass(frozen=True)
class Report:
    """What checkov said about the templates."""

    summaries: list[dict[str, Any]]
    findings: list[Finding]


def load_skips() -> list[Skip]:
    entries = yaml.safe_load(SKIPS.read_text(encoding="utf-8"))["skips"]
    return [Skip(**entry) for entry in entries]


@pytest.fixture(scope="session")
def checkov_python() -> Path:
    """The Python of a venv with checkov installed from the pins (built once, then reused)."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    venv = Path(tempfile.gettempdir()) / f"sagemaker-iac-checkov-{key}"
    python = venv / "bin" / "python"
    with exclusive(venv.with_name(f"{venv.name}.lock")):  # other sessions may build it too
        if not (venv / ".installed").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            _run(sys.executable, "-m", "venv", str(venv))
            _run(str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS))
            _run(str(python), "-m", "pip", "check")
            (venv / ".installed").touch()
    return python


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cloud assembly of `npx cdk synth` (both stages) in a temporary folder."""
    outdir = tmp_path_factory.mktemp("checkov") / "cdk.out"
    result = cdk_cli("synth", "--quiet", "--output", str(outdir))
    assert result.returncode == 0, result.stderr
    return outdir


@pytest.fixture(scope="session")
def templates(assembly: Path) -> list[str]:
    return sorted(
        str(path.relative_to(assembly)) for path in assembly.glob("assembly-*/*.template.json")
    )


@pytest.fixture(scope="session")
def report(checkov_python: Path, assembly: Path, templates: list[str]) -> Report:
    result = subprocess.run(
        [
            str(checkov_python),
            "-m",
            "checkov.main",
            "--config-file",
            str(CHECKOV_CONFIG),
            "--output",
            "json",
            "--file",
            *templates,
        ],
        cwd=assembly,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed
    output = json.loads(result.stdout)
    runs = output if isinstance(output, list) else [output]
    findings = [
        Finding(
            check=failed["check_id"],
            title=failed["check_name"],
            template=failed["file_path"].lstrip("/"),
            resource=failed["resource"],
        )
        for run in runs
        for failed in run["results"]["failed_checks"]
    ]
    return Report([run["summary"] for run in runs], findings)


def test_every_template_of_both_stages_is_scanned(templates: list[str], report: Report) -> None:
    names = [TEMPLATE_NAME.match(template) for template in templates]
    assert all(names), templates
    assert {name.group(1) for name in names if name} == STAGE_STACKS
    assert len(templates) == len(STAGE_STACKS)
    (summary,) = report.summaries  # one framework: cloudformation
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 50
    assert summary["passed"] > 100
    assert summary["failed"] == len(report.findings)


def test_every_finding_is_acknowledged_with_a_reason(report: Report) -> None:
    skips = load_skips()
    unacknowledged = [str(f) for f in report.findings if not any(s.matches(f) for s in skips)]
    assert unacknowledged == []


def test_every_acknowledgment_still_matches_a_finding(report: Report) -> None:
    stale = [skip for skip in load_skips() if not any(skip.matches(f) for f in report.findings)]
    assert stale == []


def test_acknowledgments_name_one_check_and_explain_it() -> None:
    for skip in load_skips():
        assert skip.check.startswith(("CKV_AWS_", "CKV2_AWS_")), skip
        assert "*" not in skip.check and skip.resource.startswith("AWS::"), skip
        assert len(skip.reason.split()) >= 20, f"say why {skip.check} is accepted: {skip.reason}"


def test_models_without_network_isolation_are_served_serverless(
    assembly: Path, templates: list[str]
) -> None:
    """What justifies the CKV_AWS_370 entry: only serverless endpoints serve such models."""
    unisolated: list[str] = []
    for template in templates:
        resources = json.loads((assembly / template).read_text(encoding="utf-8"))["Resources"]
        models = [
            name
            for name, resource in resources.items()
            if resource["Type"] == "AWS::SageMaker::Model"
            and resource["Properties"].get("EnableNetworkIsolation") is not True
        ]
        for model in models:
            variants = [
                variant
                for resource in resources.values()
                if resource["Type"] == "AWS::SageMaker::EndpointConfig"
                for variant in resource["Properties"]["ProductionVariants"]
                if variant["ModelName"] == {"Fn::GetAtt": [model, "ModelName"]}
            ]
            assert variants, f"{template}: {model} is served by no endpoint config"
            assert all("ServerlessConfig" in variant for variant in variants), (template, model)
            unisolated.append(model)
    assert unisolated, "no model without network isolation: remove the CKV_AWS_370 entry"


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"

"""cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 rev 5) and cfn-lint on every template.

Every cdk-nag acknowledgement is made per finding, on the resource, with a reason, in the
construct that creates the resource. cfn-lint reads .cfnlintrc.yaml, where each ignored
rule has its reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks

from tests.conftest import REPO_ROOT, SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

PACKS = [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks]


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
def test_no_unacknowledged_nag_finding(synthesized: SynthesizedApp, pack: type[NagPack]) -> None:
    report = pack().validate_scope(synthesized.app)
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    assert findings == []


def test_synth_wrote_a_clean_validation_report(synthesized: SynthesizedApp) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def _template_files(outdir: Path) -> list[Path]:
    return sorted(outdir.glob("assembly-*/*.template.json"))


def test_every_stack_was_synthesized_to_a_template(synthesized: SynthesizedApp) -> None:
    assert len(_template_files(synthesized.outdir)) == len(synthesized.stacks)


def test_cfn_lint_finds_nothing(synthesized: SynthesizedApp) -> None:
    templates = [str(path) for path in _template_files(synthesized.outdir)]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_every_ignored_cfn_lint_rule_has_a_reason() -> None:
    lines = (REPO_ROOT / ".cfnlintrc.yaml").read_text().splitlines()
    ignore_at = next(i for i, line in enumerate(lines) if line.startswith("ignore_checks:"))
    for previous, line in zip(lines[ignore_at:], lines[ignore_at + 1 :], strict=False):
        if line.strip().startswith("- "):
            assert previous.strip().startswith("#"), f"no reason given above {line.strip()}"
    assert any(line.strip().startswith("- ") for line in lines[ignore_at:])

"""The app through the real, pinned `cdk` CLI, as users and CI run it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, cdk_cli, meaningful_lines

pytestmark = pytest.mark.xdist_group("cli")


def _artifacts(outdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for pattern in ("assembly-*/*.template.json", "assembly-*/*.assets.json")
        for path in sorted(outdir.glob(pattern))
    }


def test_two_synths_give_byte_identical_templates_and_asset_manifests(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for outdir in (first, second):
        result = cdk_cli("synth", "--quiet", "--output", str(outdir))
        assert result.returncode == 0, result.stderr
    artifacts = _artifacts(first)
    assert len(artifacts) == 16
    assert artifacts == _artifacts(second)


def test_synth_lists_both_stages_and_prints_no_warning(tmp_path: Path) -> None:
    result = cdk_cli("list", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert meaningful_lines(result.stdout) == [
        "Dev/Data (Dev-Data)",
        "Dev/Training (Dev-Training)",
        "Dev/Serving (Dev-Serving)",
        "Dev/Batch (Dev-Batch)",
        "Prod/Data (Prod-Data)",
        "Prod/Training (Prod-Training)",
        "Prod/Serving (Prod-Serving)",
        "Prod/Batch (Prod-Batch)",
    ]
    assert meaningful_lines(result.stderr) == []


def test_config_dir_context_reads_another_folder(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for name in ("dev.yaml", "prod.yaml"):
        shutil.copy(REPO_ROOT / "config" / name, config_dir / name)
    dev = config_dir / "dev.yaml"
    dev.write_text(dev.read_text().replace('"123456789012"', '"999999999999"'))

    result = cdk_cli(
        "synth", "--quiet", "-c", f"config_dir={config_dir}", "--output", str(tmp_path / "out")
    )

    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "out" / "assembly-Dev" / "manifest.json").read_text()
    assert "aws://999999999999/us-east-1" in manifest


def test_a_bad_config_file_stops_synth_with_one_message_and_no_traceback(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    shutil.copy(REPO_ROOT / "config" / "prod.yaml", config_dir / "prod.yaml")
    dev_text = (REPO_ROOT / "config" / "dev.yaml").read_text()
    (config_dir / "dev.yaml").write_text(
        dev_text.replace("removal_policy: destroy", "removal_policy: delete")
    )
    outdir = tmp_path / "out"

    result = cdk_cli("synth", "--quiet", "-c", f"config_dir={config_dir}", "--output", str(outdir))

    assert result.returncode != 0
    line = next(i for i, text in enumerate(dev_text.splitlines(), 1) if "removal_policy" in text)
    assert (
        f"{config_dir / 'dev.yaml'}:{line}: removal_policy: Input should be 'retain' or "
        "'destroy' (got 'delete')"
    ) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not list(outdir.glob("**/*.template.json"))

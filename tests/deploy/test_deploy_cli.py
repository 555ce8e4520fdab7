"""scripts/deploy.py: options, user errors and their messages, and cleanup on failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import deploy
import pytest
from assembly import read_stage
from deploy import DeployError, check_aws_credentials, check_emulator_can_deploy

from app import build_app
from config import ConfigError, load_stage_config
from tests.conftest import REPO_ROOT, SynthesizedApp, cdk_json_context
from tests.deploy.conftest import SAFETY_TIMEOUT_S, SCRIPTS, emulator_processes, tool_environment

BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {}}


def write_assembly(outdir: Path, resources: dict[str, Any], *, docker_images: int = 0) -> Path:
    """A minimal cloud assembly as `cdk synth` writes it: stage Dev with one stack, Dev/Data."""
    stage = outdir / "assembly-Dev"
    stage.mkdir(parents=True)
    (outdir / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    "assembly-Dev": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "assembly-Dev", "displayName": "Dev"},
                    }
                },
            }
        )
    )
    (stage / "DevData.template.json").write_text(json.dumps({"Resources": resources}))
    images = {f"image{i}": {"displayName": f"Image{i}"} for i in range(docker_images)}
    (stage / "DevData.assets.json").write_text(json.dumps({"files": {}, "dockerImages": images}))
    (stage / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    "DevData.assets": {
                        "type": "cdk:asset-manifest",
                        "properties": {"file": "DevData.assets.json"},
                    },
                    "DevData": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://123456789012/us-east-1",
                        "properties": {
                            "templateFile": "DevData.template.json",
                            "stackName": "Dev-Data",
                        },
                        "dependencies": ["DevData.assets"],
                        "displayName": "Dev/Data",
                    },
                },
            }
        )
    )
    return outdir


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "Prod"], "only Dev deploys into the emulator; Prod needs --target aws"),
        (["--stage", "Test"], "--stage must be Dev or Prod (got 'Test')"),
        (["--destroy"], "a fresh emulator holds nothing to destroy"),
        (["--target", "aws", "--keep-running"], "are for the emulator target"),
        (["--target", "aws", "--stage", "Prod", "--destroy"], "Prod keeps its data"),
        (["--assembly", "cdk.out", "-c", "a=b"], "--assembly deploys an assembly as it is"),
        (["-c", "config_dir"], "--context takes KEY=VALUE (got 'config_dir')"),
    ],
)
def test_bad_options_stop_with_one_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        deploy.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_target_aws_without_credentials_says_how_to_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assembly = write_assembly(tmp_path / "out", {"Bucket": BUCKET})

    code = deploy.main(["--target", "aws", "--assembly", str(assembly)])

    assert code == 1
    err = capsys.readouterr().err
    assert "--target aws needs AWS credentials, and none were found" in err
    assert "leave out --target aws to use the emulator" in err


def test_target_aws_refuses_an_endpoint_override(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert deploy.main(["--target", "aws"]) == 1
    assert "--target aws deploys to AWS itself, but AWS_ENDPOINT_URL is set" in (
        capsys.readouterr().err
    )


def test_credentials_of_another_account_are_refused() -> None:
    class Sts:
        def get_caller_identity(self) -> dict[str, str]:
            return {"Account": "999999999999"}

    class Session:
        def client(self, service: str) -> Sts:
            return Sts()

    with pytest.raises(DeployError, match="but your credentials are for account 999999999999"):
        check_aws_credentials(Session(), "123456789012", "Dev")


def test_what_the_emulator_cannot_deploy_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)  # no Docker engine
    custom = {"Type": "Custom::S3AutoDeleteObjects", "Properties": {}}
    assembly = write_assembly(tmp_path / "out", {"Cleanup": custom}, docker_images=1)
    with pytest.raises(DeployError) as error:
        check_emulator_can_deploy(read_stage(assembly, "Dev"))
    message = str(error.value)
    assert "Dev/Data has custom resources (Custom::S3AutoDeleteObjects)" in message
    assert "Dev/Data has Docker image assets (Image0) and there is no Docker engine" in message


@pytest.mark.xdist_group("deploy")
@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        (DeployError("`cdk deploy` failed (exit status 1)"), 1, "error: `cdk deploy` failed"),
        (KeyboardInterrupt(), 130, "interrupted; the emulator and the CDK CLI were stopped"),
    ],
)
def test_the_emulator_is_stopped_when_a_phase_fails(  # noqa: PLR0917 (fixtures)
    failure: BaseException,
    code: int,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_stray_emulator: str,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise failure

    monkeypatch.setattr(deploy, "run_phases", fail)
    assembly = write_assembly(tmp_path / "out", {"Bucket": BUCKET})

    result = deploy.main(["--assembly", str(assembly), "--log-dir", str(tmp_path / "logs")])

    assert result == code
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Emulator stopped." in captured.out


@pytest.mark.xdist_group("deploy")
def test_a_terminated_deploy_stops_the_emulator(tmp_path: Path, no_stray_emulator: str) -> None:
    assembly = write_assembly(tmp_path / "out", {"Bucket": BUCKET})
    process = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPTS / "deploy.py"),
            "--assembly",
            str(assembly),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
        cwd=REPO_ROOT,
        env=tool_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + SAFETY_TIMEOUT_S  # a safety net: the loop ends on the event
    while not emulator_processes(no_stray_emulator) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert emulator_processes(no_stray_emulator), "the emulator never started"

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=SAFETY_TIMEOUT_S)

    assert process.returncode == 130, out + err
    assert "interrupted; the emulator and the CDK CLI were stopped" in err
    assert not emulator_processes(no_stray_emulator)


# --- `-c stages=Dev`: a deploy builds the stage it deploys ---------------------------------


def test_a_deploy_synthesizes_its_own_stage_only_unless_the_context_says_otherwise(
    tmp_path: Path,
) -> None:
    options = deploy.parse_args(["--outdir", str(tmp_path)])
    chosen = deploy.parse_args(["--outdir", str(tmp_path), "-c", "stages=Dev,Prod"])

    assert deploy._synth_args(options)[-2:] == ["-c", "stages=Dev"]
    assert deploy._synth_args(chosen)[-2:] == ["-c", "stages=Dev,Prod"]
    assert deploy._synth_args(chosen).count("-c") == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Test", "-c stages=Test: no stage 'Test'; give one or more of Dev, Prod, comma-separated"),
        ("Dev,prod", "-c stages=Dev,prod: no stage 'prod'; give one or more of Dev, Prod"),
        (",", "-c stages=,: no stage named; give one or more of Dev, Prod, comma-separated"),
    ],
)
def test_a_stages_context_that_names_no_stage_is_one_message(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build_app(context=cdk_json_context(stages=value))

    assert str(raised.value).startswith(message)


@pytest.mark.xdist_group("app")
def test_one_stage_synthesizes_to_the_same_templates_as_in_the_whole_app(
    synthesized: SynthesizedApp, tmp_path: Path
) -> None:
    app = build_app(context=cdk_json_context(stages="Dev"), outdir=str(tmp_path))
    assembly = app.synth()

    alone = {stack.hierarchical_id: stack.template for stack in assembly.stacks_recursively}
    assert sorted(alone) == sorted(path for path in synthesized.stacks if path.startswith("Dev/"))
    for path, template in alone.items():
        assert template == synthesized.template_json(path), path


# --- the report's next steps ---------------------------------------------------------------


@pytest.mark.xdist_group("app")
def test_next_steps_name_real_definitions_and_add_the_emulators_url_only_for_it(
    synthesized: SynthesizedApp,
) -> None:
    dev = read_stage(synthesized.outdir, "Dev")
    prod = read_stage(synthesized.outdir, "Prod")
    config = load_stage_config(REPO_ROOT / "config" / "dev.yaml")

    emulated = deploy.next_steps(dev, emulator=True, url="http://localhost:4566")
    on_aws = deploy.next_steps(prod, emulator=False)
    stopped = deploy.next_steps(dev, emulator=True)

    assert f"start a training run ({', '.join(sorted(config.training))}):" in emulated
    assert f"  make train NAME={min(config.training)} ENDPOINT_URL=http://localhost:4566" in (
        emulated
    )
    assert f"  make invoke NAME={min(config.endpoints)} ENDPOINT_URL=http://localhost:4566" in (
        emulated
    )
    assert emulated[-1] == "  make local-loop"
    assert all("ENDPOINT_URL" not in line for line in on_aws)
    assert any(line.startswith("  make train NAME=") and "STAGE=Prod" in line for line in on_aws)
    assert not any(line.lstrip().startswith("make train") for line in stopped)
    assert "make deploy ARGS=--keep-running" in stopped[0]

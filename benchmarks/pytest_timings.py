"""A pytest plugin that records how long each test took, where, and in which xdist group.

Loaded by `benchmarks/tests.py` (`-p benchmarks.pytest_timings --timings-json PATH`). On each
worker it tags every report with the test's `xdist_group` (from the marker itself, not parsed
from the node id); in the controlling process it sums setup, call and teardown per test (a
fixture's setup counts for the first test that uses it, as pytest's own --durations does) and
writes them to PATH at the end of the session.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

#: The user property that carries a test's xdist group from its worker to the controller.
GROUP_PROPERTY = "xdist_group"

_timings: dict[str, dict[str, Any]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--timings-json", metavar="PATH", help="write every test's timing here")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        group = marker.args[0] if marker.args else marker.kwargs.get("name", "default")
        report.user_properties.append((GROUP_PROPERTY, str(group)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Sum the phases of each test (in the controller: the workers' reports arrive here)."""
    entry = _timings.setdefault(
        report.nodeid, {"seconds": 0.0, "outcome": "passed", "group": None, "worker": None}
    )
    entry["seconds"] += report.duration
    if report.outcome != "passed" and entry["outcome"] == "passed":
        entry["outcome"] = report.outcome
    entry["group"] = dict(report.user_properties).get(GROUP_PROPERTY, entry["group"])
    node = getattr(report, "node", None)  # set by pytest-xdist in the controller
    if node is not None:
        entry["worker"] = node.gateway.id


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--timings-json")
    if path and not hasattr(session.config, "workerinput"):  # the controller writes once
        tests = [{"nodeid": nodeid, **entry} for nodeid, entry in _timings.items()]
        Path(path).write_text(json.dumps(tests, indent=1), encoding="utf-8")

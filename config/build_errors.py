"""Errors raised while a stage is built from its configuration, located in the environment file.

The loader checks every value before any construct exists, so an error raised later, while
`SageMakerStage` builds constructs from a loaded file, is either a rule the loader does not know
yet or a bug in this project. Either way the person running `cdk synth` gets the section of the
file that was being built (its `file:line`) and the error's text, not a traceback.

The section is found without guessing from construct ids: the stacks build each resource from
one of the frozen config objects (an endpoint's `EndpointConfig`, its `DeploymentConfig`...), so
the innermost frame of the traceback that holds one of them names the section.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel

from config.loader import Location, section_location
from config.schema import StageConfig


def located_build_error(error: BaseException, config: StageConfig, path: Path) -> str:
    """`file:line: section: error text` for `error`, raised while building `config`'s stage."""
    location = config_location(error.__traceback__, config)
    where = section_location(path, location)
    section = ".".join(str(part) for part in location) or "(top level)"
    text = str(error).strip() or type(error).__name__
    return f"{where}: {section}: {text}"


def config_location(trace: TracebackType | None, config: StageConfig) -> Location:
    """The location in the file of the config object that the innermost frame of `trace`
    holding one was working on; () when none does."""
    locations: dict[int, Location] = {}
    _index(config, (), locations)
    frames = []
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    for frame in reversed(frames):
        found = [
            locations[id(value)]
            for value in frame.f_locals.values()
            if isinstance(value, BaseModel) and id(value) in locations
        ]
        if found:
            return max(found, key=len)
    return ()


def _index(value: Any, location: Location, locations: dict[int, Location]) -> None:
    """Record the location of every config section (model) under `value`."""
    if isinstance(value, BaseModel):
        locations.setdefault(id(value), location)
        for name in type(value).model_fields:
            _index(getattr(value, name), (*location, name), locations)
    elif isinstance(value, dict):
        for key, item in value.items():
            _index(item, (*location, key), locations)
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            _index(item, (*location, position), locations)

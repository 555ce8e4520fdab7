"""The public API of `constructs_lib`, compared with a committed snapshot.

Every name exported by `constructs_lib`, `constructs_lib.serving` and
`constructs_lib.builtin_algorithms` (their `__all__`), with the signature of each class's
`__init__` and public methods and of each function: parameter names, kinds (positional,
keyword-only), annotations and whether a default exists (defaults themselves are CDK objects
without a stable text). A removed or renamed name, prop or method, a prop that became required
or a changed type fails here; docs/library.md#versioning says which of those are breaking.

The snapshot changes only on purpose:

    pytest tests/library/test_public_api.py --snapshot-update
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from syrupy.assertion import SnapshotAssertion

PUBLIC_MODULES = ("constructs_lib", "constructs_lib.serving", "constructs_lib.builtin_algorithms")


class _Default:
    """Stands for any default value in a rendered signature."""

    def __repr__(self) -> str:
        return "..."


def _signature(function: Any, *, skip_self: bool = False) -> str:
    """The signature as Python writes it, with every default shown as `...`."""
    signature = inspect.signature(function)
    parameters = [
        parameter.replace(default=_Default())
        if parameter.default is not inspect.Parameter.empty
        else parameter
        for parameter in signature.parameters.values()
    ]
    return str(signature.replace(parameters=parameters[1:] if skip_self else parameters))


def _describe(value: Any) -> Any:
    if inspect.isclass(value):
        own = _own(value)
        # The function itself: jsii's metaclass hides a construct's signature behind its own.
        members = (
            {"__init__": _signature(own["__init__"], skip_self=True)} if "__init__" in own else {}
        )
        members["(bases)"] = ", ".join(base.__name__ for base in value.__bases__)
        for name, member in sorted(own.items()):
            if name.startswith("_"):
                continue
            function = member.__func__ if isinstance(member, staticmethod | classmethod) else member
            if inspect.isfunction(function):
                members[name] = _signature(function)
            elif isinstance(member, property):
                members[name] = "property"
        return members
    if inspect.isfunction(value):
        return _signature(value)
    return f"{type(value).__name__} constant"


def _own(cls: type) -> dict[str, Any]:
    """What `cls` defines or inherits from other classes of the library (not from CDK or object)."""
    members: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        if base.__module__.startswith("constructs_lib"):
            members.update(vars(base))
    return members


def public_api() -> dict[str, dict[str, Any]]:
    """Module -> exported name -> its description, for every module in PUBLIC_MODULES."""
    api = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        api[module_name] = {
            name: _describe(getattr(module, name)) for name in sorted(module.__all__)
        }
    return api


def test_the_public_api_is_the_committed_snapshot(snapshot: SnapshotAssertion) -> None:
    assert public_api() == snapshot


def test_every_exported_name_exists_and_is_documented() -> None:
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert inspect.getdoc(value), f"{module_name}.{name} has no docstring"


def test_constructs_take_scope_and_id_positionally_and_every_prop_by_keyword() -> None:
    from constructs import Construct

    import constructs_lib

    for name in constructs_lib.__all__:
        value = getattr(constructs_lib, name)
        if not (inspect.isclass(value) and issubclass(value, Construct)):
            continue
        parameters = list(inspect.signature(value.__init__).parameters.values())
        assert [p.name for p in parameters[:3]] == ["self", "scope", "construct_id"], name
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[3:]), name

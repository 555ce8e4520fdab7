"""`constructs_lib` as a distribution: what the wheel and sdist hold, and what they declare.

The wheel is built from the sdist (`python -m build`), so a file the sdist forgets is missing
from the wheel too; the wheel is then installed into a fresh virtual environment with only its
declared dependencies, where every module must import.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser

import pytest
from packaging.requirements import Requirement

import constructs_lib
from tests.conftest import REPO_ROOT
from tests.library.conftest import (
    PACKAGE,
    ConsumerEnvironment,
    Distributions,
    check,
    distribution_files,
    run,
)

pytestmark = pytest.mark.xdist_group("library")

DISTRIBUTION = "sagemaker-cdk-constructs"

#: Modules the library imports that arrive only through another dependency. Declare them in
#: pyproject.toml, then delete them here (a test says when one is declared).
UNDECLARED_BUT_TRANSITIVE: dict[str, str] = {}


def _package_files() -> set[str]:
    """The files of the package in the working tree, as paths relative to the repository."""
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _wheel_metadata(distributions: Distributions) -> Message:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return HeaderParser().parsestr(wheel.read(name).decode())


def test_the_wheel_holds_every_module_of_every_subpackage_and_py_typed(
    distributions: Distributions,
) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        names = wheel.namelist()
    packaged = {name for name in names if not name.split("/", 1)[0].endswith(".dist-info")}

    assert packaged == _package_files()
    assert f"{PACKAGE}/py.typed" in packaged
    assert (
        distributions.wheel.name
        == f"sagemaker_cdk_constructs-{constructs_lib.__version__}-py3-none-any.whl"
    )


def test_the_sdist_holds_the_package_and_its_metadata_and_nothing_of_the_app(
    distributions: Distributions,
) -> None:
    root = f"sagemaker_cdk_constructs-{constructs_lib.__version__}"
    with tarfile.open(distributions.sdist) as sdist:
        names = {member.name.removeprefix(f"{root}/") for member in sdist.getmembers()}

    sources = {path.relative_to(REPO_ROOT).as_posix() for path in distribution_files()}
    assert _package_files() | sources | {"PKG-INFO"} <= names
    top_level = {name.split("/", 1)[0] for name in names if name != root}
    assert top_level <= {
        PACKAGE,
        "PKG-INFO",
        "setup.cfg",
        "sagemaker_cdk_constructs.egg-info",
        *(source.split("/", 1)[0] for source in sources),
    }


def test_the_wheel_declares_name_version_license_python_and_typing(
    distributions: Distributions,
) -> None:
    metadata = _wheel_metadata(distributions)

    assert metadata["Name"] == DISTRIBUTION
    assert metadata["Version"] == constructs_lib.__version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])


def test_every_dependency_is_a_range_with_an_upper_bound(distributions: Distributions) -> None:
    declared = [
        Requirement(text) for text in _wheel_metadata(distributions).get_all("Requires-Dist", [])
    ]
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]

    assert sorted(map(str, declared)) == sorted(
        str(Requirement(t)) for t in pyproject["dependencies"]
    )
    assert {r.name for r in declared} >= {"aws-cdk-lib", "constructs", "cdk-nag", "sagemaker-core"}
    for requirement in declared:
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators and "<" in operators, f"{requirement} needs a >=,< range"


def test_the_installed_package_comes_from_the_wheel(
    consumer_environment: ConsumerEnvironment,
) -> None:
    result = check(
        run(
            [
                consumer_environment.python,
                "-c",
                "import constructs_lib; print(constructs_lib.__file__); "
                "print(constructs_lib.__version__)",
            ],
            cwd=consumer_environment.root,
            env=consumer_environment.environ(),
        )
    )
    location, version = result.stdout.split()

    assert location.startswith(str(consumer_environment.root / "lib"))
    assert "site-packages" in location
    assert version == constructs_lib.__version__


def test_every_module_imports_with_only_the_declared_dependencies(
    consumer_environment: ConsumerEnvironment,
) -> None:
    script = textwrap.dedent(
        """
        import importlib, pkgutil
        import constructs_lib
        names = [m.name for m in pkgutil.walk_packages(constructs_lib.__path__, "constructs_lib.")]
        for name in names:
            importlib.import_module(name)
        print(len(names))
        """
    )
    result = check(
        run(
            [consumer_environment.python, "-c", script],
            cwd=consumer_environment.root,
            env=consumer_environment.environ(),
        )
    )

    modules = {p for p in _package_files() if p.endswith(".py") and not p.endswith("__init__.py")}
    packages = {p for p in _package_files() if p.endswith("/__init__.py")} - {
        f"{PACKAGE}/__init__.py"
    }
    assert int(result.stdout) == len(modules) + len(packages)


def _imported_top_level_modules() -> set[str]:
    """Top-level modules the package imports anywhere (also inside functions), but its own."""
    found = set()
    for path in (REPO_ROOT / PACKAGE).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - {PACKAGE, "__future__"} - set(sys.stdlib_module_names)


def _declared_modules() -> dict[str, str]:
    """Top-level module -> the declared dependency that provides it (in this environment)."""
    declared = {
        Requirement(text).name
        for text in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    return {
        module: distribution
        for module, distributions in importlib.metadata.packages_distributions().items()
        for distribution in distributions
        if distribution in declared
    }


def test_every_imported_module_is_provided_by_a_declared_dependency() -> None:
    undeclared = _imported_top_level_modules() - set(_declared_modules())

    assert sorted(undeclared - set(UNDECLARED_BUT_TRANSITIVE)) == []
    declared_now = set(UNDECLARED_BUT_TRANSITIVE) - undeclared
    assert not declared_now, f"declared now: delete {sorted(declared_now)} from the exceptions"

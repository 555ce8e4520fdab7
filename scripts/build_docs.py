#!/usr/bin/env python3
"""Build the HTML API reference of `constructs_lib` with pdoc, from its docstrings.

    python scripts/build_docs.py                  # writes docs/api/index.html and a page per module
    python scripts/build_docs.py --output /tmp/api

The pages are a build output (docs/api/ is not committed). Every public module is documented:
the package page lists what `constructs_lib.__all__` exports, and each module's page the names
its own `__all__` (or, without one, its names not starting with `_`) exports. Docstrings are
Google style (`Args:`, `Attributes:`, `Raises:`). A pdoc warning (e.g. a docstring reference
that resolves to nothing) fails the build.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "api"
PACKAGE = "constructs_lib"

if str(REPO_ROOT) not in sys.path:  # run as `python scripts/build_docs.py`
    sys.path.insert(0, str(REPO_ROOT))


def public_modules(package: str = PACKAGE) -> list[str]:
    """The package and every submodule whose dotted name has no part starting with `_`."""
    root = importlib.import_module(package)
    names = [package]
    for module in pkgutil.walk_packages(root.__path__, f"{package}."):
        if not any(part.startswith("_") for part in module.name.split(".")):
            names.append(module.name)
    return sorted(names)


def build(output: Path) -> list[Path]:
    """Write the HTML reference into `output`; return the pages written.

    Raises:
        RuntimeError: listing pdoc's warnings, if it had any.
    """
    modules = public_modules()
    # pdoc imports each module with subprocess calls mocked out, which would stop jsii from
    # starting its Node.js runtime; imported here first, pdoc finds them loaded.
    for name in modules:
        importlib.import_module(name)
    import pdoc
    import pdoc.render

    version = importlib.import_module(PACKAGE).__version__
    pdoc.render.configure(
        docformat="google",
        footer_text=f"sagemaker-cdk-constructs {version}",
        search=True,
        show_source=True,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*modules, output_directory=output)
    problems = sorted({str(warning.message) for warning in caught})
    if problems:
        raise RuntimeError("pdoc warned:\n  " + "\n  ".join(problems))
    return sorted(output.rglob("*.html"))


def main(argv: Sequence[str] | None = None) -> int:
    """Build the reference; print where its index is."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output folder")
    args = parser.parse_args(argv)
    try:
        pages = build(args.output)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {len(pages)} pages; open {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

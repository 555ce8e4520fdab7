"""scripts/ importable for the comparison's tests, as scripts/compare.py imports its siblings.

The modules under scripts/ are plain scripts (`python scripts/compare.py`) that import their
siblings by name, so the tests put scripts/ on sys.path the same way.
"""

from __future__ import annotations

import sys

from tests.conftest import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

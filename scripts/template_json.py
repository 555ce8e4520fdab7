"""JSON documents inside CloudFormation templates, decoded for people to review.

CDK renders some properties as one JSON document in a string: a state machine's
`DefinitionString` (as an `Fn::Join` of text and intrinsics when it refers to other resources),
and any other property given a serialized document. In a template that is one line of escaped
JSON, so a changed hyperparameter is a changed 1,000-character line. `readable` decodes each such
string into structured JSON under a marker key, with every intrinsic inside it written the way
`Fn::Sub` writes it (`${AWS::Partition}`, `${Role.Arn}`), so that the snapshot or the diff of a
template names the key that changed.

The result is for review only (snapshots, diffs): it is not a template CloudFormation reads.
"""

from __future__ import annotations

import json
from typing import Any

#: The key that holds a decoded `Fn::Join` (text and intrinsics that make one JSON document).
DECODED_JOIN = "Fn::Join (decoded JSON)"
#: The key that holds a decoded JSON string.
DECODED_STRING = "(decoded JSON)"


def readable(value: Any) -> Any:
    """`value` (a template or any part of one) with each JSON document held in a string, or in
    an `Fn::Join` with an empty separator, replaced by `{marker: the decoded document}`."""
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, str):
        decoded = _json_document(value)
        return value if decoded is None else {DECODED_STRING: readable(decoded)}
    if not isinstance(value, dict):
        return value
    join = value.get("Fn::Join")
    if len(value) == 1 and isinstance(join, list) and len(join) == 2 and join[0] == "":
        parts = join[1]
        if isinstance(parts, list):
            decoded = _json_document("".join(_text(part) for part in parts))
            if decoded is not None:
                return {DECODED_JOIN: readable(decoded)}
    return {key: readable(item) for key, item in value.items()}


def as_text(value: Any) -> Any:
    """A string, an intrinsic or an `Fn::Join` of both as one string with placeholders
    (`s3://${Fn::ImportValue:Dev-Data:...}/models/`); any other value as is."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            if isinstance(separator, str) and isinstance(parts, list):
                return separator.join(_text(part) for part in parts)
        if name == "Ref" or name.startswith("Fn::"):
            return placeholder(value)
    return value


def placeholder(intrinsic: Any) -> str:
    """An intrinsic function as `Fn::Sub` would write it: `${Ref}`, `${Resource.Attribute}`,
    or `${Fn::Name:argument}` for the others. Never contains a quote or a backslash, so it can
    stand inside a JSON string."""
    if isinstance(intrinsic, dict) and len(intrinsic) == 1:
        ((name, argument),) = intrinsic.items()
        if name == "Ref" and isinstance(argument, str):
            return f"${{{argument}}}"
        if name == "Fn::GetAtt" and isinstance(argument, list):
            return "${" + ".".join(map(str, argument)) + "}"
        shown = argument if isinstance(argument, str) else json.dumps(argument, sort_keys=True)
        return f"${{{name}:{_json_safe(shown)}}}"
    return "${" + _json_safe(json.dumps(intrinsic, sort_keys=True)) + "}"


def _text(part: Any) -> str:
    return part if isinstance(part, str) else placeholder(part)


def _json_safe(text: str) -> str:
    return text.replace("\\", "/").replace('"', "'")


def _json_document(text: str) -> Any:
    """The object or array that `text` is, or None (any other text, a scalar included)."""
    stripped = text.strip()
    if not (stripped.startswith("{") or stripped.startswith("[")):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    return document if isinstance(document, dict | list) else None

"""What a change to the synthesized templates means for a reviewer, sorted by consequence.

For every stack, base against head, resource by resource:

- data at risk: a stateful resource (it holds data, or it is retained) that CloudFormation would
  replace (a create-only property changed: resource_schemas) or delete;
- security: IAM statements, key, bucket and topic policies, security groups added, removed or
  changed;
- expected replacements: any other replaced resource (SageMaker models and endpoint configs are
  immutable: a new one per change is normal);
- ML changes: per training pipeline and endpoint, what changed in words (hyperparameters,
  instance type and count, spot, image, model artifact or package, autoscaling, monitoring);
- other changes: every other resource added, removed or modified.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from resource_schemas import ABSENT, replacing_properties
from template_json import as_text, readable

#: Resource types that hold data (or, for a key, the only way to read it): replacing or
#: deleting one loses what it holds. Any resource with a Retain or Snapshot deletion policy
#: counts as stateful too.
DATA_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SageMaker::ModelPackageGroup",
        "AWS::SageMaker::FeatureGroup",
        "AWS::DynamoDB::Table",
        "AWS::EFS::FileSystem",
        "AWS::ECR::Repository",
        "AWS::SecretsManager::Secret",
    }
)
RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
#: Resource types whose whole content is access control.
SECURITY_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Lambda::Permission",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
    }
)
#: Resource types whose changes are described as ML changes.
ML_TYPES = frozenset(
    {
        "AWS::StepFunctions::StateMachine",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::InferenceComponent",
        "AWS::SageMaker::MonitoringSchedule",
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::ModelBiasJobDefinition",
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    }
)
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
#: The pseudo resource type of a stack's changed outputs, listed under other changes.
OUTPUTS = "Outputs"
MAX_VALUE = 100

#: Leaf names (the last key of a changed path) and what a reader calls them.
ML_WORDS = {
    "InstanceType": "instance type",
    "InstanceCount": "instance count",
    "InitialInstanceCount": "instance count",
    "VolumeSizeInGB": "volume size (GB)",
    "EnableManagedSpotTraining": "managed spot",
    "MaxWaitTimeInSeconds": "max spot wait (s)",
    "MaxRuntimeInSeconds": "max runtime (s)",
    "TrainingImage": "image",
    "Image": "image",
    "ImageUri": "image",
    "ModelDataUrl": "model artifact",
    "ModelPackageName": "model package",
    "MinCapacity": "autoscaling min instances",
    "MaxCapacity": "autoscaling max instances",
    "TargetValue": "autoscaling target",
    "ScheduleExpression": "monitoring schedule",
    "MemorySizeInMB": "serverless memory (MB)",
    "MaxConcurrency": "serverless max concurrency",
    "InitialSamplingPercentage": "data capture (%)",
    "MaxNumberOfTrainingJobs": "tuning max jobs",
    "MaxParallelTrainingJobs": "tuning max parallel jobs",
}
HYPERPARAMETER_KEYS = ("HyperParameters", "StaticHyperParameters")


@dataclass(frozen=True)
class Change:
    """One changed value, at a dotted path such as `Properties.Tags[1].Value`."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Finding:
    """One line of the report: what, where, and why."""

    stack: str
    logical_id: str
    resource_type: str
    text: str
    subject: str = ""

    @property
    def stage(self) -> str:
        return self.stack.split("/", 1)[0]

    @property
    def address(self) -> str:
        """`Dev/Data/NotificationsCE9D1424`: what `--allow-replace` names."""
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class ResourceChange:
    """A resource added (+), removed (-) or modified (~), with its leaf changes."""

    kind: str
    stack: str
    logical_id: str
    resource_type: str
    changes: tuple[Change, ...] = ()
    subject: str = ""

    def finding(self, text: str) -> Finding:
        """A finding about this resource."""
        return Finding(self.stack, self.logical_id, self.resource_type, text, self.subject)


@dataclass
class Review:
    """Every finding of a base/head comparison, by category."""

    data_at_risk: list[Finding] = field(default_factory=list)
    security: list[Finding] = field(default_factory=list)
    replacements: list[Finding] = field(default_factory=list)
    ml: list[Finding] = field(default_factory=list)
    other: list[ResourceChange] = field(default_factory=list)
    changed_stacks: list[str] = field(default_factory=list)

    def stages(self) -> list[str]:
        """The stages with any finding, in the order their stacks were compared."""
        return list(dict.fromkeys(stack.split("/", 1)[0] for stack in self.changed_stacks))


def review(base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]) -> Review:
    """Compare two apps' templates, keyed by stack path (`Dev/Data`), stack by stack."""
    result = Review()
    for stack in list(dict.fromkeys([*base, *head])):
        old, new = normalized(base.get(stack, {})), normalized(head.get(stack, {}))
        if old != new:
            result.changed_stacks.append(stack)
            subjects = {**_subjects(base.get(stack, {})), **_subjects(head.get(stack, {}))}
            _review_stack(result, stack, old, new, subjects)
    return result


def _subjects(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> the construct the resource belongs to (`ChurnXgboost` for
    `Dev/Serving/ChurnXgboost/Model`), from CDK's path metadata."""
    subjects = {}
    for logical_id, resource in template.get("Resources", {}).items():
        path = str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
        parts = path.split("/")
        if len(parts) > 2:
            subjects[logical_id] = parts[2]
    return subjects


def normalized(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what says nothing to a reviewer (resource metadata such as
    construct paths, CDK's metadata resource), with JSON-in-a-string decoded. Asset hashes
    stay: they are content hashes, equal in any checkout, and change only with the code or
    image they stand for."""
    resources = {
        logical_id: {key: value for key, value in resource.items() if key != "Metadata"}
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") not in IGNORED_TYPES
    }
    decoded: dict[str, Any] = readable({**template, "Resources": resources})
    return decoded


def diff_values(old: Any, new: Any, path: str = "") -> list[Change]:
    """The leaf-level differences between two JSON values.

    Dicts are compared key by key, lists of equal length item by item; lists of different
    lengths give one change per item only one side has (`path[-]`, `path[+]`).
    """
    if isinstance(old, dict) and isinstance(new, dict) and not _is_intrinsic(old, new):
        changes = []
        for key in sorted(old.keys() | new.keys(), key=str):
            child = f"{path}.{key}" if path else str(key)
            changes += diff_values(old.get(key, ABSENT), new.get(key, ABSENT), child)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new):
            return [
                change
                for index, (old_item, new_item) in enumerate(zip(old, new, strict=True))
                for change in diff_values(old_item, new_item, f"{path}[{index}]")
            ]
        removed = [Change(f"{path}[-]", item, ABSENT) for item in old if item not in new]
        added = [Change(f"{path}[+]", ABSENT, item) for item in new if item not in old]
        return removed + added
    return [] if old == new else [Change(path, old, new)]


def _is_intrinsic(*values: dict[str, Any]) -> bool:
    """A value that CloudFormation computes: compared and shown whole, not part by part."""
    return any(
        len(value) == 1 and next(iter(value)) in ("Ref", "Fn::Join", "Fn::Sub", "Fn::GetAtt")
        for value in values
    )


def shown(value: Any) -> str:
    """A value in one line, intrinsics as placeholders; a long one keeps its start and its end
    (where an artifact's key or a version is)."""
    if value is ABSENT:
        return "(absent)"
    value = as_text(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) <= MAX_VALUE:
        return text
    head = MAX_VALUE // 3
    return f"{text[:head]}...{text[-(MAX_VALUE - head - 3) :]}"


# --- per stack -----------------------------------------------------------------------------


def _review_stack(
    result: Review,
    stack: str,
    old: dict[str, Any],
    new: dict[str, Any],
    subjects: dict[str, str],
) -> None:
    old_resources, new_resources = old.get("Resources", {}), new.get("Resources", {})
    for logical_id in sorted(old_resources.keys() | new_resources.keys()):
        before, after = old_resources.get(logical_id), new_resources.get(logical_id)
        if before == after:
            continue
        resource_type = str((after or before or {}).get("Type", "?"))
        kind = "+" if before is None else "-" if after is None else "~"
        if before is not None and after is not None and before.get("Type") != after.get("Type"):
            kind = "-+"
        changes = tuple(diff_values(before or {}, after or {}))
        subject = subjects.get(logical_id, logical_id)
        change = ResourceChange(kind, stack, logical_id, resource_type, changes, subject)
        _classify(result, change, before or {}, after or {})
    outputs = diff_values(old.get("Outputs", {}), new.get("Outputs", {}))
    if outputs:
        result.other.append(ResourceChange("~", stack, OUTPUTS, OUTPUTS, tuple(outputs)))


def _classify(
    result: Review, change: ResourceChange, before: dict[str, Any], after: dict[str, Any]
) -> None:
    finding = _replacement_or_deletion(change, before, after)
    described = False
    if finding is not None:
        if _stateful(change.resource_type, before):
            result.data_at_risk.append(finding)
        else:
            result.replacements.append(finding)
    security = _security_findings(change, before, after)
    if security:
        result.security += security
        described = True
    if change.resource_type in ML_TYPES:
        ml = _ml_findings(change, before, after)
        result.ml += ml
        described = described or bool(ml)
    if not described and finding is None:
        result.other.append(change)


def _stateful(resource_type: str, resource: dict[str, Any]) -> bool:
    return resource_type in DATA_TYPES or bool(
        {resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")} & RETAINING_POLICIES
    )


def _replacement_or_deletion(
    change: ResourceChange, before: dict[str, Any], after: dict[str, Any]
) -> Finding | None:
    found = change.finding
    if change.kind == "+":
        return None
    retained = before.get("DeletionPolicy") in RETAINING_POLICIES
    orphaned = "; its DeletionPolicy keeps the old one, orphaned outside the stack"
    if change.kind == "-":
        return found("deleted" + (orphaned if retained else ""))
    if change.kind == "-+":
        return found(f"replaced: its type changes to {after.get('Type')}")
    forcing = replacing_properties(
        change.resource_type, before.get("Properties", {}), after.get("Properties", {})
    )
    if not forcing:
        return None
    names = ", ".join(forcing)
    return found(
        f"replaced: {names} changed (create-only in the CloudFormation schema of "
        f"{change.resource_type})" + (orphaned if retained else "")
    )


# --- security ------------------------------------------------------------------------------


def _security_findings(
    change: ResourceChange, before: dict[str, Any], after: dict[str, Any]
) -> list[Finding]:
    old_statements = dict(_statements(before.get("Properties", {}), ""))
    new_statements = dict(_statements(after.get("Properties", {}), ""))
    findings = []
    if change.resource_type in SECURITY_TYPES and change.kind in ("+", "-"):
        findings.append(change.finding("added" if change.kind == "+" else "removed"))
    findings += [
        change.finding(f"{sign} {where}: {text}")
        for sign, statements, others in (
            ("removed", old_statements, new_statements),
            ("added", new_statements, old_statements),
        )
        for key, (where, text) in sorted(statements.items())
        if key not in others
    ]
    if change.resource_type in SECURITY_TYPES and change.kind not in ("+", "-"):
        findings += [
            change.finding(f"{item.path}: {shown(item.old)} -> {shown(item.new)}")
            for item in change.changes
            if ".Statement" not in item.path and not item.path.startswith("Properties.Tags")
        ]
    return findings


def _statements(value: Any, path: str) -> Iterable[tuple[str, tuple[str, str]]]:
    """(canonical statement, (where, the statement in words)) for each policy statement."""
    if isinstance(value, dict):
        statement = value.get("Statement")
        if isinstance(statement, list):
            for item in statement:
                key = f"{path}:{json.dumps(item, sort_keys=True)}"
                yield key, (path or "policy", _statement_words(item))
        for name, item in value.items():
            if name != "Statement":
                yield from _statements(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _statements(item, f"{path}[{index}]")


def _statement_words(statement: Any) -> str:
    if not isinstance(statement, dict):
        return shown(statement)
    words = [str(statement.get("Effect", "?"))]
    for key in ("Action", "NotAction"):
        if key in statement:
            words.append(("not " if key == "NotAction" else "") + _listed(statement[key]))
    if "Principal" in statement:
        words.append(f"for {_listed(statement['Principal'])}")
    for key in ("Resource", "NotResource"):
        if key in statement:
            words.append(
                ("on all but " if key == "NotResource" else "on ") + _listed(statement[key])
            )
    if "Condition" in statement:
        words.append(f"if {shown(statement['Condition'])}")
    return " ".join(words)


def _listed(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_listed(item) for item in value)
    text = as_text(value)
    return text if isinstance(text, str) else json.dumps(text, sort_keys=True)


# --- ML ------------------------------------------------------------------------------------


def _ml_findings(
    change: ResourceChange, before: dict[str, Any], after: dict[str, Any]
) -> list[Finding]:
    found = change.finding
    if change.kind in ("+", "-"):
        return [found("added" if change.kind == "+" else "removed")]
    if change.resource_type == "AWS::StepFunctions::StateMachine":
        return _state_machine_findings(change, before, after)
    return [
        found(_in_words(item))
        for item in change.changes
        if not item.path.startswith("Properties.Tags")
    ]


def _state_machine_findings(
    change: ResourceChange, before: dict[str, Any], after: dict[str, Any]
) -> list[Finding]:
    """Task by task: a SageMaker task's parameters in words; other states' changes by path."""
    old_states, new_states = _states(before), _states(after)
    findings = []
    for name in sorted(old_states.keys() | new_states.keys()):
        old_state, new_state = old_states.get(name, ABSENT), new_states.get(name, ABSENT)
        if old_state == new_state:
            continue
        for item in diff_values(old_state, new_state):
            findings.append(change.finding(f"state {name}: {_in_words(item)}"))
    if not findings:
        findings = [
            change.finding(_in_words(item))
            for item in change.changes
            if not item.path.startswith("Properties.Tags")
        ]
    return findings


def _states(resource: dict[str, Any]) -> dict[str, Any]:
    definition = resource.get("Properties", {}).get("DefinitionString", {})
    if isinstance(definition, dict) and len(definition) == 1:
        (document,) = definition.values()
        if isinstance(document, dict) and isinstance(document.get("States"), dict):
            states: dict[str, Any] = document["States"]
            return states
    return {}


def _in_words(change: Change) -> str:
    """`hyperparameter num_round: 50 -> 60`, `instance type: ... -> ...`, or the path."""
    parts = [part for part in re.split(r"[.\[\]]+", change.path) if part]
    for index, part in enumerate(parts[:-1]):
        if part in HYPERPARAMETER_KEYS:
            name = ".".join(parts[index + 1 :])
            return f"hyperparameter {name}: {shown(change.old)} -> {shown(change.new)}"
    labels = [
        ML_WORDS[part.removesuffix(".$")] for part in parts if part.removesuffix(".$") in ML_WORDS
    ]
    label = labels[-1] if labels else None
    where = change.path.removeprefix("Properties.")
    what = f"{label} ({where})" if label else where
    return f"{what}: {shown(change.old)} -> {shown(change.new)}"

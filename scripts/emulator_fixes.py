"""Fixes for moto's CloudFormation bugs that stop a plain `cdk deploy` of this app.

The emulated AWS account (`scripts/emulator.py`) applies these inside the moto server process,
before it serves. Each fix makes moto do what CloudFormation itself does; none of them adds a
behaviour that AWS does not have, and the app never knows it runs against an emulator.

This module's name must not start with `moto`: moto maps an exception to its service by the
exception's module name.

They patch moto internals, so they are written for one moto version (`MOTO_VERSION`, the pin in
requirements.txt) and refuse any other: after a moto upgrade, re-check each bug below (the
end-to-end test in tests/deploy shows which are still needed) and drop the fixed ones.

What each fix corrects (moto 5.2.5 -> what CloudFormation does):

- `updates_without_handler`: a modified resource whose moto model has no update handler (log
  groups, KMS keys, managed policies, ...) is replaced by nothing, and every `Fn::GetAtt` on it
  fails -> the resource is kept as it is (the property change is not applied; the emulator log
  says so). The next two fixes give KMS keys and managed policies real updates.
- `kms_key_properties`: a KMS key with `Tags` crashes the stack (HTTP 500), and an object
  `KeyPolicy` is stored as is, so DescribeKey crashes later -> tags the key, keeps JSON text.
- `kms_key_update`: a modified KMS key is replaced by nothing (moto has no update handler)
  -> updated in place, or replaced when KeySpec, KeyUsage, MultiRegion or Origin change.
- `managed_policy_update`: a modified IAM managed policy is replaced by nothing -> a new
  default policy version, and the role attachments follow `Roles`.
- `managed_policy_delete`: deleting a stack leaves its IAM managed policies, still attached,
  so the stack's role cannot be deleted and the stack deletion fails -> the policy is detached
  from its roles, users and groups and deleted.
- `bucket_tags_update`: a tag change of a bucket without an explicit `BucketName` (all CDK
  buckets) crashes -> the bucket is re-tagged.
- `ssm_parameter_tags`: `AWS::SSM::Parameter` takes `Tags` as a map (unlike most types); moto
  expects a list and crashes half way, leaving the parameter behind -> the map is accepted.
- `change_set_lookup`: change sets are found by name in any stack, and a missing one is
  answered with ValidationError or a crash, on which the CDK CLI waits forever -> names are
  scoped to their stack, describing a missing change set is `ChangeSetNotFound` (404) and
  deleting one succeeds, and executing one removes the stack's other change sets.
- `ssm_parameter_previous_value`: `UsePreviousValue` of an SSM-typed parameter (CDK's
  `BootstrapVersion`, on every update) gives the value it resolved to, which moto then looks
  up as a parameter name and crashes -> the previous value is the SSM parameter name.
- `deleted_stack_outputs`: describing a deleted stack resolves its Outputs again, and that
  re-creates every resource they reference (the CDK CLI describes the stack while it waits,
  so `cdk destroy` left the buckets and the key behind) -> a deleted stack has no Outputs and
  no resources.
- `change_set_exports`: a stack created by a change set sees no exports (Fn::ImportValue
  fails) and gets no Outputs or exports -> imports resolve; Outputs and exports are updated.
- `nonempty_bucket_delete`: deleting a stack whose bucket holds objects drops the bucket from
  the stack but keeps it, and the stack is DELETE_COMPLETE -> the bucket's deletion fails
  with BucketNotEmpty (with `stack_delete_failure`, the stack is DELETE_FAILED).
- `stack_delete_failure`: a resource whose deletion fails makes DeleteStack answer HTTP 500
  and the stack vanishes from DescribeStacks with its other resources deleted -> the stack is
  DELETE_FAILED with the reason, keeps the resources that failed, and can be deleted again.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import suppress
from importlib.metadata import version
from typing import Any

#: The moto version these fixes were written and tested for (requirements.txt pins it).
MOTO_VERSION = "5.2.5"

#: KMS key properties whose change makes CloudFormation replace the key.
KMS_KEY_REPLACEMENT_PROPERTIES = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")


class UnsupportedMotoVersionError(RuntimeError):
    """The installed moto is not the version these fixes were checked against."""


def apply_all() -> list[str]:
    """Apply every fix to the imported moto; return their names, in order.

    Raises:
        UnsupportedMotoVersionError: moto is not `MOTO_VERSION`.
    """
    installed = version("moto")
    if installed != MOTO_VERSION:
        raise UnsupportedMotoVersionError(
            f"scripts/emulator_fixes.py was written for moto {MOTO_VERSION}, but moto "
            f"{installed} is installed: re-check each fix of its docstring against that version"
        )
    fixes: list[Callable[[], None]] = [
        updates_without_handler,
        kms_key_properties,
        kms_key_update,
        managed_policy_update,
        managed_policy_delete,
        bucket_tags_update,
        ssm_parameter_tags,
        change_set_exports,
        change_set_lookup,  # after change_set_exports: it resolves names for it
        ssm_parameter_previous_value,
        deleted_stack_outputs,
        nonempty_bucket_delete,
        stack_delete_failure,
    ]
    for fix in fixes:
        fix()
    return [fix.__name__ for fix in fixes]


def updates_without_handler() -> None:
    """A modified resource that moto cannot update stays as it is instead of becoming nothing."""
    from moto.cloudformation import parsing

    update = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str, resource_json: Any, resources_map: Any, *args: Any, **kwargs: Any
    ) -> Any:
        updated = update(logical_id, resource_json, resources_map, *args, **kwargs)
        existing = resources_map._parsed_resources.get(logical_id)
        if updated is None and existing is not None:
            print(
                f"emulator: moto cannot update {resource_json['Type']} {logical_id}; "
                "it keeps its old properties",
                file=sys.stderr,
                flush=True,
            )
            return existing
        return updated

    parsing.parse_and_update_resource = parse_and_update_resource


def kms_key_properties() -> None:
    """`AWS::KMS::Key`: CloudFormation `Tags` (Key/Value) and an object `KeyPolicy` work."""
    from moto.kms.models import Key

    create = _original_classmethod(Key, "create_from_cloudformation_json")

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        key = create(cls, resource_name, _kms_api_properties(cloudformation_json), *args, **kwargs)
        _KMS_KEY_PROPERTIES[key.id] = cloudformation_json.get("Properties", {})
        return key

    _set_classmethod(Key, "create_from_cloudformation_json", create_from_cloudformation_json)


def kms_key_update() -> None:
    """`AWS::KMS::Key` updates: in place, or a new key when a replacement property changed."""
    from moto.kms.models import Key, kms_backends

    def update_from_cloudformation_json(
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        backend = kms_backends[account_id][region_name]
        properties = cloudformation_json["Properties"]
        old_properties = _KMS_KEY_PROPERTIES.get(original_resource.id, {})
        if any(
            properties.get(name) != old_properties.get(name)
            for name in KMS_KEY_REPLACEMENT_PROPERTIES
        ):
            new_key = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            backend.schedule_key_deletion(
                original_resource.id, properties.get("PendingWindowInDays", 30)
            )
            return new_key
        fixed = _kms_api_properties(cloudformation_json)["Properties"]
        original_resource.description = fixed.get("Description", "")
        original_resource.policy = fixed["KeyPolicy"]
        original_resource.key_rotation_status = fixed.get("EnableKeyRotation", False)
        original_resource.enabled = fixed.get("Enabled", True)
        backend.tagger.delete_all_tags_for_resource(original_resource.id)
        backend.tagger.tag_resource(original_resource.id, fixed["Tags"])
        _KMS_KEY_PROPERTIES[original_resource.id] = properties
        return original_resource

    _set_classmethod(Key, "update_from_cloudformation_json", update_from_cloudformation_json)


def managed_policy_update() -> None:
    """`AWS::IAM::ManagedPolicy` updates: a new default policy version; attachments follow."""
    from moto.iam.models import ManagedPolicy, iam_backends
    from moto.utilities.utils import get_partition

    def update_from_cloudformation_json(
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        backend = iam_backends[account_id][get_partition(region_name)]
        properties = cloudformation_json["Properties"]
        arn = original_resource.arn
        backend.create_policy_version(arn, json.dumps(properties["PolicyDocument"]), True)
        for old in list(original_resource.versions):
            if not old.is_default:
                backend.delete_policy_version(arn, old.version_id)
        attached = {role.name for role in backend.roles.values() if arn in role.managed_policies}
        wanted = set(properties.get("Roles", []))
        for role_name in sorted(attached - wanted):
            backend.detach_role_policy(arn, role_name)
        for role_name in sorted(wanted - attached):
            backend.attach_role_policy(arn, role_name)
        return original_resource

    _set_classmethod(
        ManagedPolicy, "update_from_cloudformation_json", update_from_cloudformation_json
    )


def managed_policy_delete() -> None:
    """Deleting an `AWS::IAM::ManagedPolicy` detaches it everywhere, then deletes it."""
    from moto.iam.models import ManagedPolicy, iam_backends
    from moto.utilities.utils import get_partition

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = iam_backends[account_id][get_partition(region_name)]
        for role in list(backend.roles.values()):
            if self.arn in role.managed_policies:
                backend.detach_role_policy(self.arn, role.name)
        for user in list(backend.users.values()):
            if self.arn in user.managed_policies:
                backend.detach_user_policy(self.arn, user.name)
        for group in list(backend.groups.values()):
            if self.arn in group.managed_policies:
                backend.detach_group_policy(self.arn, group.name)
        backend.delete_policy(self.arn)

    _set_method(ManagedPolicy, "delete", delete)


def bucket_tags_update() -> None:
    """`AWS::S3::Bucket` updates of a bucket named by CloudFormation (no `BucketName`)."""
    from moto.s3.models import FakeBucket

    update = _original_classmethod(FakeBucket, "update_from_cloudformation_json")

    def update_from_cloudformation_json(
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        if "BucketName" not in properties:
            properties = dict(properties, BucketName=original_resource.name)
            cloudformation_json = dict(cloudformation_json, Properties=properties)
        return update(
            cls,
            original_resource=original_resource,
            new_resource_name=new_resource_name,
            cloudformation_json=cloudformation_json,
            account_id=account_id,
            region_name=region_name,
        )

    _set_classmethod(FakeBucket, "update_from_cloudformation_json", update_from_cloudformation_json)


def ssm_parameter_tags() -> None:
    """`AWS::SSM::Parameter` `Tags` are a key-value map in CloudFormation."""
    from moto.ssm.models import Parameter

    create = _original_classmethod(Parameter, "create_from_cloudformation_json")

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        tags = cloudformation_json.get("Properties", {}).get("Tags")
        if isinstance(tags, dict):
            listed = [{"Key": key, "Value": value} for key, value in tags.items()]
            properties = dict(cloudformation_json["Properties"], Tags=listed)
            cloudformation_json = dict(cloudformation_json, Properties=properties)
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    _set_classmethod(Parameter, "create_from_cloudformation_json", create_from_cloudformation_json)


def change_set_lookup() -> None:
    """DescribeChangeSet, DeleteChangeSet, ExecuteChangeSet: by ARN, or by name in their stack."""
    from moto.cloudformation.exceptions import CloudFormationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult, EmptyResult

    class ChangeSetNotFoundError(CloudFormationError):
        code = "ChangeSetNotFound"

        def __init__(self, name: str) -> None:
            super().__init__(f"ChangeSet [{name}] does not exist")
            self.status_code = 404

    def find(backend: Any, name_or_arn: str, stack: str | None) -> Any:
        if name_or_arn in backend.change_sets:
            return backend.change_sets[name_or_arn]
        for change_set in backend.change_sets.values():
            if change_set.change_set_name == name_or_arn and stack in (
                change_set.stack_name,
                change_set.stack_id,
            ):
                return change_set
        raise ChangeSetNotFoundError(name_or_arn)

    def describe_change_set(self: Any) -> Any:
        backend = self.cloudformation_backend
        return ActionResult(
            find(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
        )

    def delete_change_set(self: Any) -> Any:
        # Deleting a change set that is not there succeeds (the CDK CLI relies on it).
        backend = self.cloudformation_backend
        with suppress(ChangeSetNotFoundError):
            change_set = find(
                backend, self._get_param("ChangeSetName"), self._get_param("StackName")
            )
            del backend.change_sets[change_set.change_set_id]
        return EmptyResult()

    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = find(self, change_set_name, stack_name)
        execute(self, change_set.change_set_id, stack_name)
        # CloudFormation removes every change set of a stack once one is executed.
        for change_set_id, other in list(self.change_sets.items()):
            if other.stack_id == change_set.stack_id:
                del self.change_sets[change_set_id]

    _set_method(CloudFormationResponse, "describe_change_set", describe_change_set)
    _set_method(CloudFormationResponse, "delete_change_set", delete_change_set)
    _set_method(CloudFormationBackend, "execute_change_set", execute_change_set)


def change_set_exports() -> None:
    """Stacks made or updated by change sets import and export values, and have Outputs.

    The execute hook takes the change set's ARN: `change_set_lookup` resolves names first.
    """
    from moto.cloudformation.models import CloudFormationBackend

    create = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        change_set_id, stack_id = create(self, *args, **kwargs)
        stack = self.stacks[stack_id]
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        stack = self.stacks[self.change_sets[change_set_name].stack_id]
        previous = {export.name for export in stack.exports} if stack.template_dict else set()
        execute(self, change_set_name, stack_name)
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        stack.description = stack.template_dict.get("Description")
        for name in previous:
            self.exports.pop(name, None)
        for export in stack.exports:
            self.exports[export.name] = export

    _set_method(CloudFormationBackend, "create_change_set", create_change_set)
    _set_method(CloudFormationBackend, "execute_change_set", execute_change_set)


def ssm_parameter_previous_value() -> None:
    """The previous value of an `AWS::SSM::Parameter::Value<...>` parameter is its name."""
    from moto.cloudformation.models import Stack

    resolved_parameters = _property_getter(Stack, "stack_parameters")

    def stack_parameters(self: Any) -> dict[str, Any]:
        values: dict[str, Any] = dict(resolved_parameters(self))
        for key, slot in self.template_dict.get("Parameters", {}).items():
            if key in values and str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::"):
                values[key] = self.resource_map.input_parameters.get(key, slot.get("Default"))
        return values

    _set_method(Stack, "stack_parameters", property(stack_parameters))


def deleted_stack_outputs() -> None:
    """A deleted stack has no Outputs and no resources, instead of re-creating them."""
    from moto.cloudformation.models import Stack

    outputs = _property_getter(Stack, "outputs")
    resources = _property_getter(Stack, "stack_resources")

    def stack_outputs(self: Any) -> Any:
        return None if self.status == "DELETE_COMPLETE" else outputs(self)

    def stack_resources(self: Any) -> Any:
        return [] if self.status == "DELETE_COMPLETE" else resources(self)

    _set_method(Stack, "outputs", property(stack_outputs))
    _set_method(Stack, "stack_resources", property(stack_resources))


def nonempty_bucket_delete() -> None:
    """Deleting an `AWS::S3::Bucket` that holds objects fails, as S3 and CloudFormation do."""
    from moto.s3.exceptions import BucketNotEmpty
    from moto.s3.models import FakeBucket, s3_backends
    from moto.utilities.utils import get_partition

    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if backend.get_bucket(resource_name).keys:
            raise BucketNotEmpty(resource_name)
        backend.delete_bucket(resource_name)

    _set_classmethod(FakeBucket, "delete_from_cloudformation_json", delete_from_cloudformation_json)


def stack_delete_failure() -> None:
    """A stack whose resource cannot be deleted is DELETE_FAILED and keeps that resource."""
    from moto.cloudformation.models import CloudFormationBackend
    from moto.core.exceptions import ServiceException

    delete = CloudFormationBackend.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = self.stacks.get(name_or_stack_id)
        if stack is None:  # by name: moto calls this again with the stack's id
            delete(self, name_or_stack_id)
            return
        try:
            delete(self, name_or_stack_id)
        except ServiceException as error:  # a service refused a deletion; moto bugs crash
            resources = stack.template_dict.get("Resources", {})
            failed = sorted(key for key in stack.resource_map._parsed_resources if key in resources)
            reason = f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
            reason += f"{error.code}: {error.message}"
            stack.status = "DELETE_FAILED"
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
            self.stacks[stack.stack_id] = stack
            print(f"emulator: {stack.name}: {reason}", file=sys.stderr, flush=True)

    _set_method(CloudFormationBackend, "delete_stack", delete_stack)


#: The CloudFormation properties each emulated KMS key was last created or updated with.
_KMS_KEY_PROPERTIES: dict[str, dict[str, Any]] = {}


def _kms_api_properties(cloudformation_json: Any) -> Any:
    """A copy of a KMS key's CloudFormation JSON with tags and policy in KMS API form."""
    properties = dict(cloudformation_json.get("Properties", {}))
    properties["Tags"] = [
        {"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])
    ]
    if not isinstance(properties.get("KeyPolicy", ""), str):
        properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return dict(cloudformation_json, Properties=properties)


def _original_classmethod(owner: type, name: str) -> Callable[..., Any]:
    """The plain function behind the classmethod `owner.name` (to call with an explicit cls)."""
    function: Callable[..., Any] = owner.__dict__[name].__func__
    return function


def _property_getter(owner: type, name: str) -> Callable[..., Any]:
    """The getter function of the property `owner.name`."""
    getter: Callable[..., Any] = owner.__dict__[name].fget
    return getter


def _set_classmethod(owner: type, name: str, function: Callable[..., Any]) -> None:
    setattr(owner, name, classmethod(function))


def _set_method(owner: type, name: str, function: Callable[..., Any] | property) -> None:
    setattr(owner, name, function)

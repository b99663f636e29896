"""Deploy rehearsal with the real CDK CLI against moto's server on loopback.

``python -m tests.harness.cli_rehearsal`` (``make rehearse``) starts moto's server inside this
process on a free ``127.0.0.1`` port, points the pinned CDK CLI at it (``AWS_ENDPOINT_URL``,
fake credentials) and drives the CLI's own path through the reference app:

1. ``cdk bootstrap aws://<account>/us-east-1`` of every account the stacks go to, then ``cdk deploy
   --all --require-approval never`` (and, for the delivery pipeline's stage stacks, which ``--all``
   leaves to the pipeline, ``cdk deploy --exclusively <their paths>``): every stack
   ``CREATE_COMPLETE`` in its own account (environment-agnostic ones in 123456789012, the delivery
   stack and its stages in the placeholder accounts of cdk.json), created in dependency order;
2. ``cdk diff``: no differences against the deployed stacks;
3. an update through context (the canary off, a larger instance type, a third Studio user) synthesized
   by the CLI from a copy of cdk.json, compared with the review report
   (``sagemaker_constructs.review``) and deployed with ``cdk deploy``: what CloudFormation updated,
   replaced, added, removed or refused;
4. ``cdk destroy --all --force``: every stack deleted, the resources the README retention table
   says are retained still in the simulator, nothing else of ours left.

It prints a progress line per step and a summary table (stack, action, result, seconds) and exits
non-zero on any unexpected result. The server only listens on 127.0.0.1, stops when the rehearsal
ends (always, ``finally``) and stops itself after ``--lifetime`` seconds whatever happens.

What moto 5.2.5 cannot do is bridged by the shims in :class:`Simulator`, applied to moto inside
this process (never to the library or the templates the CLI deploys); each is listed in
:data:`BRIDGES` and in the README ("Deploy rehearsal with the real CLI").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
CONTEXT_KEY = "sagemaker-constructs:platform"

#: What the simulator cannot do, and how this module bridges it: number -> the words the README's
#: bridge table starts that row with (tests/rehearsal/test_cli_rehearsal.py checks they are there).
BRIDGES: dict[int, str] = {
    1: "`TemplateURL` read from moto's S3",
    2: "custom resources answered `SUCCESS` in-process",
    3: "a placeholder for each type moto has no CloudFormation model for",
    4: "`ExecuteChangeSet` publishes the stack's exports",
    5: "change sets looked up by name within their stack",
    6: "`UsePreviousValue` on an SSM-typed parameter",
    7: "deletes for `AWS::IAM::ManagedPolicy`",
    8: "an update of a type moto cannot update keeps the resource",
    9: "endpoint configurations for inference components",
    10: "other accounts through STS `AssumeRole`",
    11: "a change set moto fails to execute fails the stack",
}

#: Data custom resources are answered with, by resource type (moto runs no Lambda code).
CUSTOM_RESOURCE_ANSWERS: dict[str, dict[str, Any]] = {
    "Custom::StudioTeardown": {"S3PrefixListId": "pl-63a5400a"},
}


class RehearsalFailed(RuntimeError):
    """A step ended with an unexpected result."""


# ---------------------------------------------------------------------------------------------
# The simulator: moto's server in this process, with the bridges
# ---------------------------------------------------------------------------------------------


@dataclass
class CustomResourceEvent:
    request_type: str
    stack_name: str
    logical_id: str
    resource_type: str


class Simulator:
    """moto's ThreadedMotoServer on 127.0.0.1:<free port> plus the bridges, as a context manager."""

    def __init__(self, *, lifetime_s: float = 900.0) -> None:
        self.lifetime_s = lifetime_s
        self.endpoint = ""
        self.custom_resource_events: list[CustomResourceEvent] = []
        self.template_urls: list[str] = []
        self.placeholder_types: set[str] = set()
        self.refusals: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.bridged_deletes: list[str] = []
        self.updates_not_applied: list[tuple[str, str]] = []
        self.executed_changes: dict[str, list[dict[str, str]]] = {}
        """Stack name -> the Add/Modify/Remove actions of each change set executed, in order."""
        self._server: Any = None
        self._timer: threading.Timer | None = None
        self._patches = contextlib.ExitStack()
        self._stopped = threading.Event()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend
        from moto.server import ThreadedMotoServer

        moto_api_backend.reset()  # moto's state is per process: nothing of an earlier simulator stays
        self._install_bridges()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._timer = threading.Timer(self.lifetime_s, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        print(f"rehearsal: simulator lifetime of {self.lifetime_s:.0f} s reached, stopping it", flush=True)
        self.stop()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop()
        self._patches.close()

    # -- bridges ------------------------------------------------------------------------------

    def _install_bridges(self) -> None:
        from moto.cloudformation import custom_model
        from moto.cloudformation.exceptions import ValidationError

        ChangeSetNotFound = _change_set_not_found()  # noqa: N806 - an exception class
        from moto.cloudformation.responses import CloudFormationResponse

        simulator = self

        # 1. TemplateURL on the regional S3 host.
        def get_stack_from_s3_url(response: Any, template_url: str) -> str:
            simulator.template_urls.append(template_url)
            bucket, key = _bucket_and_key(template_url)
            from moto.s3.models import s3_backends

            obj = s3_backends[response.current_account][response.partition].get_object(bucket, key)
            return obj.value.decode("utf-8")

        self._patches.enter_context(
            mock.patch.object(CloudFormationResponse, "_get_stack_from_s3_url", get_stack_from_s3_url)
        )

        # 2. Custom resources answered inline (moto would invoke the Lambda in Docker).
        self._patches.enter_context(
            mock.patch.object(custom_model.settings, "moto_server_host", lambda: "http://127.0.0.1")
        )
        inline = types.SimpleNamespace(
            Thread=lambda target, args=(), kwargs=None, **_: _InlineAnswer(simulator, tuple(args))
        )
        self._patches.enter_context(mock.patch.object(custom_model, "threading", inline))

        # 3. Types moto has no CloudFormation model for become placeholders (Ref and Fn::GetAtt
        #    resolve) instead of undefined resources; untyped custom resources are custom resources.
        from moto.cloudformation import parsing

        original = parsing.resource_class_from_type

        class AnsweredCustomResource:
            """moto's custom resource model, which drops the resource on update: answer the Update
            instead. (Not a subclass: moto registers every subclass of its models.)"""

            create_from_cloudformation_json = custom_model.CustomModel.create_from_cloudformation_json
            has_cfn_attr = custom_model.CustomModel.has_cfn_attr
            delete_from_cloudformation_json = custom_model.CustomModel.delete_from_cloudformation_json

            @classmethod
            def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                                cloudformation_json: Any, account_id: str, region_name: str) -> Any:
                simulator._custom_resource_event("Update", original_resource)
                return original_resource

        def resource_class_from_type(resource_type: str) -> Any:
            if resource_type == "AWS::CloudFormation::CustomResource" or resource_type.startswith("Custom::"):
                return AnsweredCustomResource
            found = original(resource_type)
            if found is None and resource_type not in parsing.NULL_MODELS:
                simulator.placeholder_types.add(resource_type)
                return Placeholder
            return found

        self._patches.enter_context(mock.patch.object(parsing, "resource_class_from_type", resource_class_from_type))
        self._patches.enter_context(mock.patch.object(parsing.logger, "disabled", True))

        # 6. UsePreviousValue on an SSM-typed parameter (the CLI passes BootstrapVersion so on every
        #    update): moto hands back the value it resolved, then looks that value up as a parameter
        #    name. CloudFormation keeps the name and resolves it again.
        original_ssm = parsing.ResourceMap.parse_ssm_parameter

        def parse_ssm_parameter(resource_map: Any, value: str, value_type: str) -> Any:
            from moto.ssm.models import ssm_backends

            ssm = ssm_backends[resource_map._account_id][resource_map._region_name]
            if isinstance(value, str) and not value.startswith("/") and ssm.get_parameter(value) is None:
                return value.split(",") if "List" in value_type else value
            return original_ssm(resource_map, value, value_type)

        self._patches.enter_context(mock.patch.object(parsing.ResourceMap, "parse_ssm_parameter", parse_ssm_parameter))

        # 7. Deletes moto's CloudFormation does not implement (it skips them silently, and a role
        #    with a managed policy still attached, or a VPC with its route tables, then fails the
        #    stack's deletion): done with moto's own backends, as CloudFormation's handlers would.
        original_delete_resource = parsing.ResourceMap._delete_resource

        def delete_resource(resource_map: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
            resource_type = resource_json.get("Type", "")
            if isinstance(parsed_resource, custom_model.CustomModel):
                simulator._custom_resource_event("Delete", parsed_resource)  # moto sends none
                return
            deleter = _BRIDGED_DELETES.get(resource_type)
            if deleter is None:
                original_delete_resource(resource_map, parsed_resource, resource_json)
                return
            deleter(parsed_resource, resource_map._account_id, resource_map._region_name)
            simulator.bridged_deletes.append(resource_type)

        self._patches.enter_context(mock.patch.object(parsing.ResourceMap, "_delete_resource", delete_resource))

        # 9. An endpoint configuration for inference components has variants without a ModelName
        #    (the components name the models); moto's check looks every variant's model up and
        #    fails with a KeyError. Variants that name a model are still checked.
        from moto.sagemaker.models import SageMakerModelBackend

        original_validate = SageMakerModelBackend.validate_production_variants

        def validate_production_variants(backend: Any, production_variants: list[dict[str, Any]]) -> None:
            original_validate(backend, [v for v in production_variants if "ModelName" in v])

        self._patches.enter_context(mock.patch.object(
            SageMakerModelBackend, "validate_production_variants", validate_production_variants))

        # 8. Updates moto's CloudFormation does not implement: moto forgets the resource (so it is
        #    never deleted, e.g. a managed policy left attached to a role fails the role's deletion).
        #    The rehearsal keeps the resource as it was, and records that the change was not applied.
        original_update = parsing.parse_and_update_resource

        def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                                      account_id: str, region_name: str) -> Any:
            updated = original_update(logical_id, resource_json, resources_map, account_id, region_name)
            if updated is None and logical_id in resources_map._parsed_resources:
                simulator.updates_not_applied.append((logical_id, resource_json.get("Type", "?")))
                return resources_map._parsed_resources[logical_id]
            return updated

        self._patches.enter_context(mock.patch.object(parsing, "parse_and_update_resource", parse_and_update_resource))

        # 4. Change sets: moto's ExecuteChangeSet neither publishes the stack's exports nor re-reads
        #    its outputs after an update, nor refuses to drop an export another stack imports.
        from moto.cloudformation.models import CloudFormationBackend

        original_execute = CloudFormationBackend.execute_change_set
        original_delete = CloudFormationBackend.delete_stack

        def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
            change_set = backend.describe_change_set(change_set_name)
            stack = backend.stacks[change_set.stack_id]
            simulator.executed_changes.setdefault(stack.name, []).append(
                {c.logical_resource_id: c.action for c in change_set.changes})
            stack.cross_stack_resources = stack.resource_map.cross_stack_resources = backend.exports
            refusal = None
            if change_set.change_set_type == "UPDATE":
                refusal = _export_refusal(backend, stack, change_set.template_dict)
            if refusal:
                stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
                stack._add_stack_event("UPDATE_FAILED", resource_status_reason=refusal)
                stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=refusal)
                stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
                stack.status = "UPDATE_ROLLBACK_COMPLETE"
                change_set.execution_status = "EXECUTE_FAILED"
                simulator.refusals.append((stack.name, refusal))
                return
            old_exports = {e.name: e.value for e in backend.exports.values() if e.exporting_stack_id == stack.stack_id}
            try:
                original_execute(backend, change_set_name, stack_name)
            except Exception as exc:  # noqa: BLE001 - the stack fails, as CloudFormation's would
                # Not raised: a 500 makes the CLI's SDK retry ExecuteChangeSet, and moto, which had
                # already taken the new template, then "completes" the stack with the resources
                # after the failed one never created. The stack fails and rolls back instead.
                simulator.errors.append(f"ExecuteChangeSet {stack.name}:\n{traceback.format_exc()}")
                reason = f"{type(exc).__name__}: {exc}"[:400]
                kind = change_set.change_set_type
                stack._add_stack_event(f"{kind}_FAILED", resource_status_reason=reason)
                stack._add_stack_event("ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE")
                stack.status = "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
                change_set.execution_status = "EXECUTE_FAILED"
                return
            stack._parse_template()
            stack.output_map = stack._create_output_map()
            for name in old_exports:
                backend.exports.pop(name, None)
            for export in stack.exports:
                backend.exports[export.name] = export
            changed = [e.name for e in stack.exports if e.name in old_exports and old_exports[e.name] != e.value
                       and _importers(backend, e.name, but=stack.stack_id)]
            if changed:
                simulator.refusals.append(
                    (stack.name, f"moto updated the imported exports {changed}, CloudFormation would refuse"))

        def delete_stack(backend: Any, name_or_stack_id: str) -> None:
            stack = next((s for s in backend.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None)
            if stack is not None:
                for export in stack.exports:
                    users = _importers(backend, export.name, but=stack.stack_id)
                    if users:
                        raise ValidationError(
                            f"Export {export.name} cannot be deleted as it is in use by {', '.join(users)}")
            try:
                original_delete(backend, name_or_stack_id)
            except Exception:
                simulator.errors.append(f"DeleteStack {name_or_stack_id}:\n{traceback.format_exc()}")
                raise

        self._patches.enter_context(mock.patch.object(CloudFormationBackend, "execute_change_set", execute_change_set))

        # 5. Change sets are per stack: moto looks a change set name up across all stacks (the CLI
        #    names every stack's change set "cdk-deploy-change-set"), answers a missing one with a
        #    ValidationError (or a 500) instead of ChangeSetNotFound, and keeps executed ones.
        from moto.core.responses import EmptyResult

        def resolve_change_set(response: Any) -> str | None:
            name = response._get_param("ChangeSetName")
            stack = response._get_param("StackName")
            backend = response.cloudformation_backend
            if name in backend.change_sets:
                return name
            for change_set_id, change_set in backend.change_sets.items():
                if change_set.change_set_name == name and (not stack or stack in (change_set.stack_name,
                                                                                   change_set.stack_id)):
                    return change_set_id
            return None

        def describe_change_set(response: Any) -> Any:
            found = resolve_change_set(response)
            if found is None:
                raise ChangeSetNotFound(response._get_param("ChangeSetName"))
            return original_describe_response(response, found)

        def delete_change_set(response: Any) -> Any:
            found = resolve_change_set(response)
            if found is not None:
                response.cloudformation_backend.change_sets.pop(found)
            return EmptyResult()

        def execute_change_set_response(response: Any) -> Any:
            found = resolve_change_set(response)
            if found is None:
                raise ChangeSetNotFound(response._get_param("ChangeSetName"))
            backend = response.cloudformation_backend
            stack_id = backend.change_sets[found].stack_id
            backend.execute_change_set(change_set_name=found)
            for change_set_id in [k for k, v in backend.change_sets.items() if v.stack_id == stack_id]:
                backend.change_sets.pop(change_set_id)  # CloudFormation removes a stack's change sets
            return EmptyResult()

        def original_describe_response(response: Any, change_set_id: str) -> Any:
            with mock.patch.object(response, "_get_param", lambda key, default=None: (
                    change_set_id if key == "ChangeSetName" else CloudFormationResponse._get_param(
                        response, key, default))):
                return original_describe(response)

        original_describe = CloudFormationResponse.describe_change_set
        for attribute, replacement in (("describe_change_set", describe_change_set),
                                       ("delete_change_set", delete_change_set),
                                       ("execute_change_set", execute_change_set_response)):
            self._patches.enter_context(mock.patch.object(CloudFormationResponse, attribute, replacement))
        self._patches.enter_context(mock.patch.object(CloudFormationBackend, "delete_stack", delete_stack))


    def _custom_resource_event(self, request_type: str, resource: Any) -> None:
        """Record a custom resource request CloudFormation would send (and this rehearsal answers
        with SUCCESS)."""
        from moto.cloudformation import cloudformation_backends

        stack_name = "?"
        for regions in list(cloudformation_backends.values()):
            for stack in regions[REGION].stacks.values():
                if stack.custom_resources.get(resource.logical_id) is resource:
                    stack_name = stack.name
        self.custom_resource_events.append(CustomResourceEvent(
            request_type, stack_name, resource.logical_id, getattr(resource, "cf_resource_type", "?")))


def _bucket_and_key(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 object URL: ``s3://b/k``, path style ``https://s3[.<region>].
    amazonaws.com/b/k`` or ``http://127.0.0.1:<port>/b/k``, virtual host ``https://b.s3[.<region>].
    amazonaws.com/k``."""
    parts = urlparse(url)
    path = parts.path.lstrip("/")
    host = parts.netloc.split(":")[0]
    if parts.scheme == "s3":
        return host, path
    if host.startswith("s3.") or host.startswith("s3-") or host in ("127.0.0.1", "localhost"):
        bucket, key = path.split("/", 1)
        return bucket, key
    marker = ".s3."
    if marker in host:
        return host.split(marker, 1)[0], path
    bucket, key = path.split("/", 1)
    return bucket, key


def _import_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue" and isinstance(value, str):
                yield value
            else:
                yield from _import_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _import_names(value)


def _importers(backend: Any, export_name: str, *, but: str) -> list[str]:
    """Names of the live stacks (other than ``but``) whose template imports ``export_name``."""
    return sorted(
        stack.name for stack in backend.stacks.values()
        if stack.stack_id != but and not stack.status.startswith("DELETE")
        and export_name in set(_import_names(stack.template_dict.get("Resources", {})))
    )


def _export_refusal(backend: Any, stack: Any, new_template: Mapping[str, Any]) -> str | None:
    """CloudFormation's reason to refuse an update that removes or rewrites an export another stack
    imports, or None."""
    old_outputs = stack.template_dict.get("Outputs") or {}
    new_by_name = {
        o["Export"]["Name"]: o.get("Value") for o in (new_template.get("Outputs") or {}).values()
        if isinstance(o.get("Export", {}).get("Name"), str)
    }
    for output in old_outputs.values():
        name = output.get("Export", {}).get("Name")
        if not isinstance(name, str):
            continue
        users = _importers(backend, name, but=stack.stack_id)
        if not users:
            continue
        if name not in new_by_name:
            return f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
        if new_by_name[name] != output.get("Value"):
            return f"Export {name} cannot be updated as it is in use by {', '.join(users)}"
    return None


def _delete_managed_policy(policy: Any, account_id: str, region: str) -> None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    for holder in [*backend.roles.values(), *backend.users.values(), *backend.groups.values()]:
        if policy.arn in holder.managed_policies:
            policy.detach_from(holder)
    backend.managed_policies.pop(policy.arn, None)


def _delete_route_table(table: Any, account_id: str, region: str) -> None:
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region]
    found = backend.route_tables.get(table.id)
    if found is not None:
        found._associations.clear()  # the associations are the table's own resources
        backend.route_tables.pop(table.id)


def _delete_association(association: Any, account_id: str, region: str) -> None:
    from moto.ec2.models import ec2_backends

    table = ec2_backends[account_id][region].route_tables.get(association.route_table_id)
    if table is not None:
        for association_id, subnet in list(table._associations.items()):
            if subnet == association.subnet_id:
                table._associations.pop(association_id)


def _delete_vpc_endpoint(endpoint: Any, account_id: str, region: str) -> None:
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region]
    found = backend.vpc_end_points.pop(endpoint.id, None)  # moto's own delete only marks it "deleted"
    if found is None:
        return
    for eni_id in getattr(found, "network_interface_ids", None) or []:
        backend.enis.pop(eni_id, None)
    for table_id in getattr(found, "route_table_ids", None) or []:  # a gateway endpoint's routes
        table = backend.route_tables.get(table_id)  # moto deletes in no particular order
        prefix_list = getattr(found, "destination_prefix_list_id", None)
        if table is not None and prefix_list:
            for route_id in [k for k in table._routes if k.endswith(prefix_list)]:
                table._routes.pop(route_id)


def _delete_flow_log(flow_log: Any, account_id: str, region: str) -> None:
    from moto.ec2.models import ec2_backends

    ec2_backends[account_id][region].delete_flow_logs([flow_log.id])


def _deleted_with_its_group(rule: Any, account_id: str, region: str) -> None:
    return None  # an AWS::EC2::SecurityGroupIngress goes with its security group


#: Types moto 5.2.5 creates through CloudFormation but never deletes with the stack, and how the
#: rehearsal deletes them instead (bridge 7).
_BRIDGED_DELETES: dict[str, Any] = {
    "AWS::IAM::ManagedPolicy": _delete_managed_policy,
    "AWS::EC2::RouteTable": _delete_route_table,
    "AWS::EC2::SubnetRouteTableAssociation": _delete_association,
    "AWS::EC2::VPCEndpoint": _delete_vpc_endpoint,
    "AWS::EC2::FlowLog": _delete_flow_log,
    "AWS::EC2::SecurityGroupIngress": _deleted_with_its_group,
}


def _change_set_not_found() -> type[Exception]:
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFoundError(CloudFormationError):
        code = "ChangeSetNotFoundException"  # the model shape; serialized as ChangeSetNotFound, 404

        def __init__(self, name: str) -> None:
            super().__init__(f"ChangeSet [{name}] does not exist")

    return ChangeSetNotFoundError


class Placeholder:
    """Stands in for a resource of a type moto has no CloudFormation model for: it is "created",
    updated and deleted without doing anything; ``Ref`` gives a name, ``Fn::GetAtt`` a name or an
    ARN (attributes ending in ``Arn``: ``arn:aws:<service>:<region>:<account>:<type>/<name>``)
    derived from the logical id."""

    cf_resource_type = "?"
    logical_resource_id = "?"

    def __init__(self, name: str, resource_type: str, region: str, account_id: str) -> None:
        self.physical_resource_id = name
        self.resource_type = resource_type
        self.region = region
        self.account_id = account_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Placeholder:
        return cls(f"rehearsal-{kwargs['LogicalId'].lower()}", kwargs["ResourceType"], region_name, account_id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        return None

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        name = f"{self.physical_resource_id}-{attribute_name.lower()}"
        if attribute_name.endswith("Arn"):  # resource-shaped, so that Fn::Split on "/" works
            _, service, kind = (self.resource_type.split("::") + ["", ""])[:3]
            return f"arn:aws:{service.lower()}:{self.region}:{self.account_id}:{kind.lower()}/{name}"
        return name

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        return None


class _InlineAnswer:
    """Stands in for the thread moto starts to invoke a custom resource's ServiceToken Lambda."""

    def __init__(self, simulator: Simulator, args: tuple[Any, ...]) -> None:
        self._simulator = simulator
        self._args = args

    def start(self) -> None:
        from moto.cloudformation import cloudformation_backends

        event = json.loads(self._args[0])
        stack_id = event["StackId"]
        region = stack_id.split(":")[3]
        account = stack_id.split(":")[4]
        stack = cloudformation_backends[account][region].get_stack(stack_id)
        data = dict(CUSTOM_RESOURCE_ANSWERS.get(event["ResourceType"], {}))
        stack.get_custom_resource(event["LogicalResourceId"]).set_data(data)
        self._simulator.custom_resource_events.append(
            CustomResourceEvent(event["RequestType"], stack.name, event["LogicalResourceId"], event["ResourceType"])
        )

    def join(self, timeout: float | None = None) -> None:
        return None


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    output: str
    seconds: float


class Cli:
    """The pinned CDK CLI (node_modules/.bin/cdk) on Node from the virtualenv, offline, against
    the simulator."""

    def __init__(self, endpoint: str, workdir: Path, *, timeout_s: float = 300.0) -> None:
        self.workdir = workdir
        self.timeout_s = timeout_s
        venv_bin = Path(sys.executable).parent
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))
        }
        self.env.update({
            "PATH": os.pathsep.join([str(venv_bin), str(REPO / "node_modules" / ".bin"), os.environ.get("PATH", "")]),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(workdir / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials"),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_HOME": str(workdir / "cdk-home"),
            "CDK_VALIDATION": "false",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "CI": "true",
        })
        self.executable = str(REPO / "node_modules" / ".bin" / "cdk")

    def run(self, *args: str, cwd: Path | None = None, timeout_s: float | None = None,
            env: Mapping[str, str] | None = None) -> CliResult:
        """Run the CLI in ``cwd`` (default: the work directory, never the checkout: the CLI writes
        what its context lookups answered, from the simulator, into cdk.context.json there);
        ``env``: variables to set on top (another account's credentials)."""
        started = time.monotonic()
        timeout_s = timeout_s or self.timeout_s
        try:
            proc = subprocess.run(
                [self.executable, *args], cwd=cwd or self.workdir, env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s,
            )
            returncode, output = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired as exc:
            returncode = -1
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            output += f"\n(timed out after {timeout_s:.0f} s)"
        return CliResult(list(args), returncode, output, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------
# The rehearsal
# ---------------------------------------------------------------------------------------------

#: The update step's change, applied to cdk.json's platform context: the canary off, a larger
#: instance type for the real-time and multi-model endpoints, and a third Studio user.
DEFAULT_UPDATE: dict[str, Any] = {
    "inference_canary": False,
    "inference_instance_type": "ml.m5.xlarge",
    "studio_users": ["data-scientist", "ml-engineer", "analyst"],
}

#: Resource types whose presence in the simulator the destroy step checks (the stateful ones of the
#: retention table that moto models, and a few stateless ones to see what moto leaves behind).
CHECKED_TYPES = (
    "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::SNS::Topic",
    "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::EC2::VPC", "AWS::EC2::SecurityGroup",
    "AWS::SageMaker::Endpoint", "AWS::SageMaker::Model",
)


@dataclass
class Row:
    """One line of the summary table."""

    stack: str
    action: str
    result: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: dict[str, Any] = field(default_factory=dict)
    """Machine-readable result of each step (the test asserts on these)."""

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = "ok" if row.ok else "UNEXPECTED"
        print(f"rehearsal: {row.action:<10} {row.stack:<24} {row.result} ({row.seconds:.1f} s) [{mark}]"
              + (f" {row.detail}" if row.detail else ""), flush=True)

    def table(self) -> str:
        lines = [f"{'stack':<24} {'action':<12} {'result':<40} {'seconds':>8}", "-" * 87]
        for row in self.rows:
            result = row.result if row.ok else f"{row.result} (UNEXPECTED)"
            lines.append(f"{row.stack:<24} {row.action:<12} {result:<40} {row.seconds:>8.1f}")
        return "\n".join(lines)


@dataclass(frozen=True)
class StackInfo:
    """A stack of the assembly (nested stage assemblies included) as the rehearsal deploys it."""

    name: str
    """Its CloudFormation stack name (the review report's and the summary's name)."""
    display: str
    """What the CLI selects it by (``SageMakerDelivery/Delivery/Dev/Serving`` for a stage's stack)."""
    artifact: str
    account: str
    """The simulator's account it goes to: its pinned account, else the rehearsal's."""
    region: str
    template_file: Path
    top_level: bool
    dependencies: tuple[str, ...] = ()


def _stack_infos(assembly: Path, *, top_level: bool = True) -> list[StackInfo]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    found: list[StackInfo] = []
    nested: list[StackInfo] = []
    for artifact_id, artifact in manifest["artifacts"].items():
        props = artifact.get("properties") or {}
        if artifact["type"] == "cdk:cloud-assembly" and props.get("directoryName"):
            nested.extend(_stack_infos(assembly / props["directoryName"], top_level=False))
            continue
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        account, region = (artifact.get("environment") or "aws://unknown-account/unknown-region")[6:].split("/")
        found.append(StackInfo(
            name=props.get("stackName") or artifact.get("displayName") or artifact_id,
            display=artifact.get("displayName") or artifact_id, artifact=artifact_id,
            account=ACCOUNT_ID if account == "unknown-account" else account,
            region=REGION if region == "unknown-region" else region,
            template_file=assembly / props.get("templateFile", f"{artifact_id}.template.json"),
            top_level=top_level, dependencies=tuple(artifact.get("dependencies") or ())))
    by_artifact = {info.artifact: info for info in found}
    order: list[StackInfo] = []

    def visit(info: StackInfo) -> None:
        if info in order:
            return
        for dep in info.dependencies:
            if dep in by_artifact:
                visit(by_artifact[dep])
        order.append(info)

    for info in sorted(found, key=lambda i: i.artifact):
        visit(info)
    return order + nested


def stacks_of(assembly: Path, only: Sequence[str] | None = None) -> list[StackInfo]:
    """The stacks the rehearsal deploys, in dependency order (producers first; the stages' stacks of
    nested assemblies after the top-level ones): every stack of the rehearsal's region, whatever
    its account (the simulator holds several accounts), or only those named in ``only``."""
    return [i for i in _stack_infos(assembly) if i.region == REGION and (only is None or i.name in only
                                                                            or i.display in only)]


def skipped_stacks(assembly: Path) -> dict[str, str]:
    """Stacks of the assembly the rehearsal leaves out (another region): name -> environment."""
    return {i.name: f"aws://{i.account}/{i.region}" for i in _stack_infos(assembly) if i.region != REGION}


def _stack_order(assembly: Path, only: Sequence[str] | None = None) -> list[str]:
    """Stack names of a cloud assembly in dependency order (producers first)."""
    return [i.name for i in stacks_of(assembly, only)]


def _template(assembly: Path, stack: str) -> dict[str, Any]:
    info = next(i for i in _stack_infos(assembly) if stack in (i.name, i.display))
    return json.loads(info.template_file.read_text())


def _per_stack_seconds(output: str) -> dict[str, float]:
    """'✨  Deployment time: 1.83s' after each '✅  <stack>' line of the CLI's output."""
    found: dict[str, float] = {}
    current = None
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("✅"):
            current = text.lstrip("✅").strip().split(":")[0].split()[0]  # the display name
        elif current and "Deployment time:" in text:
            with contextlib.suppress(ValueError):
                found[current] = float(text.rsplit(":", 1)[1].strip().rstrip("s"))
            current = None
    return found


class Rehearsal:
    """The four steps against one simulator; each step adds rows to :attr:`report`."""

    def __init__(self, simulator: Simulator, workdir: Path, *, stacks: Sequence[str] | None = None,
                 timeout_s: float = 300.0) -> None:
        self.simulator = simulator
        self.workdir = workdir
        self.only = list(stacks) if stacks else None
        self.cli = Cli(simulator.endpoint, workdir, timeout_s=timeout_s)
        self.synth_timeout_s = 900.0
        self.report = Report()
        self._account_of: dict[str, str] = {}
        """Stack name -> the simulator's account holding it."""
        self._credentials: dict[str, dict[str, str]] = {ACCOUNT_ID: {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}}
        self._clients: dict[tuple[str, str], Any] = {}

    # -- helpers ------------------------------------------------------------------------------

    def credentials(self, account: str) -> dict[str, str]:
        """Environment variables with credentials of ``account`` in the simulator: the default ones
        for the rehearsal's account; for another, STS AssumeRole into it (bridge 10: moto maps
        assumed-role credentials to the role's account and does not require the role to exist)."""
        if account not in self._credentials:
            found = self.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/rehearsal-administrator",
                RoleSessionName="cli-rehearsal")["Credentials"]
            self._credentials[account] = {"AWS_ACCESS_KEY_ID": found["AccessKeyId"],
                                          "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
                                          "AWS_SESSION_TOKEN": found["SessionToken"]}
        return self._credentials[account]

    def client(self, service: str, account: str = ACCOUNT_ID) -> Any:
        if (service, account) not in self._clients:
            import boto3
            from botocore.config import Config

            creds = self.credentials(account) if account != ACCOUNT_ID else self._credentials[ACCOUNT_ID]
            session = boto3.Session(aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                                    aws_session_token=creds.get("AWS_SESSION_TOKEN"), region_name=REGION)
            self._clients[(service, account)] = session.client(
                service, endpoint_url=self.simulator.endpoint, config=Config(retries={"max_attempts": 1}))
        return self._clients[(service, account)]

    def stacks(self, assembly: Path) -> list[StackInfo]:
        infos = stacks_of(assembly, self.only)
        self._account_of.update({i.name: i.account for i in infos})
        return infos

    def _selections(self, assembly: Path) -> list[list[str]]:
        """The CLI's stack arguments, one list per command: ``--all`` (the top-level stacks) and,
        when the assembly has stage stacks (which ``--all`` leaves to the pipeline), a second
        command selecting exactly those; with a subset asked for, its names (dependencies first)."""
        infos = self.stacks(assembly)
        if self.only is not None:
            return [["--app", str(assembly), "--exclusively", *[i.display for i in infos]]]
        runs = [["--app", str(assembly), "--all"]]
        staged = [i.display for i in infos if not i.top_level]
        if staged:
            runs.append(["--app", str(assembly), "--exclusively", *staged])
        return runs

    def _cli_all(self, command: str, runs: list[list[str]], *extra: str) -> CliResult:
        """Each selection's command in turn; one result (first failing exit status, summed time)."""
        results = [self.cli.run(command, *args, *extra) for args in runs]
        failed = [r.returncode for r in results if r.returncode != 0]
        return CliResult([a for r in results for a in r.args], failed[0] if failed else 0,
                         "\n".join(r.output for r in results), sum(r.seconds for r in results))

    def stack_status(self, name: str) -> str:
        account = self._account_of.get(name, ACCOUNT_ID)
        try:
            return self.client("cloudformation", account).describe_stacks(
                StackName=name)["Stacks"][0]["StackStatus"]
        except Exception as exc:  # noqa: BLE001 - the simulator's own error text is the result
            if "does not exist" in str(exc):
                return "DOES_NOT_EXIST"
            raise

    def _moto_stack(self, name: str) -> Any:
        from moto.cloudformation import cloudformation_backends

        account = self._account_of.get(name, ACCOUNT_ID)
        backend = cloudformation_backends[account][REGION]
        return next((s for s in backend.stacks.values() if s.name == name), None)

    def physical_ids(self, name: str) -> dict[str, tuple[str, str | None]]:
        """logical id -> (type, physical id) of a deployed stack (moto's own view)."""
        stack = self._moto_stack(name)
        found: dict[str, tuple[str, str | None]] = {}
        if stack is None:
            return found
        for logical_id, resource in stack.resource_map._parsed_resources.items():
            if logical_id.startswith("AWS::") or resource is None or isinstance(resource, str):
                continue
            found[logical_id] = (stack.template_dict["Resources"].get(logical_id, {}).get("Type", "?"),
                                 getattr(resource, "physical_resource_id", None))
        return found

    def not_created(self, name: str) -> list[str]:
        """Logical ids of a deployed stack's template that moto holds no resource for (a stack
        "complete" with resources missing is a failure of the rehearsal, never a pass)."""
        from moto.cloudformation.parsing import NULL_MODELS

        stack = self._moto_stack(name)
        if stack is None:
            return []
        parsed = stack.resource_map._parsed_resources
        missing = []
        for logical_id, spec in (stack.template_dict.get("Resources") or {}).items():
            if spec.get("Type") in NULL_MODELS:
                continue
            condition = spec.get("Condition")
            if condition:
                with contextlib.suppress(Exception):
                    if not stack.resource_map.lazy_condition_map[condition]:
                        continue
            if parsed.get(logical_id) is None:
                missing.append(logical_id)
        return sorted(missing)

    def _seconds(self, assembly: Path, output: str) -> dict[str, float]:
        by_display = {i.display: i.name for i in self.stacks(assembly)}
        return {by_display.get(k, k): v for k, v in _per_stack_seconds(output).items()}

    # -- steps --------------------------------------------------------------------------------

    def synth(self, label: str, *, context: Mapping[str, Any] | None = None, app: Path | None = None,
              compliance: bool = True) -> Path:
        """``cdk synth`` of the reference app into ``<workdir>/<label>.out``; with ``context``, from
        a copy of cdk.json whose platform settings are updated with it; with ``app``, that app file
        instead of app.py."""
        out = self.workdir / f"{label}.out"
        # Always from a copy of cdk.json in the work directory: the checkout stays untouched.
        cwd = self.workdir / f"{label}-app"
        cwd.mkdir(exist_ok=True)
        cdk_json = json.loads((REPO / "cdk.json").read_text())
        cdk_json["context"][CONTEXT_KEY] = {**cdk_json["context"].get(CONTEXT_KEY, {}), **(context or {})}
        cdk_json["app"] = f"{sys.executable} {app or REPO / 'app.py'}"
        (cwd / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
        args = ["synth", "--quiet", "--output", str(out)]
        if not compliance:
            args += ["--context", "sagemaker-constructs:compliance=false"]
        result = self.cli.run(*args, cwd=cwd, timeout_s=max(self.synth_timeout_s, self.cli.timeout_s))
        ok = result.returncode == 0
        self.report.add(Row("(app)", "synth", f"{label}: exit {result.returncode}", result.seconds, ok,
                            "" if ok else result.output[-2000:]))
        if not ok:
            raise RehearsalFailed(f"cdk synth ({label}) failed:\n{result.output[-4000:]}")
        return out

    def bootstrap(self, assembly: Path) -> None:
        """``cdk bootstrap`` of every account the selected stacks go to (the rehearsal's first)."""
        accounts = sorted({i.account for i in self.stacks(assembly)} | {ACCOUNT_ID}, key=lambda a: (a != ACCOUNT_ID, a))
        statuses: dict[str, str] = {}
        failed: list[str] = []
        for account in accounts:
            env = None if account == ACCOUNT_ID else self.credentials(account)
            result = self.cli.run("bootstrap", f"aws://{account}/{REGION}", "--app", str(assembly), env=env)
            status = self.client("cloudformation", account).describe_stacks(
                StackName="CDKToolkit")["Stacks"][0]["StackStatus"] if result.returncode == 0 else "FAILED"
            statuses[account] = status
            ok = result.returncode == 0 and status == "CREATE_COMPLETE"
            label = "CDKToolkit" if account == ACCOUNT_ID else f"CDKToolkit {account}"
            self.report.add(Row(label, "bootstrap", status, result.seconds, ok, "" if ok else result.output[-2000:]))
            if not ok:
                failed.append(f"cdk bootstrap aws://{account}/{REGION} failed:\n{result.output[-4000:]}")
        self.report.steps["bootstrap"] = {"status": statuses[ACCOUNT_ID], "accounts": statuses}
        if failed:
            raise RehearsalFailed("\n".join(failed))

    def deploy(self, assembly: Path) -> None:
        """Step 1: every stack CREATE_COMPLETE, producers before consumers."""
        infos = self.stacks(assembly)
        names = [i.name for i in infos]
        result = self._cli_all("deploy", self._selections(assembly), "--require-approval", "never",
                               "--progress", "events")
        seconds = self._seconds(assembly, result.output)
        statuses = {name: self.stack_status(name) for name in names}
        created = {name: stack.creation_time for name in names if (stack := self._moto_stack(name)) is not None}
        by_artifact = {i.artifact: i.name for i in infos}
        order_ok = True
        for info in infos:
            for dep in info.dependencies:
                dep_name = by_artifact.get(dep)
                if dep_name in created and info.name in created and created[dep_name] > created[info.name]:
                    order_ok = False
                    self.report.notes.append(f"{info.name} was created before {dep_name}, which it depends on")
        missing = {name: self.not_created(name) for name in names}
        for info in infos:
            name = info.name
            ok = statuses[name] == "CREATE_COMPLETE" and order_ok and not missing[name]
            detail = f"account {info.account}" if info.account != ACCOUNT_ID else ""
            if missing[name]:
                detail += f" {len(missing[name])} resource(s) not created: {missing[name][:5]}"
            self.report.add(Row(name, "deploy", statuses[name], seconds.get(name, result.seconds), ok, detail.strip()))
        self.report.steps["deploy"] = {"returncode": result.returncode, "statuses": statuses,
                                       "accounts": {i.name: i.account for i in infos},
                                       "not_created": missing,
                                       "order": sorted(created, key=lambda n: created[n]),
                                       "dependency_order_respected": order_ok}
        self.report.add(Row("(all)", "deploy", f"exit {result.returncode} ({len(names)} stacks, "
                            f"{len(self._selections(assembly))} command(s))", result.seconds,
                            result.returncode == 0, "" if result.returncode == 0 else result.output[-3000:]))

    def diff(self, assembly: Path) -> None:
        """Step 2: ``cdk diff --fail`` against the deployed stacks finds nothing."""
        result = self._cli_all("diff", self._selections(assembly), "--fail")
        differences = result.output.count("There were no differences") if result.returncode == 0 else 0
        names = _stack_order(assembly, self.only)
        ok = result.returncode == 0 and differences == len(names)
        summary = "no differences" if ok else f"exit {result.returncode}"
        self.report.add(Row(",".join(names) if len(names) < 2 else "(all)", "diff", summary, result.seconds, ok,
                            f"{differences} of {len(names)} stacks without differences" if ok
                            else result.output[-3000:]))
        self.report.steps["diff"] = {"returncode": result.returncode, "no_differences": ok,
                                     "stacks_without_differences": differences, "output": result.output[-3000:]}

    def gate(self, base: Path, head: Path, *, label: str, fail_on: str = "replacement") -> list[str]:
        """The review gate before a deploy: what ``--fail-on <fail_on>`` reports for base -> head
        (an empty list: the change may be deployed)."""
        from sagemaker_constructs.review import compare_assemblies
        from sagemaker_constructs.review.report import parse_fail_on

        review = compare_assemblies(base, head, cost=False)
        failures, _ = review.failures(parse_fail_on(fail_on))
        replacements = [r.to_dict() for r in review.replacements]
        self.report.steps.setdefault("gates", {})[label] = {"failures": failures, "replacements": replacements}
        return failures

    def refuse(self, base: Path, head: Path, *, label: str) -> None:
        """The deliberately broken change: the review gate must report it and it is not deployed."""
        started = time.monotonic()
        failures = self.gate(base, head, label=label)
        names = _stack_order(head, self.only)
        statuses = {name: self.stack_status(name) for name in names}
        ok = bool(failures) and set(statuses.values()) == {"CREATE_COMPLETE"}
        result = f"not deployed: {failures[0]}" if failures else "the review gate let it through"
        self.report.add(Row("(all)", f"gate:{label}"[:12], result[:60], time.monotonic() - started, ok,
                            "; ".join(failures[:3])))
        self.report.steps["gates"][label]["statuses_after"] = statuses

    def update(self, base: Path, head: Path) -> None:
        """Step 3: review ``base`` -> ``head``, deploy ``head``, compare what moto did."""
        from sagemaker_constructs.review import compare_assemblies

        started = time.monotonic()
        review = compare_assemblies(base, head, cost=False)
        review_seconds = time.monotonic() - started
        infos = self.stacks(head)
        names = [i.name for i in infos]
        predicted: dict[str, dict[str, set[str]]] = {}
        for stack_diff in review.stacks:
            kinds: dict[str, set[str]] = {"added": set(), "removed": set(), "modified": set(), "replaced": set()}
            for change in stack_diff.resources:
                kinds.setdefault(change.kind, set()).add(change.logical_id)
                if change.replacement:
                    kinds["replaced"].add(change.logical_id)
            predicted[stack_diff.name] = kinds
        review_replacements = [r.to_dict() for r in review.replacements]
        self.report.add(Row("(all)", "review", f"{len(review_replacements)} stateful replacement(s), "
                            f"{sum(len(k['modified']) for k in predicted.values())} modified",
                            review_seconds, True))

        before = {name: self.physical_ids(name) for name in names}
        executed_before = {name: len(self.simulator.executed_changes.get(name, [])) for name in names}
        result = self._cli_all("deploy", self._selections(head), "--require-approval", "never",
                               "--progress", "events")
        seconds = self._seconds(head, result.output)
        refused = dict(self.simulator.refusals)
        outcome: dict[str, Any] = {}
        for name in names:
            status = self.stack_status(name)
            old, new = before[name], self.physical_ids(name)
            executed = self.simulator.executed_changes.get(name, [])[executed_before[name]:]
            actions = executed[-1] if executed and name not in refused else {}
            did = {
                "added": sorted(k for k, a in actions.items() if a == "Add"),
                "removed": sorted(k for k, a in actions.items() if a == "Remove"),
                "modified": sorted(k for k, a in actions.items() if a == "Modify"),
                "replaced": sorted(k for k in set(old) & set(new) if old[k][1] != new[k][1]),
            }
            kinds = {k: sorted(v) for k, v in predicted.get(name, {}).items()}
            disagreements = {
                kind: {"review_only": sorted(set(kinds.get(kind, [])) - set(did[kind])),
                       "simulator_only": sorted(set(did[kind]) - set(kinds.get(kind, [])))}
                for kind in ("added", "removed", "modified")
                if set(kinds.get(kind, [])) != set(did[kind])
            }
            replacement_differences = {
                "review_only": sorted(set(kinds.get("replaced", [])) - set(did["replaced"])),
                "simulator_only": sorted(set(did["replaced"]) - set(kinds.get("replaced", [])))}
            missing = self.not_created(name)
            unchanged = not any(kinds.get(k) for k in ("added", "removed", "modified")) and not executed
            ok = (status == "UPDATE_COMPLETE" and name not in refused and not disagreements and not missing) or (
                status == "UPDATE_ROLLBACK_COMPLETE" and name in refused) or (
                unchanged and status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") and not missing)
            outcome[name] = {"status": status, "simulator": did, "refused": refused.get(name),
                             "review": kinds, "disagreements": disagreements, "unchanged": unchanged,
                             "replacement_differences": replacement_differences,
                             "not_created": missing,
                             "physical_ids": {k: [old[k][1], new.get(k, ("", None))[1]]
                                              for k in sorted(set(did["modified"]) | set(did["replaced"]))
                                              if k in old},
                             "updates_not_applied": sorted({t for lid, t in self.simulator.updates_not_applied
                                                            if lid in old})}
            text = status if name not in refused else f"{status}: {refused[name]}"
            if unchanged:
                text = f"no changes ({status})"
            detail = (f"change set: +{len(did['added'])} ~{len(did['modified'])} -{len(did['removed'])}, "
                      f"moto replaced {len(did['replaced'])}; review: +{len(kinds.get('added', []))} "
                      f"~{len(kinds.get('modified', []))} -{len(kinds.get('removed', []))}, "
                      f"replaces {len(kinds.get('replaced', []))}")
            if replacement_differences["review_only"] or replacement_differences["simulator_only"]:
                detail += f"; replacements differ {replacement_differences}"
            if disagreements:
                detail += f"; DISAGREE {disagreements}"
            if missing:
                detail += f"; {len(missing)} resource(s) not created: {missing[:5]}"
            self.report.add(Row(name, "update", text[:60], seconds.get(name, result.seconds if not unchanged else 0.0),
                                ok, detail))
        self.report.steps["update"] = {"returncode": result.returncode, "stacks": outcome,
                                       "review_replacements": review_replacements}
        totals = {kind: sum(len(o["simulator"][kind]) for o in outcome.values())
                  for kind in ("modified", "replaced", "added", "removed")}
        self.report.add(Row("(all)", "changes", f"{totals['modified']} updated ({totals['replaced']} replaced), "
                            f"+{totals['added']} -{totals['removed']}, {len(refused)} refused", 0.0, True,
                            "; ".join(f"{name}: replaced {o['simulator']['replaced']}" for name, o in outcome.items()
                                      if o["simulator"]["replaced"])
                            + "".join(f"; {name} refused: {reason}" for name, reason in refused.items())))
        self.report.add(Row("(all)", "update", f"exit {result.returncode}", result.seconds,
                            result.returncode == 0 or bool(refused),
                            "" if result.returncode == 0 else result.output[-3000:]))

    def destroy(self, assembly: Path) -> None:
        """Step 4: every stack gone; Retain resources still there; nothing else of ours left."""
        infos = self.stacks(assembly)
        names = [i.name for i in infos]
        accounts = {i.name: i.account for i in infos}
        resources = {name: self.physical_ids(name) for name in names}
        templates = {i.name: json.loads(i.template_file.read_text()) for i in infos}
        # The stages' stacks first (nothing of the top-level stacks imports them), then --all.
        result = self._cli_all("destroy", list(reversed(self._selections(assembly))), "--force")
        statuses = {name: self.stack_status(name) for name in names}
        table = retention_table()
        retained_missing: list[str] = []
        retained_present: list[str] = []
        left_behind: list[str] = []
        unchecked: set[str] = set()
        for name in names:
            for logical_id, (type_, physical) in resources[name].items():
                spec = templates[name]["Resources"].get(logical_id, {})
                if type_ not in CHECKED_TYPES or physical is None:
                    unchecked.add(type_)
                    continue
                present = self._exists(type_, physical, accounts[name])
                label = f"{name}/{logical_id} ({type_} {physical})"
                path = str(spec.get("Metadata", {}).get("aws:cdk:path", "")).split("/", 1)[-1]
                row = _retention_row(table, type_, path)
                retained = row == "Retain" if row else spec.get("DeletionPolicy") == "Retain"
                if row and row != spec.get("DeletionPolicy", "Delete"):
                    self.report.notes.append(f"{label}: the README retention table says {row}, "
                                             f"the template {spec.get('DeletionPolicy', 'Delete')}")
                    retained_missing.append(f"{label} (table and template disagree)")
                if retained:
                    (retained_present if present else retained_missing).append(label)
                elif present:
                    left_behind.append(label)
        for name in names:
            ok = statuses[name] in ("DELETE_COMPLETE", "DOES_NOT_EXIST")
            self.report.add(Row(name, "destroy", statuses[name], 0.0, ok))
        self.report.add(Row("(all)", "destroy", f"exit {result.returncode}", result.seconds, result.returncode == 0,
                            "" if result.returncode == 0 else result.output[-3000:]))
        self.report.add(Row("(all)", "retained", f"{len(retained_present)} present, {len(retained_missing)} missing",
                            0.0, not retained_missing, "; ".join(retained_missing[:5])))
        self.report.steps["destroy"] = {
            "returncode": result.returncode, "statuses": statuses, "retained_present": retained_present,
            "retained_missing": retained_missing, "left_behind": left_behind,
            "unchecked_types": sorted(unchecked - set(self.simulator.placeholder_types)),
            "output": result.output[-3000:],
        }
        self.report.add(Row("(all)", "leftovers", f"{len(left_behind)} non-retained resource(s) left", 0.0,
                            all(_moto_cannot_delete(label) for label in left_behind),
                            "; ".join(left_behind[:8])))

    def _exists(self, type_: str, physical: str, account: str = ACCOUNT_ID) -> bool:
        def client(service: str) -> Any:
            return self.client(service, account)

        try:
            if type_ == "AWS::S3::Bucket":
                client("s3").head_bucket(Bucket=physical)
            elif type_ == "AWS::KMS::Key":
                keys = {k["KeyId"] for k in client("kms").list_keys()["Keys"]}
                if physical.split("/")[-1] not in keys:
                    return False
                from moto.kms.models import kms_backends

                key = kms_backends[account][REGION].keys[physical.split("/")[-1]]
                return key.key_state not in ("PendingDeletion",)
            elif type_ == "AWS::Logs::LogGroup":
                groups = client("logs").describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
                return any(g["logGroupName"] == physical for g in groups)
            elif type_ == "AWS::SQS::Queue":
                name = physical.rsplit("/", 1)[-1]  # the URL's host is the simulator's, not sqs.<region>
                return any(url.rsplit("/", 1)[-1] == name for url in client("sqs").list_queues().get("QueueUrls", []))
            elif type_ == "AWS::SNS::Topic":
                return physical in {t["TopicArn"] for t in client("sns").list_topics()["Topics"]}
            elif type_ == "AWS::Lambda::Function":
                client("lambda").get_function(FunctionName=physical)
            elif type_ == "AWS::IAM::Role":
                client("iam").get_role(RoleName=physical)
            elif type_ == "AWS::EC2::VPC":
                return bool(client("ec2").describe_vpcs(
                    Filters=[{"Name": "vpc-id", "Values": [physical]}])["Vpcs"])
            elif type_ == "AWS::EC2::SecurityGroup":
                return bool(client("ec2").describe_security_groups(
                    Filters=[{"Name": "group-id", "Values": [physical]}])["SecurityGroups"])
            elif type_ == "AWS::SageMaker::Endpoint":
                client("sagemaker").describe_endpoint(EndpointName=physical.split("/")[-1])
            elif type_ == "AWS::SageMaker::Model":
                client("sagemaker").describe_model(ModelName=physical.split("/")[-1])
            else:
                raise ValueError(type_)
        except self._not_found_errors():
            return False
        return True

    def _not_found_errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import ClientError

        return (ClientError,)


RETENTION_HEADING = "### What `cdk destroy` leaves behind"


def retention_table() -> list[tuple[str, list[str], str]]:
    """``(type, construct path patterns, removal policy)`` rows of the README's retention table (the
    table tests/unit/test_retention.py checks against the templates)."""
    import re

    text = (REPO / "README.md").read_text()
    if RETENTION_HEADING not in text:
        return []
    rows = []
    for line in text.split(RETENTION_HEADING, 1)[1].split("\n#", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("resource", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0].strip("`"), re.findall(r"`([^`]+)`", cells[1]), cells[2]))
    return rows


def _retention_row(table: Sequence[tuple[str, list[str], str]], type_: str, path: str) -> str | None:
    import fnmatch

    for row_type, patterns, policy in table:
        if row_type == type_ and any(fnmatch.fnmatchcase(path, p) for p in patterns):
            return policy
    return None


#: Resource types moto 5.2.5's CloudFormation creates but never deletes with the stack (measured
#: here; the in-process harness lists the same): a leftover of these is moto's, not ours.
MOTO_CANNOT_DELETE: frozenset[str] = frozenset()


def _moto_cannot_delete(label: str) -> bool:
    return any(f"({type_} " in label for type_ in MOTO_CANNOT_DELETE)


def run(*, workdir: Path, base: Path | None = None, head: Path | None = None, broken: Path | None | bool = None,
        stacks: Sequence[str] | None = None, update: Mapping[str, Any] | None = DEFAULT_UPDATE,
        lifetime_s: float = 900.0, timeout_s: float = 300.0) -> Report:
    """Run the whole rehearsal; ``base``/``head``/``broken``: already synthesized assemblies to reuse
    (else the CLI synthesizes them; ``broken=False`` skips the broken change); ``update=None`` skips
    step 3. Never raises for a failed step: the report's rows say what was unexpected."""
    with Simulator(lifetime_s=lifetime_s) as simulator, _quiet_moto():
        print(f"rehearsal: moto server on {simulator.endpoint} (stops itself after {lifetime_s:.0f} s)", flush=True)
        rehearsal = Rehearsal(simulator, workdir, stacks=stacks, timeout_s=timeout_s)
        try:
            base = base or rehearsal.synth("base")
            for name, environment in skipped_stacks(base).items():
                rehearsal.report.add(Row(name, "skipped", f"other region ({environment})", 0.0, True))
            rehearsal.bootstrap(base)
            rehearsal.deploy(base)
            rehearsal.diff(base)
            deployed = base
            if broken is not False:
                broken = broken or rehearsal.synth("broken", app=REPO / "tests" / "harness" / "renamed_bucket_app.py",
                                                   compliance=False)
                rehearsal.refuse(base, broken, label="renamed")
            if update is not None:
                head = head or rehearsal.synth("head", context=update)
                if rehearsal.gate(base, head, label="update"):
                    rehearsal.report.add(Row("(all)", "update", "not deployed: the review gate refused it", 0.0, False,
                                             "; ".join(rehearsal.report.steps["gates"]["update"]["failures"][:3])))
                else:
                    rehearsal.update(base, head)
                    deployed = head
            rehearsal.destroy(deployed)
        except RehearsalFailed as exc:
            rehearsal.report.notes.append(str(exc)[:2000])
            rehearsal.report.rows.append(Row("(rehearsal)", "abort", "stopped", 0.0, False))
        report = rehearsal.report
        if simulator.errors:
            report.rows.append(Row("(simulator)", "errors", f"{len(simulator.errors)} request(s) failed inside moto",
                                   0.0, False))
            report.notes.extend(error[-1500:] for error in simulator.errors[:5])
        report.steps["simulator_errors"] = list(simulator.errors)
        report.notes.extend(f"placeholder for {t} (moto has no CloudFormation model)"
                            for t in sorted(simulator.placeholder_types))
        report.steps["custom_resources"] = [e.__dict__ for e in simulator.custom_resource_events]
        report.steps["template_urls"] = list(simulator.template_urls)
        report.steps["placeholder_types"] = sorted(simulator.placeholder_types)
    return report


@contextlib.contextmanager
def _quiet_moto() -> Iterator[None]:
    """Silence werkzeug's request log and moto's 'not supported' warnings for the run."""
    import logging
    import warnings

    werkzeug = logging.getLogger("werkzeug")
    previous = werkzeug.disabled
    werkzeug.disabled = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            werkzeug.disabled = previous


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.cli_rehearsal", description=__doc__.split("\n")[0])
    parser.add_argument("--stacks", nargs="*", default=None, help="only these stacks (default: all)")
    parser.add_argument("--base", type=Path, default=None, help="a synthesized assembly to deploy (default: cdk synth)")
    parser.add_argument("--head", type=Path, default=None, help="a synthesized assembly of the update (default: cdk synth)")
    parser.add_argument("--broken", type=Path, default=None, help="a synthesized assembly of the broken change")
    parser.add_argument("--no-update", action="store_true", help="skip step 3 (the update)")
    parser.add_argument("--lifetime", type=float, default=1800.0, help="the simulator stops itself after this (s)")
    parser.add_argument("--timeout", type=float, default=300.0, help="limit of each CLI command (s)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the assemblies here (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the step results as JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cli-rehearsal-")))
        workdir.mkdir(parents=True, exist_ok=True)
        report = run(workdir=workdir, base=args.base, head=args.head, broken=args.broken, stacks=args.stacks,
                     update=None if args.no_update else DEFAULT_UPDATE, lifetime_s=args.lifetime,
                     timeout_s=args.timeout)
    print()
    print(report.table())
    for note in report.notes:
        print(f"note: {note}")
    print(f"\nrehearsal {'passed' if report.ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"ok": report.ok, "rows": [r.__dict__ for r in report.rows],
                                         "steps": report.steps, "notes": report.notes}, indent=2, default=str))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

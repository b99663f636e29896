"""Deploy rehearsal: create a synthesized CloudFormation template in moto, in-process.

``rehearse()`` starts ``moto.mock_aws`` (no moto server, no sockets), prepares the
things a CDK-synthesized template expects to find in a bootstrapped account, calls
CloudFormation ``CreateStack`` with the template body, answers Lambda-backed custom
resources, and returns a :class:`Rehearsal` describing the outcome. The mock stays
active until the context manager exits, so a test can inspect the created resources
through moto with ordinary boto3 clients::

    with rehearse(template, stack_name="Demo") as r:
        assert r.status == "CREATE_COMPLETE", r.status_reason
        kms = r.client("kms")
        kms.describe_key(KeyId=r.physical_id("Key961B73FD"))
        assert skipped_types(template, r) == {"AWS::S3::BucketPolicy"}

What the harness does to make a CDK template deployable in moto 5.2.5:

* **Bootstrap parameter.** Every SSM-typed template parameter whose default names a
  ``/cdk-bootstrap/...`` parameter (the ``BootstrapVersion`` parameter) gets that SSM
  parameter created with value ``"30"`` before ``CreateStack``. moto does not evaluate
  template ``Rules`` (``CheckBootstrapVersion``), so nothing else is needed.
* **Lambda code.** For every ``AWS::Lambda::Function`` ``Code`` and
  ``AWS::Lambda::LayerVersion`` ``Content`` with ``S3Bucket``/``S3Key`` (the CDK assets
  bucket ``cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}``), the bucket is created
  and the key uploaded: the real asset from ``assets_dir`` (a cdk.out directory; every
  ``*.assets.json`` in it maps object keys to sources, directories are zipped) or, when
  it cannot be found, a small placeholder zip. moto's Lambda refuses S3 code it cannot
  read, so without this the stack fails.
* **Dummy availability zones.** A stack with an explicit ``env`` and no context lookups
  synthesizes subnets in ``dummy1a``/``dummy1b``/...; moto rejects those, so they are
  rewritten to ``<region>a``/``<region>b``/... (recorded in ``Rehearsal.adjustments``).
* **Untyped custom resources.** moto only recognises custom resources whose type starts
  with ``Custom::``; ``AWS::CloudFormation::CustomResource`` (the default type of
  ``aws_cdk.CustomResource``) would be skipped silently. Those are given a ``Custom::``
  alias for moto; the original type is restored in everything the harness reports.
* **Custom resource answers.** moto creates a custom resource by invoking its
  ServiceToken Lambda from a thread and waiting for a cfn-response PUT to its
  ResponseURL. moto cannot run Lambda code without Docker, so the harness intercepts
  that invocation (synchronously, inside ``CreateStack``), records the request, builds
  the SUCCESS body exactly as ``cfn-response`` would (with ``Data`` taken from
  ``custom_resource_answers[logical_id]``) and applies it the way moto's own
  ``cfnresponse`` endpoint does. Because the answer arrives while moto is still
  creating the stack, ``Fn::GetAtt`` on the custom resource resolves to the answered
  ``Data`` in dependent resources and outputs, as in real CloudFormation.

Limits of moto 5.2.5 that the harness does not hide:

* Resource types without a moto CloudFormation model are skipped silently (a Python
  warning, collected in ``Rehearsal.moto_warnings``); :func:`skipped_types` reports
  them so tests can pin the expected set. Measured for the types our constructs use:
  see :data:`MOTO_SKIPPED_TYPES`.
* ``CreateStack`` is synchronous and has no rollback: a failing resource raises inside
  ``CreateStack``. The harness reports that as status ``CREATE_FAILED`` with the error
  as ``status_reason`` (and the exception as ``error``).
* ``AWS::SSM::Parameter`` without a ``Name`` fails (moto generates no name).
* A custom resource's ServiceToken must be a Lambda function of the stack (moto looks
  it up before invoking); SNS-backed custom resources fail.
* ``ResourceProperties`` keep their template JSON types (real CloudFormation turns
  every scalar into a string).
* Deletion (:meth:`Rehearsal.delete`): moto sends no ``Delete`` request to custom
  resources, keeps ``Retain`` resources, and has no CloudFormation delete for many types
  (KMS keys/aliases, log groups, Lambda functions/permissions, managed policies, route
  tables, VPC endpoints, flow logs, SNS topics), which it leaves behind silently. A stack
  with an ``ec2.Vpc`` therefore ends ``DELETE_FAILED`` (the VPC still has the route
  tables moto did not delete).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
import types
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "MOTO_SKIPPED_TYPES",
    "CustomResourceRequest",
    "Rehearsal",
    "RehearsalError",
    "StackResource",
    "rehearse",
    "skipped_resources",
    "skipped_types",
]

DEFAULT_ACCOUNT_ID = "123456789012"
"""The account moto uses unless told otherwise (and the one CDK tests usually pin)."""

MOTO_SKIPPED_TYPES: frozenset[str] = frozenset(
    {
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CloudTrail::Trail",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SageMaker::Domain",
        "AWS::SageMaker::UserProfile",
    }
)
"""Types moto 5.2.5 CloudFormation skips, measured on a CDK app using all of:
VPC (isolated subnets, flow log, gateway + interface endpoints, restricted default SG),
KMS key + alias, S3 buckets, CloudTrail trail, log groups, IAM roles/policies/managed
policies, Lambda functions/permissions, SQS queue, EventBridge rule, SageMaker
Model/EndpointConfig/Endpoint/Domain/UserProfile, Application Auto Scaling target +
policy, Provider-framework and ``Custom::`` custom resources. Everything else in that
app is created. (``AWS::CloudFormation::CustomResource`` is skipped by moto itself;
the harness makes it a created, answered resource.)"""

BOOTSTRAP_VERSION = "30"
"""Value put into ``/cdk-bootstrap/<qualifier>/version`` parameters."""

_UNTYPED_CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
_CUSTOM_RESOURCE_ALIAS = "Custom::RehearsalUntypedCustomResource"
_FAKE_MOTO_HOST = "http://moto-rehearsal.invalid"
_DUMMY_AZ = re.compile(r"^dummy1([a-z])$")
_IN_PROGRESS = re.compile(r"_IN_PROGRESS$")
_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class RehearsalError(RuntimeError):
    """The harness itself could not set up or run the rehearsal."""


@dataclass(frozen=True)
class StackResource:
    """One row of ``ListStackResources``, with the template's resource type."""

    logical_id: str
    resource_type: str
    physical_id: str | None
    status: str


@dataclass
class CustomResourceRequest:
    """A custom resource request CloudFormation sent, and the answer the harness gave.

    ``resource_type`` is the type as written in the template (moto sees an alias for
    ``AWS::CloudFormation::CustomResource``). ``properties`` is ``ResourceProperties``
    as moto resolved it, including ``ServiceToken``. ``response`` is the cfn-response
    body that was "PUT" to ``response_url``.
    """

    request_type: str
    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    service_token: str
    response_url: str
    request_id: str
    stack_id: str
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        """The ``Data`` the harness answered with."""
        return dict(self.response.get("Data") or {})


@dataclass
class Rehearsal:
    """Outcome of a rehearsal; a context manager that keeps moto alive until exit.

    Clients from :attr:`session` / :meth:`client` talk to the in-process moto backends
    and are only meaningful until the ``with`` block (or :meth:`close`) ends.
    """

    stack_name: str
    region: str
    account_id: str
    session: boto3.Session
    status: str = "NOT_STARTED"
    status_reason: str | None = None
    stack_id: str | None = None
    resources: list[StackResource] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    custom_resource_requests: list[CustomResourceRequest] = field(default_factory=list)
    template: dict[str, Any] = field(default_factory=dict)
    """The template exactly as sent to moto (after the harness's adjustments)."""
    adjustments: list[str] = field(default_factory=list)
    """Human-readable notes of what the harness changed or prepared."""
    moto_warnings: list[str] = field(default_factory=list)
    """Warnings moto emitted, e.g. "Tried to parse AWS::X::Y but it's not supported"."""
    error: BaseException | None = None
    """The exception ``CreateStack`` raised, if any."""
    duration_s: float = 0.0
    """Wall time of ``CreateStack`` plus waiting for a final status."""

    _exit_stack: contextlib.ExitStack = field(
        default_factory=contextlib.ExitStack, repr=False
    )
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _type_of: dict[str, str] = field(default_factory=dict, repr=False)

    # -- context management -------------------------------------------------------

    def __enter__(self) -> Rehearsal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the mock and undo the harness's patches (idempotent)."""
        self._clients.clear()
        self._exit_stack.close()

    # -- access ---------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A (cached) boto3 client for ``service`` bound to the mocked region/account."""
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, config=Config(retries={"max_attempts": 1})
            )
        return self._clients[service]

    @property
    def succeeded(self) -> bool:
        return self.status == "CREATE_COMPLETE"

    def resource(self, logical_id: str) -> StackResource:
        """The created resource with ``logical_id`` (KeyError if moto did not create it)."""
        for res in self.resources:
            if res.logical_id == logical_id:
                return res
        raise KeyError(f"{logical_id} was not created; created: {self.logical_ids()}")

    def physical_id(self, logical_id: str) -> str:
        """Physical id of a created resource."""
        physical = self.resource(logical_id).physical_id
        if physical is None:
            raise KeyError(f"{logical_id} has no physical id")
        return physical

    def logical_ids(self, resource_type: str | None = None) -> list[str]:
        """Logical ids of created resources, optionally only those of one type."""
        return [
            r.logical_id
            for r in self.resources
            if resource_type is None or r.resource_type == resource_type
        ]

    def of_type(self, resource_type: str) -> list[StackResource]:
        """Created resources of one template type."""
        return [r for r in self.resources if r.resource_type == resource_type]

    def custom_resource_request(self, logical_id: str) -> CustomResourceRequest:
        """The (first) custom resource request for ``logical_id``."""
        for req in self.custom_resource_requests:
            if req.logical_id == logical_id:
                return req
        raise KeyError(f"no custom resource request for {logical_id}")

    def events(self) -> list[dict[str, Any]]:
        """``DescribeStackEvents`` for the stack, oldest first."""
        if self.stack_id is None:
            return []
        cfn = self.client("cloudformation")
        found = cfn.describe_stack_events(StackName=self.stack_id)["StackEvents"]
        return list(reversed(found))

    # -- lifecycle ------------------------------------------------------------------

    def delete(self) -> str:
        """Delete the stack in moto and return its final status.

        Returns ``"DELETE_COMPLETE"``, or ``"DELETE_FAILED"`` (reason in
        :attr:`status_reason`) when moto could not delete every resource, e.g. any
        stack with an ``ec2.Vpc``. moto sends no ``Delete`` request to custom
        resources, and ``DELETE_COMPLETE`` does not mean every resource is gone (see
        the module docstring). :attr:`resources` keeps the post-create snapshot.
        """
        if self.stack_id is None:
            raise RehearsalError("no stack was created")
        cfn = self.client("cloudformation")
        with _collect_moto_warnings(self):
            try:
                cfn.delete_stack(StackName=self.stack_id)
            except Exception as exc:  # moto raises from inside DeleteStack
                self.status, self.status_reason = "DELETE_FAILED", _describe_error(exc)
                return self.status
        stacks = cfn.describe_stacks(StackName=self.stack_id)["Stacks"]
        self.status = stacks[0]["StackStatus"]
        self.status_reason = stacks[0].get("StackStatusReason")
        return self.status


# ---------------------------------------------------------------------------------
# Public helpers
# ---------------------------------------------------------------------------------


def skipped_resources(template: Mapping[str, Any], rehearsal: Rehearsal) -> dict[str, str]:
    """Template resources (logical id -> type) that moto did not create.

    These are resources of types moto's CloudFormation has no model for, and
    resources whose ``Condition`` was false.
    """
    created = {r.logical_id for r in rehearsal.resources}
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if logical_id not in created
    }


def skipped_types(template: Mapping[str, Any], rehearsal: Rehearsal) -> set[str]:
    """Resource types of ``template`` of which at least one resource was not created.

    Compare with an explicit expected set in tests so a moto upgrade (or a new
    construct) that changes what is really exercised shows up as a failure.
    """
    return set(skipped_resources(template, rehearsal).values())


def rehearse(
    template: Mapping[str, Any],
    *,
    stack_name: str,
    region: str = "us-east-1",
    assets_dir: Path | str | None = None,
    custom_resource_answers: Mapping[str, Mapping[str, Any]] | None = None,
    timeout_s: float = 60,
    account_id: str = DEFAULT_ACCOUNT_ID,
    parameters: Mapping[str, str] | None = None,
    ssm_parameters: Mapping[str, str] | None = None,
    setup: Callable[[boto3.Session], None] | None = None,
    prerequisites: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> Rehearsal:
    """Create ``template`` as stack ``stack_name`` in in-process moto and report.

    Args:
        template: the synthesized template (e.g. ``Template.from_stack(s).to_json()``).
            It is not modified.
        stack_name: CloudFormation stack name.
        region: region of the mocked stack.
        assets_dir: a cdk.out directory; its ``*.assets.json`` manifests provide real
            Lambda code. Without it (or for keys it lacks) a placeholder zip is used.
        custom_resource_answers: logical id -> ``Data`` to answer that custom resource
            with (SUCCESS). Custom resources not listed are answered with no Data.
            Unknown logical ids raise ``ValueError``.
        timeout_s: how long to wait for the stack to leave ``CREATE_IN_PROGRESS``.
            moto's CreateStack is synchronous and custom resources are answered inside
            it, so this only matters if one is left unanswered (then ``status`` stays
            ``CREATE_IN_PROGRESS`` and ``status_reason`` names it).
        account_id: the mocked account (``MOTO_ACCOUNT_ID``).
        parameters: stack parameters to pass to ``CreateStack``.
        ssm_parameters: extra SSM parameters (name -> value) to create first.
        setup: called with the session before ``CreateStack``, to seed moto.
        prerequisites: ``(stack_name, template)`` of stacks to create first in the same mock
            (e.g. the producer of the exports this stack imports); each must reach
            ``CREATE_COMPLETE`` or :class:`RehearsalError` is raised. Their custom resources
            are answered from ``custom_resource_answers`` too.

    Returns:
        A :class:`Rehearsal`; use it as a context manager so the mock ends. A failed
        deployment does not raise: check ``status`` (``CREATE_COMPLETE``,
        ``CREATE_FAILED``, ...) and ``status_reason``. Only harness misuse raises.
    """
    answers = {k: dict(v) for k, v in (custom_resource_answers or {}).items()}
    merged = {"Resources": {k: v for _, t in prerequisites for k, v in t.get("Resources", {}).items()}}
    merged["Resources"].update(template.get("Resources", {}))
    _check_answer_keys(merged, answers)
    prepared, adjustments, type_of = _prepare_template(template, region)
    earlier = [(name, *_prepare_template(t, region)) for name, t in prerequisites]
    for _, _, _, earlier_types in earlier:
        type_of = {**earlier_types, **type_of}

    rehearsal = Rehearsal(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        session=boto3.Session(region_name=region),
        template=prepared,
        adjustments=adjustments,
        _type_of=type_of,
    )
    try:
        _activate(rehearsal, answers)
        rehearsal.session = boto3.Session(region_name=region)  # picks up mocked creds
        for name, earlier_template, earlier_adjustments, _ in earlier:
            main = (rehearsal.stack_name, rehearsal.template)
            rehearsal.stack_name, rehearsal.template = name, earlier_template
            _seed(rehearsal, ssm_parameters or {}, Path(assets_dir) if assets_dir else None)
            _create_and_wait(rehearsal, {}, timeout_s)
            rehearsal.adjustments.extend(f"{name}: {a}" for a in earlier_adjustments)
            if rehearsal.status != "CREATE_COMPLETE":
                raise RehearsalError(f"prerequisite stack {name} ended {rehearsal.status}: {rehearsal.status_reason}")
            rehearsal.stack_name, rehearsal.template = main
            rehearsal.status, rehearsal.status_reason, rehearsal.stack_id = "NOT_STARTED", None, None
            rehearsal.error = None
        _seed(rehearsal, ssm_parameters or {}, Path(assets_dir) if assets_dir else None)
        if setup is not None:
            setup(rehearsal.session)
        _create_and_wait(rehearsal, parameters or {}, timeout_s)
    except BaseException:
        rehearsal.close()
        raise
    return rehearsal


# ---------------------------------------------------------------------------------
# Template preparation
# ---------------------------------------------------------------------------------


def _check_answer_keys(template: Mapping[str, Any], answers: Mapping[str, Any]) -> None:
    resources = template.get("Resources", {})
    custom = {
        lid
        for lid, res in resources.items()
        if _is_custom_type(res.get("Type", ""))
    }
    unknown = sorted(set(answers) - custom)
    if unknown:
        raise ValueError(
            f"custom_resource_answers names {unknown}, which are not custom resources "
            f"of the template (custom resources: {sorted(custom)})"
        )


def _is_custom_type(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == _UNTYPED_CUSTOM_RESOURCE


def _prepare_template(
    template: Mapping[str, Any], region: str
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """Copy ``template`` and apply the adjustments moto needs.

    Returns the copy, notes of what changed, and logical id -> original type for
    every resource (used to report the template's types, not moto's aliases).
    """
    prepared: dict[str, Any] = json.loads(json.dumps(template))
    adjustments: list[str] = []
    type_of: dict[str, str] = {}

    for logical_id, resource in prepared.get("Resources", {}).items():
        type_of[logical_id] = resource["Type"]
        if resource["Type"] == _UNTYPED_CUSTOM_RESOURCE:
            resource["Type"] = _CUSTOM_RESOURCE_ALIAS
            adjustments.append(
                f"{logical_id}: {_UNTYPED_CUSTOM_RESOURCE} sent to moto as "
                f"{_CUSTOM_RESOURCE_ALIAS} so that it is answered, not skipped"
            )

    replaced: set[str] = set()

    def fix_azs(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fix_azs(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix_azs(v) for v in node]
        if isinstance(node, str) and (match := _DUMMY_AZ.match(node)):
            replaced.add(node)
            return f"{region}{match.group(1)}"
        return node

    prepared["Resources"] = fix_azs(prepared.get("Resources", {}))
    if "Outputs" in prepared:
        prepared["Outputs"] = fix_azs(prepared["Outputs"])
    for az in sorted(replaced):
        adjustments.append(f"availability zone {az} (CDK dummy) replaced by {region}{az[-1]}")

    # moto validates an output's Fn::GetAtt against the resource's moto model and crashes on a
    # type it has no model for (it would skip the resource anyway): drop such outputs.
    from moto.cloudformation.parsing import resource_class_from_type

    # References to resources moto skips cannot resolve: replace them with placeholders.
    skipped = {lid for lid, res in prepared.get("Resources", {}).items()
               if not res["Type"].startswith("Custom::") and resource_class_from_type(res["Type"]) is None}
    placeheld: set[str] = set()

    def placeholder(logical_id: str, attribute: str) -> str:
        placeheld.add(f"{logical_id}.{attribute}" if attribute else logical_id)
        name = f"rehearsal-{logical_id.lower()}-{attribute.lower() or 'ref'}"
        if attribute.endswith("Arn"):
            return f"arn:aws:placeholder:{region}:123456789012:{name}"
        return name

    def fix_refs(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in skipped:
                return placeholder(node["Ref"], "")
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in skipped:
                return placeholder(node["Fn::GetAtt"][0], node["Fn::GetAtt"][1])
            return {k: fix_refs(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix_refs(v) for v in node]
        return node

    for logical_id, resource in prepared.get("Resources", {}).items():
        if logical_id not in skipped:
            prepared["Resources"][logical_id] = fix_refs(resource)
    if "Outputs" in prepared:  # exports of skipped resources' attributes still exist, as placeholders
        prepared["Outputs"] = fix_refs(prepared["Outputs"])
    for ref in sorted(placeheld):
        adjustments.append(f"reference to {ref} (a type moto skips) replaced by a placeholder")

    for name, output in list(prepared.get("Outputs", {}).items()):
        value = output.get("Value")
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target = prepared["Resources"].get(value["Fn::GetAtt"][0], {})
            if target and resource_class_from_type(target["Type"]) is None:
                del prepared["Outputs"][name]
                adjustments.append(f"output {name} dropped: it reads {target['Type']}, which moto skips")
    return prepared, adjustments, type_of


# ---------------------------------------------------------------------------------
# Mock activation and custom resource answering
# ---------------------------------------------------------------------------------


def _activate(rehearsal: Rehearsal, answers: Mapping[str, dict[str, Any]]) -> None:
    """Start moto and install the harness's (scoped) patches."""
    from unittest import mock

    from moto.cloudformation import custom_model

    stack = rehearsal._exit_stack
    stack.enter_context(mock.patch.dict(os.environ, {"MOTO_ACCOUNT_ID": rehearsal.account_id}))
    stack.enter_context(mock_aws())
    # moto computes the ResponseURL host via settings.moto_server_host(), which inside
    # a container shells out to curl on the Docker socket. Never let it: the URL is
    # only a label here, the answer is delivered in-process.
    stack.enter_context(mock.patch.object(custom_model.settings, "moto_server_host", lambda: _FAKE_MOTO_HOST))
    # Run moto's "invoke the ServiceToken Lambda" thread inline and answer it.
    inline_threading = types.SimpleNamespace(
        Thread=lambda target, args=(), kwargs=None, **_: _InlineInvocation(
            rehearsal, answers, target, tuple(args), dict(kwargs or {})
        )
    )
    stack.enter_context(mock.patch.object(custom_model, "threading", inline_threading))


class _InlineInvocation:
    """Replaces the ``threading.Thread`` moto starts to invoke a custom resource's Lambda."""

    def __init__(
        self,
        rehearsal: Rehearsal,
        answers: Mapping[str, dict[str, Any]],
        target: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self._rehearsal = rehearsal
        self._answers = answers
        self._target = target
        self._args = args
        self._kwargs = kwargs

    def start(self) -> None:
        event = json.loads(self._args[0]) if self._args else {}
        if not (isinstance(event, dict) and "ResponseURL" in event and "RequestType" in event):
            raise RehearsalError(f"unexpected moto thread for {self._target!r}: {self._args!r}")
        _answer_custom_resource(self._rehearsal, self._answers, event)

    def join(self, timeout: float | None = None) -> None:  # pragma: no cover - API parity
        return None


def _answer_custom_resource(
    rehearsal: Rehearsal, answers: Mapping[str, dict[str, Any]], event: dict[str, Any]
) -> None:
    """Record a custom resource request and deliver a cfn-response SUCCESS for it."""
    logical_id = event["LogicalResourceId"]
    request = CustomResourceRequest(
        request_type=event["RequestType"],
        logical_id=logical_id,
        resource_type=rehearsal._type_of.get(logical_id, event["ResourceType"]),
        properties=dict(event.get("ResourceProperties") or {}),
        service_token=event["ServiceToken"],
        response_url=event["ResponseURL"],
        request_id=event["RequestId"],
        stack_id=event["StackId"],
    )
    # The body cfn-response.send() PUTs to the ResponseURL.
    request.response = {
        "Status": "SUCCESS",
        "Reason": "Answered by the deploy rehearsal harness",
        "PhysicalResourceId": f"{logical_id}-{uuid.uuid4().hex[:12]}",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": logical_id,
        "NoEcho": False,
        "Data": dict(answers.get(logical_id, {})),
    }
    rehearsal.custom_resource_requests.append(request)
    _deliver_cfn_response(rehearsal, request.response)


def _deliver_cfn_response(rehearsal: Rehearsal, body: Mapping[str, Any]) -> None:
    """Apply a cfn-response body the way moto's ``cfnresponse`` endpoint does.

    moto's ``ProcessCfnResponse`` sets the custom resource's data and then re-checks
    stack readiness. The readiness check walks moto's lazy resource map, which must not
    happen here: we are inside ``CreateStack``, creating this very resource. Setting
    the data is enough; ``CreateStack`` sees the resource as created and completes.
    """
    from moto.cloudformation import cloudformation_backends

    if body["Status"] != "SUCCESS":  # moto ignores anything else as well
        return
    backend = cloudformation_backends[rehearsal.account_id][rehearsal.region]
    stack = backend.get_stack(body["StackId"])
    stack.get_custom_resource(body["LogicalResourceId"]).set_data(dict(body["Data"]))


# ---------------------------------------------------------------------------------
# Seeding: SSM bootstrap parameters, asset buckets
# ---------------------------------------------------------------------------------


def _seed(rehearsal: Rehearsal, ssm_parameters: Mapping[str, str], assets_dir: Path | None) -> None:
    ssm_values = dict(_bootstrap_ssm_parameters(rehearsal.template))
    ssm_values.update(ssm_parameters)
    if ssm_values:
        ssm = rehearsal.client("ssm")
        for name, value in ssm_values.items():
            ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
            rehearsal.adjustments.append(f"SSM parameter {name} = {value!r} created")

    wanted = _s3_code_locations(rehearsal.template, rehearsal.account_id, rehearsal.region)
    if not wanted:
        return
    sources = _asset_sources(assets_dir) if assets_dir else {}
    s3 = rehearsal.client("s3")
    buckets: set[str] = set()
    for bucket, key in sorted(wanted):
        if bucket not in buckets:
            _create_bucket(s3, bucket, rehearsal.region)
            buckets.add(bucket)
        source = sources.get(key)
        if source is not None:
            body = _read_asset(*source)
            what = f"asset {source[0].name}"
        else:
            body = _placeholder_zip()
            what = "placeholder zip"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        rehearsal.adjustments.append(f"s3://{bucket}/{key} uploaded ({what})")


def _bootstrap_ssm_parameters(template: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for spec in (template.get("Parameters") or {}).values():
        default = spec.get("Default")
        if (
            str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
            and isinstance(default, str)
            and default.startswith("/cdk-bootstrap/")
        ):
            found[default] = BOOTSTRAP_VERSION
    return found


def _s3_code_locations(template: Mapping[str, Any], account_id: str, region: str) -> set[tuple[str, str]]:
    """(bucket, key) pairs of Lambda function/layer code stored in S3."""
    pseudo = {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    locations: set[tuple[str, str]] = set()
    for resource in (template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Lambda::Function":
            code = props.get("Code") or {}
        elif resource.get("Type") == "AWS::Lambda::LayerVersion":
            code = props.get("Content") or {}
        else:
            continue
        bucket = _resolve_pseudo(code.get("S3Bucket"), pseudo)
        key = _resolve_pseudo(code.get("S3Key"), pseudo)
        if bucket and key:
            locations.add((bucket, key))
    return locations


def _resolve_pseudo(value: Any, pseudo: Mapping[str, str]) -> str | None:
    """Resolve a string, ``Ref`` to a pseudo parameter or ``Fn::Sub``/``Fn::Join`` of them."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (fn, arg), = value.items()
    if fn == "Ref":
        return pseudo.get(arg)
    if fn == "Fn::Sub" and isinstance(arg, str):
        unresolved = [n for n in re.findall(r"\$\{([^}!]+)\}", arg) if n not in pseudo]
        if unresolved:
            return None
        return re.sub(r"\$\{([^}!]+)\}", lambda m: pseudo[m.group(1)], arg)
    if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
        parts = [_resolve_pseudo(p, pseudo) for p in arg[1]]
        if any(p is None for p in parts):
            return None
        return str(arg[0]).join(p for p in parts if p is not None)
    return None


def _asset_sources(assets_dir: Path) -> dict[str, tuple[Path, str]]:
    """Object key -> (source path, packaging) from every ``*.assets.json`` in cdk.out."""
    sources: dict[str, tuple[Path, str]] = {}
    if not assets_dir.is_dir():
        raise RehearsalError(f"assets_dir {assets_dir} is not a directory")
    for manifest in sorted(assets_dir.glob("*.assets.json")):
        data = json.loads(manifest.read_text())
        for asset in (data.get("files") or {}).values():
            source = asset.get("source") or {}
            if "path" not in source:
                continue  # built by an executable; nothing to read
            path = assets_dir / source["path"]
            for destination in (asset.get("destinations") or {}).values():
                sources[destination["objectKey"]] = (path, source.get("packaging", "file"))
    return sources


def _read_asset(path: Path, packaging: str) -> bytes:
    if path.is_dir():
        return _zip_directory(path)
    if packaging == "zip" and not zipfile.is_zipfile(path):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, path.name)
        return buffer.getvalue()
    return path.read_bytes()


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(directory).as_posix())
    return buffer.getvalue()


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
        archive.writestr("index.js", "exports.handler = async () => ({});\n")
    return buffer.getvalue()


def _create_bucket(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**kwargs)


# ---------------------------------------------------------------------------------
# CreateStack and reporting
# ---------------------------------------------------------------------------------


def _create_and_wait(rehearsal: Rehearsal, parameters: Mapping[str, str], timeout_s: float) -> None:
    cfn = rehearsal.client("cloudformation")
    started = time.monotonic()
    with _collect_moto_warnings(rehearsal):
        try:
            response = cfn.create_stack(
                StackName=rehearsal.stack_name,
                TemplateBody=json.dumps(rehearsal.template),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                Capabilities=_CAPABILITIES,
            )
            rehearsal.stack_id = response["StackId"]
        except Exception as exc:  # moto fails synchronously, no rollback
            rehearsal.error = exc
            rehearsal.status = "CREATE_FAILED"
            rehearsal.status_reason = _describe_error(exc)
            rehearsal.stack_id = _find_stack_id(rehearsal)
        else:
            _wait_for_status(rehearsal, started + timeout_s)
        rehearsal.duration_s = time.monotonic() - started
        _collect_resources(rehearsal)
        _fix_moto_state(rehearsal)


def _fix_moto_state(rehearsal: Rehearsal) -> None:
    """Repair moto state that CloudFormation leaves unusable for ordinary API calls.

    moto 5.2.5 stores a CloudFormation ``AWS::KMS::Key`` ``KeyPolicy`` as the parsed
    JSON object; every KMS call that checks the key policy (``DescribeKey``,
    ``GetKeyPolicy``, ...) then fails with ``TypeError`` in ``json.loads``. Store it as
    the JSON document the API would have.
    """
    from moto.kms.models import kms_backends

    backend = kms_backends[rehearsal.account_id][rehearsal.region]
    for key in backend.keys.values():
        if isinstance(key.policy, (dict, list)):
            key.policy = json.dumps(key.policy)
            rehearsal.adjustments.append(f"moto workaround: KMS key {key.id} policy stored as JSON text")


def _wait_for_status(rehearsal: Rehearsal, deadline: float) -> None:
    cfn = rehearsal.client("cloudformation")
    while True:
        stack = cfn.describe_stacks(StackName=rehearsal.stack_id)["Stacks"][0]
        rehearsal.status = stack["StackStatus"]
        rehearsal.status_reason = stack.get("StackStatusReason")
        rehearsal.outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
        if not _IN_PROGRESS.search(rehearsal.status):
            return
        if time.monotonic() >= deadline:
            pending = _pending_custom_resources(rehearsal)
            rehearsal.status_reason = (
                f"still {rehearsal.status} at the rehearsal timeout; "
                f"unanswered custom resources: {pending or 'none'}"
            )
            return
        time.sleep(0.05)


def _pending_custom_resources(rehearsal: Rehearsal) -> list[str]:
    from moto.cloudformation import cloudformation_backends

    backend = cloudformation_backends[rehearsal.account_id][rehearsal.region]
    stack = backend.get_stack(rehearsal.stack_id)
    return sorted(lid for lid, cr in stack.custom_resources.items() if not cr.is_created())


def _find_stack_id(rehearsal: Rehearsal) -> str | None:
    from moto.cloudformation import cloudformation_backends

    backend = cloudformation_backends[rehearsal.account_id][rehearsal.region]
    for stack in backend.stacks.values():
        if stack.name == rehearsal.stack_name:
            return str(stack.stack_id)
    return None


def _collect_resources(rehearsal: Rehearsal) -> None:
    """Fill ``rehearsal.resources`` from ListStackResources (or moto's state on failure)."""
    if rehearsal.stack_id is None:
        return
    if rehearsal.error is None:
        cfn = rehearsal.client("cloudformation")
        summaries: list[dict[str, Any]] = []
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=rehearsal.stack_id):
            summaries.extend(page["StackResourceSummaries"])
        rehearsal.resources = [
            StackResource(
                logical_id=s["LogicalResourceId"],
                resource_type=rehearsal._type_of.get(s["LogicalResourceId"], s["ResourceType"]),
                physical_id=s.get("PhysicalResourceId"),
                status=s["ResourceStatus"],
            )
            for s in summaries
            if s.get("LogicalResourceId")  # moto lists skipped resources as empty rows
        ]
        return
    # After a failed CreateStack, listing would retry the failing resource through
    # moto's lazy resource map and raise again: report what moto did create instead.
    from moto.cloudformation import cloudformation_backends

    backend = cloudformation_backends[rehearsal.account_id][rehearsal.region]
    stack = backend.get_stack(rehearsal.stack_id)
    parsed: Mapping[str, Any] = getattr(stack.resource_map, "_parsed_resources", {})
    rehearsal.resources = [
        StackResource(
            logical_id=lid,
            resource_type=rehearsal._type_of.get(lid, "?"),
            physical_id=getattr(res, "physical_resource_id", None),
            status="CREATE_COMPLETE",
        )
        for lid, res in parsed.items()
        if lid in rehearsal._type_of and res is not None and hasattr(res, "physical_resource_id")
    ]


@contextlib.contextmanager
def _collect_moto_warnings(rehearsal: Rehearsal) -> Iterator[None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        message = str(warning.message)
        if message not in rehearsal.moto_warnings:
            rehearsal.moto_warnings.append(message)


def _describe_error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code')}: {error.get('Message')}"
    return f"{type(exc).__name__}: {exc}"

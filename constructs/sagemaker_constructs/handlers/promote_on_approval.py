"""Lambda handler behind ``PromoteOnApproval``: record an approved model version, let CloudFormation deploy it.

The function never touches an endpoint. For an ``Approved`` event of its group it writes the version's ARN
to one SSM parameter (``PARAMETER_NAME``, the *approved version*: the endpoint's model reads it as
``ModelPackageName`` when its stack is deployed) and starts a deployment through CloudFormation, which acts
with its own role and applies the template's ``DeploymentConfig`` (blue/green traffic shifting, alarm-based
auto-rollback), so no resource drifts:

* ``TARGET=pipeline``: ``StartPipelineExecution`` of ``PIPELINE_NAME`` (a pipeline that deploys the stack);
* ``TARGET=stack``: ``UpdateStack`` of ``STACK_NAME`` with its previous template and parameter keys and the
  CloudFormation service role ``DEPLOYMENT_ROLE_ARN``; CloudFormation fetches the latest value of a Systems
  Manager parameter type at every stack update, so the model changes to the approved version.

Each event ends in exactly one decision, logged as one JSON line and returned:

* ``ignored``: not Approved, another group, or the package is no longer Approved when described.
* ``superseded``: the parameter holds a newer version of the group (approvals never go backwards). No change.
  When two approvals were written at once and a newer one was overwritten, the newer one is written back and
  its deployment started (``restored``).
* ``promoted``: the parameter now holds this version and the deployment started (``execution_id`` or
  ``stack_id``).
* ``already-promoted``: the parameter already held this version (a duplicate); the deployment request is
  repeated with the same idempotency token (``clientRequestToken``/``ClientRequestToken``), so a run that
  started is not started twice and one that failed to start starts now. ``TARGET=stack``: CloudFormation's
  "No updates are to be performed" also ends here.

Errors are never swallowed: a stack whose update is in progress or a pipeline at its concurrency limit raises
:class:`DeploymentBusy`, throttling re-raises the ``ClientError``, any other AWS error raises
:class:`DeploymentError` (so does a stack no update can start from until an operator acts, :data:`STUCK_STATUSES`:
``ROLLBACK_COMPLETE``, ``UPDATE_ROLLBACK_FAILED``, ...; logged ``failed`` with what to do). From the queue, a failed record is reported in ``batchItemFailures`` and offered
again after the queue's visibility timeout, then moves to the dead-letter queue.

Rolling back is explicit: an event with ``"force": true`` at its top level (sent by an operator to the queue
or as a direct invocation; EventBridge events never carry it) promotes its version even over a newer one;
the package must still be Approved.

Configuration is read from the environment at call time: ``MODEL_PACKAGE_GROUP_NAME``, ``PARAMETER_NAME``,
``TARGET`` (``pipeline`` or ``stack``), ``PIPELINE_NAME`` or ``STACK_NAME`` and ``DEPLOYMENT_ROLE_ARN``.
Packaged alone as Lambda code: boto3 and the standard library only.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
from typing import Any

import boto3
from botocore.config import Config

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]
from botocore.exceptions import ClientError

THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
#: CloudFormation needs these acknowledged to update a stack with IAM resources or macros.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: Stack statuses (botocore cloudformation ``StackStatus``) from which no ``UpdateStack`` starts until an
#: operator acts: reported as ``failed`` with what to do, not as ``deployment-busy`` (nothing is in progress).
STUCK_STATUSES = {
    "CREATE_FAILED": "roll it back (RollbackStack) or delete and recreate it",
    "ROLLBACK_FAILED": "delete it and create it again",
    "ROLLBACK_COMPLETE": "its creation failed and was rolled back: delete it and create it again",
    "UPDATE_FAILED": "roll it back (RollbackStack)",
    "UPDATE_ROLLBACK_FAILED": "continue the rollback (ContinueUpdateRollback)",
    "IMPORT_ROLLBACK_FAILED": "continue the rollback (ContinueUpdateRollback)",
    "DELETE_FAILED": "finish deleting it and create it again",
    "DELETE_COMPLETE": "it was deleted: create it again",
}
_VERSION_ARN = re.compile(r"arn:[^:]+:sagemaker:[^:]+:\d{12}:model-package/([^/]+)/(\d+)")


class DeploymentError(RuntimeError):
    """The promotion failed; it is retried through the queue, then dead-lettered."""


class DeploymentBusy(DeploymentError):
    """CloudFormation or the pipeline is busy: retryable, try again later."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """The function's configuration, read from the environment."""

    group: str
    parameter: str
    target: str
    pipeline: str | None = None
    stack: str | None = None
    role_arn: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        def value(name: str) -> str | None:
            return os.environ.get(name, "").strip() or None

        def required(name: str) -> str:
            if not (found := value(name)):
                raise DeploymentError(f"environment variable {name} is not set")
            return found

        target = required("TARGET")
        if target == "pipeline":
            return cls(required("MODEL_PACKAGE_GROUP_NAME"), required("PARAMETER_NAME"), target,
                       pipeline=required("PIPELINE_NAME"))
        if target == "stack":
            return cls(required("MODEL_PACKAGE_GROUP_NAME"), required("PARAMETER_NAME"), target,
                       stack=required("STACK_NAME"), role_arn=required("DEPLOYMENT_ROLE_ARN"))
        raise DeploymentError(f"TARGET must be pipeline or stack, not {target!r}")


@functools.cache
def _client(name: str) -> Any:
    """One boto3 client per service, created on first use (tests replace this function)."""
    return boto3.client(name, config=Config(retries={"mode": "standard", "max_attempts": 5}))


_decide = common.log


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", ""))


def version_of(group: str, arn: str | None) -> int | None:
    """The version number of a version ARN of ``group`` (names are lower-cased in ARNs), else None."""
    match = _VERSION_ARN.fullmatch(arn or "")
    if not match or match.group(1).lower() != group.lower():
        return None
    return int(match.group(2))


def request_token(arn: str, parameter_version: int) -> str:
    """The idempotency token of one promotion: the package ARN at one version of the parameter."""
    return "promote-" + hashlib.sha256(f"{arn}\n{parameter_version}".encode()).hexdigest()[:40]


def _call(service: str, operation: str, ids: dict[str, Any], **params: Any) -> dict[str, Any]:
    """One AWS call. Throttling re-raises the ClientError; any other error raises DeploymentError (logged)."""
    try:
        return getattr(_client(service), operation)(**params)
    except ClientError as err:
        code, message = _code(err), _message(err)
        if code in THROTTLING:
            _decide("throttled", operation=operation, error=code, **ids)
            raise
        _decide("failed", operation=operation, error=code, detail=message, **ids)
        raise DeploymentError(f"{service} {operation} failed for {ids.get('model_package_arn')}: {code}: {message}") from err


def _current(settings: Settings, ids: dict[str, Any]) -> tuple[str | None, int]:
    """The approved version ARN and the parameter's own version (0 when it does not exist yet)."""
    try:
        parameter = _client("ssm").get_parameter(Name=settings.parameter)["Parameter"]
    except ClientError as err:
        if _code(err) == "ParameterNotFound":
            return None, 0
        if _code(err) in THROTTLING:
            _decide("throttled", operation="get_parameter", error=_code(err), **ids)
            raise
        _decide("failed", operation="get_parameter", error=_code(err), detail=_message(err), **ids)
        raise DeploymentError(f"cannot read {settings.parameter}: {_code(err)}: {_message(err)}") from err
    return parameter.get("Value"), int(parameter.get("Version", 0))


def _overwritten(settings: Settings, ids: dict[str, Any], after: int, before: int) -> list[str]:
    """Values written to the parameter by others between versions ``after`` and ``before`` (exclusive)."""
    values, token = [], None
    while True:
        page = _call("ssm", "get_parameter_history", ids, Name=settings.parameter, MaxResults=50,
                     **({"NextToken": token} if token else {}))
        values += [p.get("Value") for p in page.get("Parameters", []) if after < int(p.get("Version", 0)) < before]
        if not (token := page.get("NextToken")):
            return values


def _write(settings: Settings, ids: dict[str, Any], arn: str) -> int:
    response = _call("ssm", "put_parameter", ids, Name=settings.parameter, Value=arn, Type="String",
                     Overwrite=True, Description=f"Approved version of model package group {settings.group}")
    return int(response["Version"])


def _deploy(settings: Settings, ids: dict[str, Any], arn: str, parameter_version: int) -> dict[str, Any]:
    """Start the deployment through CloudFormation; returns what identifies it, or {"no_change": True}."""
    token = request_token(arn, parameter_version)
    if settings.target == "pipeline":
        try:
            response = _client("codepipeline").start_pipeline_execution(
                name=settings.pipeline, clientRequestToken=token)
        except ClientError as err:
            code = _code(err)
            if code == "ConcurrentPipelineExecutionsLimitExceededException":
                _decide("deployment-busy", operation="start_pipeline_execution", error=code, **ids)
                raise DeploymentBusy(f"pipeline {settings.pipeline} is busy: {_message(err)}") from err
            if code in THROTTLING:
                _decide("throttled", operation="start_pipeline_execution", error=code, **ids)
                raise
            _decide("failed", operation="start_pipeline_execution", error=code, detail=_message(err), **ids)
            raise DeploymentError(f"cannot start pipeline {settings.pipeline} for {arn}: {code}: {_message(err)}") from err
        return {"pipeline": settings.pipeline, "execution_id": response["pipelineExecutionId"]}

    stack = _call("cloudformation", "describe_stacks", ids, StackName=settings.stack)["Stacks"][0]
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS"):
        _decide("deployment-busy", stack=settings.stack, status=status, **ids)
        raise DeploymentBusy(f"stack {settings.stack} is {status}; {arn} will be deployed on a retry")
    if status in STUCK_STATUSES:  # no update starts until an operator acts; retries cannot help before then
        _decide("failed", stack=settings.stack, status=status, reason=STUCK_STATUSES[status], **ids)
        raise DeploymentError(f"stack {settings.stack} is {status} and cannot be updated: {STUCK_STATUSES[status]}; "
                              f"{arn} is deployed when the event is retried after that")
    try:
        response = _client("cloudformation").update_stack(
            StackName=settings.stack, UsePreviousTemplate=True, RoleARN=settings.role_arn, Capabilities=CAPABILITIES,
            Parameters=[{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                        for p in stack.get("Parameters", [])],
            ClientRequestToken=token)
    except ClientError as err:
        code, message = _code(err), _message(err)
        if code == "TokenAlreadyExistsException" or "no updates are to be performed" in message.lower():
            return {"stack": settings.stack, "no_change": True}
        if "can not be updated" in message.lower() or "in progress" in message.lower():
            _decide("deployment-busy", operation="update_stack", error=code, detail=message, **ids)
            raise DeploymentBusy(f"stack {settings.stack} became busy: {message}") from err
        if code in THROTTLING:
            _decide("throttled", operation="update_stack", error=code, **ids)
            raise
        _decide("failed", operation="update_stack", error=code, detail=message, **ids)
        raise DeploymentError(f"cannot update stack {settings.stack} for {arn}: {code}: {message}") from err
    return {"stack": settings.stack, "stack_id": response["StackId"]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Promote approved model packages; see the module docstring.

    Takes the EventBridge event itself, or an SQS batch of them: a record that fails is reported in
    ``batchItemFailures``, so SQS offers it again after the queue's visibility timeout, and after the
    queue's receive limit moves it to the dead-letter queue.
    """
    return common.sqs_batch(event, promote)


def promote(event: dict[str, Any]) -> dict[str, Any]:
    """Promote the approved model package of one EventBridge event."""
    settings = Settings.from_env()
    detail = event.get("detail") or {}
    arn = detail.get("ModelPackageArn")
    ids = {"parameter": settings.parameter, "model_package_arn": arn, "version": detail.get("ModelPackageVersion")}
    ignored = common.not_an_approval_of(detail, settings.group)
    if ignored is not None:
        return _decide("ignored", **ignored, **ids)
    arn = detail["ModelPackageArn"]  # present: not_an_approval_of checked it

    package = _call("sagemaker", "describe_model_package", ids, ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != "Approved":
        return _decide("ignored", reason=f"package is now {package.get('ModelApprovalStatus')}", **ids)
    ids["version"] = version = int(package.get("ModelPackageVersion") or version_of(settings.group, arn) or 0)
    force = event.get("force") is True

    current, parameter_version = _current(settings, ids)
    current_version = version_of(settings.group, current)
    if current == arn:
        started = _deploy(settings, ids, arn, parameter_version)
        return _decide("already-promoted", forced=force, **started, **ids)
    if current_version is not None and version < current_version:
        if not force:
            return _decide("superseded", current_version=current_version, current=current,
                           reason=f"the approved version is {current_version}; send the event with "
                                  "\"force\": true to roll back", **ids)
        _decide("rollback-forced", current_version=current_version, current=current, **ids)

    written = _write(settings, ids, arn)
    if written != parameter_version + 1 and not force:
        # Another approval wrote in between: never leave an older version over a newer one.
        others = [(v, a) for a in _overwritten(settings, ids, parameter_version, written)
                  if (v := version_of(settings.group, a)) is not None]
        newest = max(others, default=None)
        if newest is not None and newest[0] > version:
            restored = _write(settings, ids, newest[1])
            started = _deploy(settings, ids, newest[1], restored)
            return _decide("superseded", restored=newest[1], current_version=newest[0], **started, **ids)
    started = _deploy(settings, ids, arn, written)
    if started.pop("no_change", False):
        return _decide("already-promoted", forced=force, reason="CloudFormation found no change", **started, **ids)
    return _decide("promoted", forced=force, previous=current, previous_version=current_version, **started, **ids)

"""Custom-resource handler (``Custom::CanvasSettings``) that applies a Studio domain's Canvas settings and
restores the previous ones when the resource goes.

CloudFormation's ``AWS::SageMaker::Domain`` has no ``CanvasAppSettings``, so this handler calls
``UpdateDomain`` with ``DefaultUserSettings.CanvasAppSettings`` only.

* Create: read the domain's current ``CanvasAppSettings`` (the *previous* settings), apply the new ones
  and keep the previous ones in the physical id (``canvas-settings:<domain id>:<compressed JSON>``), so
  they survive every update of this resource;
* Update: same domain: apply the new settings, keep the physical id (no replacement). Another domain
  (the domain was replaced): a Create on it; CloudFormation then deletes the old physical id;
* Delete: restore the previous settings (settings the domain did not have before are switched off,
  ``OFF``; a workspace location cannot be unset and stays), but only when all of these hold (else nothing, and one log
  line says why): the domain still exists and is not being deleted; the stack is not being deleted
  with the domain (``DELETE_IN_PROGRESS`` or ``ROLLBACK_IN_PROGRESS`` with a ``DomainDeletionPolicy``
  other than Retain); and the domain's Canvas settings are still the ones this resource applied (a
  newer ``Custom::CanvasSettings`` -- a renamed or replaced resource is created before the old one is
  deleted -- or someone else changed them since: restoring would undo their change). A domain that
  disappears meanwhile counts as restored.

Idempotent: applying settings a domain already has is a no-op ``UpdateDomain``; a Delete of a resource
whose domain is gone succeeds. ``UpdateDomain`` is retried while the domain is ``Updating`` (up to
``WAIT_SECONDS``), then the handler waits for ``InService`` so CloudFormation's next change of the
domain does not collide. Lambda code with ``common.py``: boto3 and the standard library only.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from typing import Any

from botocore.exceptions import ClientError

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]

#: How long to wait for the domain to be InService around an update.
WAIT_SECONDS = 480
POLL_SECONDS = 15
#: CloudFormation's limit on a physical resource id.
MAX_PHYSICAL_ID = 1024
STACK_DELETING = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
RETAINED = frozenset({"Retain", "RetainExceptOnCreate"})
DOMAIN_GONE = frozenset({"Deleting", "Delete_Failed"})
PREFIX = "canvas-settings"
#: What "off" means for a domain that had no Canvas settings before.
OFF: dict[str, Any] = {
    "TimeSeriesForecastingSettings": {"Status": "DISABLED"},
    "ModelRegisterSettings": {"Status": "DISABLED"},
    "DirectDeploySettings": {"Status": "DISABLED"},
    "KendraSettings": {"Status": "DISABLED"},
    "EmrServerlessSettings": {"Status": "DISABLED"},
}


class CanvasSettingsError(RuntimeError):
    """The settings cannot be applied; the Provider framework fails the operation with this message."""


#: One boto3 client per service, created on first use (tests replace this function).
_client = common.client


def _log(message: str, **fields: Any) -> None:
    common.emit({"message": message, **fields})


def _sleep(seconds: float) -> None:  # tests replace this
    time.sleep(seconds)


def _is_gone(err: ClientError) -> bool:
    code = str(err.response.get("Error", {}).get("Code", ""))
    message = str(err.response.get("Error", {}).get("Message", "")).lower()
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("does not exist" in message or "not found" in message))


def encode(previous: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(previous, sort_keys=True).encode(), 9)).decode()


def decode(token: str) -> dict[str, Any]:
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(token.encode())))


def physical_id(domain_id: str, previous: dict[str, Any]) -> str:
    value = f"{PREFIX}:{domain_id}:{encode(previous)}"
    if len(value) > MAX_PHYSICAL_ID:
        raise CanvasSettingsError(
            f"the domain's previous Canvas settings are too large to keep ({len(value)} characters): "
            "remove settings set outside this stack, then retry")
    return value


def parse_physical_id(value: str) -> tuple[str, dict[str, Any]] | None:
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        return parts[1], decode(parts[2])
    except (ValueError, zlib.error):
        return None


def _describe(domain_id: str) -> dict[str, Any] | None:
    try:
        return _client("sagemaker").describe_domain(DomainId=domain_id)
    except ClientError as err:
        if _is_gone(err):
            return None
        raise


def current_settings(domain: dict[str, Any]) -> dict[str, Any]:
    return dict((domain.get("DefaultUserSettings") or {}).get("CanvasAppSettings") or {})


def _normalised(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((_normalised(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items() if v not in (None, [], {})}
    return value


def still_applied(current: dict[str, Any], applied: dict[str, Any]) -> bool:
    """Whether every setting this resource applied is still the domain's."""
    return all(_normalised(current.get(k)) == _normalised(v) for k, v in applied.items())


def _wait_in_service(domain_id: str) -> dict[str, Any] | None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        domain = _describe(domain_id)
        status = None if domain is None else domain.get("Status")
        if domain is None or status == "InService" or status in DOMAIN_GONE:
            return domain
        if status in ("Failed", "Update_Failed"):
            raise CanvasSettingsError(f"domain {domain_id} is {status}: {domain.get('FailureReason', '')}")
        if time.monotonic() > deadline:
            raise CanvasSettingsError(f"domain {domain_id} still {status} after {WAIT_SECONDS} s")
        _sleep(POLL_SECONDS)


def apply(domain_id: str, settings: dict[str, Any]) -> None:
    """UpdateDomain with these Canvas settings once the domain is InService; wait until it is again."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        _wait_in_service(domain_id)
        try:
            _client("sagemaker").update_domain(DomainId=domain_id,
                                               DefaultUserSettings={"CanvasAppSettings": settings})
            break
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code not in ("ResourceInUse", "ConflictException") or time.monotonic() > deadline:
                raise
            _log("domain busy, retrying", domain_id=domain_id, reason=code)
            _sleep(POLL_SECONDS)
    _log("Canvas settings applied", domain_id=domain_id, settings=settings)
    _wait_in_service(domain_id)


def _create(props: dict[str, Any]) -> dict[str, Any]:
    domain_id = props["DomainId"]
    domain = _describe(domain_id)
    if domain is None:
        raise CanvasSettingsError(f"domain {domain_id} does not exist")
    previous = current_settings(domain)
    result = {"PhysicalResourceId": physical_id(domain_id, previous)}
    apply(domain_id, props["CanvasAppSettings"])
    return result


def _decide_restore(event: dict[str, Any], domain: dict[str, Any] | None) -> tuple[bool, str]:
    props = event.get("ResourceProperties", {})
    if domain is None:
        return False, "the domain no longer exists"
    if domain.get("Status") in DOMAIN_GONE:
        return False, f"the domain is {domain.get('Status')}"
    stacks = _client("cloudformation").describe_stacks(StackName=event["StackId"]).get("Stacks", [])
    status = stacks[0].get("StackStatus") if stacks else None
    if status in STACK_DELETING and props.get("DomainDeletionPolicy", "Delete") not in RETAINED:
        return False, f"the stack is being deleted ({status}) and the domain with it"
    if not still_applied(current_settings(domain), props.get("CanvasAppSettings") or {}):
        return False, "the domain's Canvas settings changed since this resource applied them"
    return True, "the domain stays: its previous Canvas settings are restored"


def _delete(event: dict[str, Any]) -> dict[str, Any]:
    response = {"PhysicalResourceId": event["PhysicalResourceId"]}
    parsed = parse_physical_id(event["PhysicalResourceId"])
    if parsed is None:
        _log("decision: restore nothing", reason="not a physical id of this handler (create failed)",
             physical_id=event["PhysicalResourceId"])
        return response
    domain_id, previous = parsed
    restore, reason = _decide_restore(event, _describe(domain_id))
    _log("decision: restore the previous settings" if restore else "decision: restore nothing",
         reason=reason, domain_id=domain_id)
    if restore:
        try:
            apply(domain_id, {**OFF, **previous})
        except ClientError as err:
            if not _is_gone(err):
                raise
            _log("domain gone while restoring: nothing to restore", domain_id=domain_id)
    return response


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create, Update and Delete of ``Custom::CanvasSettings`` (see the module docstring)."""
    props = event.get("ResourceProperties", {})
    kind = event["RequestType"]
    if kind == "Create":
        return _create(props)
    if kind == "Update":
        parsed = parse_physical_id(event.get("PhysicalResourceId", ""))
        if parsed is None or parsed[0] != props["DomainId"]:
            _log("Update on another domain: created there", domain_id=props["DomainId"])
            return _create(props)
        apply(props["DomainId"], props["CanvasAppSettings"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    return _delete(event)

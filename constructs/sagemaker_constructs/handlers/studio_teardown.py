"""Custom-resource handler that empties a SageMaker Studio domain before CloudFormation deletes it.

CloudFormation deletes this resource before the user profiles and the domain. A Delete of this resource
does not always mean the domain goes: renaming or replacing the teardown resource, removing it, or
``teardown=False`` sends a Delete too, during a stack *update*, while the domain stays in service. So a
Delete first decides, from the stack (``cloudformation:DescribeStacks``, ``DescribeStackResource`` and
``GetTemplate`` on its own stack only), whether the domain itself is being deleted:

==============================================  =====================================================  ===========
stack status                                    the domain (``DomainLogicalId``, ``DomainId``)          decision
==============================================  =====================================================  ===========
``DELETE_IN_PROGRESS``                          ``DomainDeletionPolicy`` Retain/RetainExceptOnCreate    nothing
``DELETE_IN_PROGRESS``                          otherwise (deleted with the stack)                     tear down
``ROLLBACK_IN_PROGRESS`` (failed create)        ``DomainDeletionPolicy`` Retain                          nothing
``ROLLBACK_IN_PROGRESS``                        otherwise (deleted with the stack)                     tear down
``UPDATE_*`` (in progress, cleanup, rollback)   no ``DomainLogicalId`` property (older resource)        nothing
``UPDATE_*``                                    logical id no longer a resource of the stack            tear down
``UPDATE_*``                                    logical id names another physical id (replaced)         tear down
                                                (nothing with ``DomainUpdateReplacePolicy`` Retain)
``UPDATE_*``                                    same physical id, logical id gone from the template     tear down
                                                (removed in this update; nothing if retained)
``UPDATE_*``                                    same physical id, still in the template (domain stays)  nothing
any other status                                                                                        nothing
==============================================  =====================================================  ===========

``on_event`` decides (one log line), passes the decision to ``is_complete`` (the CDK Provider framework
merges on_event's answer into is_complete's event) and, when tearing down, starts deleting the apps.
``is_complete`` (polled by the Provider framework) then advances idempotently:

1. apps: delete the ones InService, Pending or Failed; wait until every app is Deleted or Failed;
2. spaces: delete them; wait until none remain (a Delete_Failed space is an error);
3. the home EFS's mount targets (the file system and its data are kept), and with
   ``RemoveHomeEfs == "true"`` the file system too;
4. ENIs left ``available`` in the domain's or SageMaker's NFS security groups, then those two NFS security
   groups SageMaker created (mutual rules revoked, then both deleted): what would block deleting the VPC;
5. complete.

On Create and Update the handler only answers ``S3PrefixListId`` (the region's S3 prefix list, for the
domain security group's HTTPS egress to the S3 gateway endpoint) when ``S3PrefixListName`` is given.

Anything already gone counts as deleted. Transient errors (throttling, 5xx, connection failures: what
outlasts boto3's own retries) make a poll answer "not complete", so the next poll retries until the
provider's total timeout; any other AWS error fails the deletion. Every decision is one JSON log line.
Lambda code with ``common.py`` (shared clients, retries, log lines): boto3 and the standard library only.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from botocore.exceptions import ClientError

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]

THROTTLING, SERVER_ERRORS = common.THROTTLING, common.SERVER_ERRORS
NOT_FOUND = frozenset({
    "ResourceNotFound", "ResourceNotFoundException", "FileSystemNotFound", "MountTargetNotFound",
    "InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidPermission.NotFound",
    "InvalidNetworkInterfaceID.NotFound",
})
NOT_FOUND_PHRASES = ("does not exist", "not found", "cannot be found", "could not be found")
APP_DONE = frozenset({"Deleted", "Failed"})
APP_DELETABLE = frozenset({"InService", "Pending", "Failed"})
SECURITY_GROUP_NAMES = ("security-group-for-inbound-nfs-{}", "security-group-for-outbound-nfs-{}")

#: Stack statuses in which every resource of the stack is being deleted.
STACK_DELETING = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
#: Stack statuses of an update (and its rollback) in which CloudFormation deletes old or new resources.
STACK_UPDATING = frozenset({
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
})
RETAINED = frozenset({"Retain", "RetainExceptOnCreate"})
#: Where on_event puts its decision for is_complete (the Provider framework passes it through).
DECISION = "TeardownDecision"

ISSUED, GONE, BUSY = "issued", "gone", "busy"  # outcomes of _delete


class TeardownError(RuntimeError):
    """The teardown cannot succeed; the Provider framework fails the deletion with this message."""


#: One boto3 client per service, created on first use (tests replace this function).
_client = common.client
_code = common.error_code
#: Throttling, a 5xx or a connection failure that outlasted boto3's retries: worth another poll.
_is_transient = common.is_transient


def _log(message: str, **fields: Any) -> None:
    """One structured (JSON) log line per decision."""
    common.emit({"message": message, **fields})


def _is_gone(err: ClientError) -> bool:
    """Whether the error says the resource does not exist (which counts as deleted)."""
    message = str(err.response.get("Error", {}).get("Message", "")).lower()
    return _code(err) in NOT_FOUND or (
        _code(err) == "ValidationException" and any(p in message for p in NOT_FOUND_PHRASES)
    )


def _list(service: str, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated listing."""
    pages = _client(service).get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page.get(key, [])]


def _delete(what: str, call: Callable[..., Any], busy: frozenset[str] = frozenset(), **params: Any) -> str:
    """Issue one delete: ISSUED when accepted, GONE when already gone, BUSY on a retryable conflict."""
    try:
        call(**params)
    except ClientError as err:
        if _is_gone(err):
            _log(f"{what} already gone", **params)
            return GONE
        if _code(err) in busy:
            _log(f"{what} not deletable yet", reason=_code(err), detail=str(err), **params)
            return BUSY
        raise
    _log(f"{what} delete issued", **params)
    return ISSUED


# ---------------------------------------------------------------------------------------- the decision


def _template_resources(stack_id: str) -> dict[str, Any] | None:
    """The ``Resources`` of the stack's current template; None when it cannot be read as JSON."""
    body = _client("cloudformation").get_template(StackName=stack_id, TemplateStage="Processed").get("TemplateBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    resources = body.get("Resources") if isinstance(body, dict) else None
    return resources if isinstance(resources, dict) else None


def decide(event: dict[str, Any]) -> dict[str, Any]:
    """Whether this Delete tears the domain down (``{"Act": bool, "Reason": str}``); one log line.

    Raises what the CloudFormation calls raise (callers retry transient errors on the next poll)."""
    props = event.get("ResourceProperties", {})
    domain_id, logical_id, stack_id = props["DomainId"], props.get("DomainLogicalId"), event["StackId"]
    deletion_policy = props.get("DomainDeletionPolicy", "Delete")
    stacks = _client("cloudformation").describe_stacks(StackName=stack_id).get("Stacks", [])
    status = stacks[0].get("StackStatus") if stacks else None
    fields: dict[str, Any] = {"domain_id": domain_id, "domain_logical_id": logical_id, "stack_status": status,
                              "teardown_logical_id": event.get("LogicalResourceId")}

    def verdict(act: bool, reason: str, **more: Any) -> dict[str, Any]:
        _log("decision: tear down the domain" if act else "decision: delete nothing", reason=reason, **fields, **more)
        return {"Act": act, "Reason": reason}

    if status in STACK_DELETING:
        if deletion_policy == "Retain" or (deletion_policy in RETAINED and status == "DELETE_IN_PROGRESS"):
            return verdict(False, f"the stack is being deleted but keeps the domain (DeletionPolicy {deletion_policy})")
        return verdict(True, "the stack is being deleted, the domain with it")
    if status not in STACK_UPDATING:
        return verdict(False, f"stack status {status} deletes no domain")
    if not logical_id:
        return verdict(False, "no DomainLogicalId property (created by an older version): the domain is assumed to stay")
    try:
        detail = _client("cloudformation").describe_stack_resource(
            StackName=stack_id, LogicalResourceId=logical_id)["StackResourceDetail"]
    except ClientError as err:
        message = str(err.response.get("Error", {}).get("Message", "")).lower()
        if _code(err) != "ValidationError" or "does not exist" not in message:
            raise
        detail = None
    if detail is None:
        if deletion_policy in RETAINED:
            return verdict(False, f"the domain leaves the stack but is retained (DeletionPolicy {deletion_policy})")
        return verdict(True, "the domain's logical resource is no longer in the stack")
    current = detail.get("PhysicalResourceId")
    if current != domain_id:
        if props.get("DomainUpdateReplacePolicy") in RETAINED:
            return verdict(False, "the domain is replaced but retained (UpdateReplacePolicy Retain)",
                           current_domain_id=current)
        return verdict(True, "the domain is replaced: its logical resource names another domain",
                       current_domain_id=current)
    resources = _template_resources(stack_id)
    if resources is None:
        return verdict(False, "the stack's template cannot be read: the domain is assumed to stay")
    if logical_id in resources:
        return verdict(False, "the domain stays in the stack: only the teardown resource goes")
    if deletion_policy in RETAINED:
        return verdict(False, f"the domain is removed from the stack but retained (DeletionPolicy {deletion_policy})")
    return verdict(True, "the domain is removed from the stack in this update")


# ---------------------------------------------------------------------------------------- the phases


def _delete_apps(domain_id: str) -> list[dict[str, Any]]:
    """Delete every app of the domain that is InService, Pending or Failed; the apps not yet Deleted/Failed.

    A Failed app is not waited for once its delete is issued (or refused): the spaces phase retries
    while SageMaker still holds it."""
    sagemaker = _client("sagemaker")
    apps = _list("sagemaker", "list_apps", "Apps", DomainIdEquals=domain_id)
    remaining = []
    for app in apps:
        state = app.get("Status")
        if state in APP_DELETABLE:
            owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {
                "UserProfileName": app["UserProfileName"]}
            params = {"DomainId": domain_id, "AppType": app["AppType"], "AppName": app["AppName"], **owner}
            try:
                outcome = _delete("app", sagemaker.delete_app, frozenset({"ResourceInUse"}), **params)
            except ClientError as err:
                if state != "Failed" or _is_transient(err):
                    raise
                _log("failed app refused deletion", reason=_code(err), detail=str(err), **params)
                outcome = GONE
            state = GONE if state == "Failed" else outcome
        if state not in APP_DONE and state != GONE:
            remaining.append({k: app[k] for k in ("AppType", "AppName", "UserProfileName", "SpaceName") if app.get(k)}
                             | {"Status": app.get("Status")})
    return remaining


def _spaces_gone(domain_id: str) -> bool:
    """Delete the domain's spaces; True once none remain. Raises for a Delete_Failed space."""
    sagemaker = _client("sagemaker")
    spaces = _list("sagemaker", "list_spaces", "Spaces", DomainIdEquals=domain_id)
    for space in spaces:
        if space.get("Status") == "Delete_Failed":
            try:
                reason = sagemaker.describe_space(DomainId=domain_id, SpaceName=space["SpaceName"]).get("FailureReason")
            except ClientError as err:
                if not _is_gone(err):
                    raise
                continue
            _log("space delete failed", domain_id=domain_id, space=space["SpaceName"], reason=reason)
            raise TeardownError(f"Space {space['SpaceName']} of domain {domain_id} failed to delete: {reason}")
    remaining = []
    for space in spaces:
        state = space.get("Status")
        if state != "Deleting":
            state = _delete("space", sagemaker.delete_space, frozenset({"ResourceInUse"}),
                            DomainId=domain_id, SpaceName=space["SpaceName"])
        if state != GONE:
            remaining.append(space["SpaceName"])
    if remaining:
        _log("not complete: spaces remain", domain_id=domain_id, spaces=remaining)
        return False
    _log("spaces gone", domain_id=domain_id)
    return True


def _home_efs_cleared(domain_id: str, fs_id: str | None, remove_file_system: bool) -> bool:
    """Delete the home EFS's mount targets, then (only if asked) the file system; True once done."""
    if not fs_id:
        _log("no home EFS on the domain", domain_id=domain_id)
        return True
    efs = _client("efs")
    try:
        targets = _list("efs", "describe_mount_targets", "MountTargets", FileSystemId=fs_id)
    except ClientError as err:
        if not _is_gone(err):
            raise
        _log("home EFS already gone", domain_id=domain_id, file_system=fs_id)
        return True
    remaining = []
    for target in targets:
        state = target["LifeCycleState"]
        if state not in ("deleting", "deleted"):
            state = _delete("mount target", efs.delete_mount_target, MountTargetId=target["MountTargetId"])
        if state not in ("deleted", GONE):
            remaining.append(target["MountTargetId"])
    if remaining:
        _log("not complete: mount targets remain", domain_id=domain_id, file_system=fs_id, mount_targets=remaining)
        return False
    if not remove_file_system:
        _log("home EFS kept with its data, mount targets gone", domain_id=domain_id, file_system=fs_id)
        return True
    try:
        systems = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"]
    except ClientError as err:
        if not _is_gone(err):
            raise
        systems = []
    state = systems[0]["LifeCycleState"] if systems else "deleted"
    if state not in ("deleting", "deleted"):
        state = _delete("file system", efs.delete_file_system, frozenset({"FileSystemInUse"}), FileSystemId=fs_id)
    if state in ("deleted", GONE):
        _log("home EFS gone", domain_id=domain_id, file_system=fs_id)
        return True
    _log("not complete: file system still deleting", domain_id=domain_id, file_system=fs_id, state=state)
    return False


def _referencing(permissions: list[dict[str, Any]], group_ids: set[str]) -> list[dict[str, Any]]:
    """The parts of the rules that reference one of the group ids, in the shape revoke_* expects."""
    rules = []
    for perm in permissions:
        pairs = [{"GroupId": p["GroupId"]} for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId") in group_ids]
        if pairs:
            rules.append({**{k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm},
                          "UserIdGroupPairs": pairs})
    return rules


def _domain_security_groups(domain: dict[str, Any]) -> list[str]:
    """The security groups the domain, its users and its spaces use (the construct's own group)."""
    ids = [*domain.get("DomainSettings", {}).get("SecurityGroupIds", []),
           *domain.get("DefaultUserSettings", {}).get("SecurityGroups", []),
           *domain.get("DefaultSpaceSettings", {}).get("SecurityGroups", [])]
    return sorted(set(ids))


def _network_interfaces_gone(domain_id: str, vpc_id: str, group_ids: list[str]) -> bool:
    """Delete the ENIs left ``available`` in these security groups; True once none is left but in-use ones
    (attached to something still running, for example a job: logged, left alone)."""
    if not group_ids:
        return True
    ec2 = _client("ec2")
    interfaces = _list("ec2", "describe_network_interfaces", "NetworkInterfaces", Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-id", "Values": group_ids}])
    remaining, in_use = [], []
    for eni in interfaces:
        eni_id, state = eni["NetworkInterfaceId"], eni.get("Status")
        if state == "in-use":
            in_use.append(eni_id)
            continue
        if state == "available":
            state = _delete("network interface", ec2.delete_network_interface,
                            frozenset({"InvalidNetworkInterface.InUse"}), NetworkInterfaceId=eni_id)
        if state != GONE and state != ISSUED:
            remaining.append(eni_id)
    if in_use:
        _log("network interfaces in use left alone", domain_id=domain_id, network_interfaces=in_use)
    if remaining:
        _log("not complete: network interfaces remain", domain_id=domain_id, network_interfaces=remaining)
        return False
    return True


def _network_cleared(domain_id: str, domain: dict[str, Any]) -> bool:
    """Leftover ENIs in the domain's and SageMaker's NFS security groups, then the two NFS groups."""
    vpc_id = domain.get("VpcId")
    if not vpc_id:
        _log("no VPC on the domain", domain_id=domain_id)
        return True
    ec2 = _client("ec2")
    names = [name.format(domain_id) for name in SECURITY_GROUP_NAMES]
    groups = _list("ec2", "describe_security_groups", "SecurityGroups", Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}])
    ids = {group["GroupId"] for group in groups}
    if not _network_interfaces_gone(domain_id, vpc_id, sorted(set(_domain_security_groups(domain)) | ids)):
        return False
    for group in groups:
        others = ids - {group["GroupId"]}
        for what, key, revoke in (("ingress rules", "IpPermissions", ec2.revoke_security_group_ingress),
                                  ("egress rules", "IpPermissionsEgress", ec2.revoke_security_group_egress)):
            if rules := _referencing(group.get(key, []), others):
                _delete(what, revoke, GroupId=group["GroupId"], IpPermissions=rules)
    remaining = [group["GroupId"] for group in groups if _delete(
        "security group", ec2.delete_security_group, frozenset({"DependencyViolation"}),
        GroupId=group["GroupId"]) == BUSY]
    if remaining:
        _log("not complete: security groups still in use", domain_id=domain_id, security_groups=remaining)
        return False
    _log("security groups gone", domain_id=domain_id, vpc=vpc_id, found=sorted(ids))
    return True


def _teardown(domain_id: str, remove_home_efs: bool) -> bool:
    """One poll: advance the first unfinished phase; True once every phase is done."""
    try:
        domain = _client("sagemaker").describe_domain(DomainId=domain_id)
    except ClientError as err:
        if not _is_gone(err):
            raise
        _log("complete: domain already gone", domain_id=domain_id)
        return True
    if remaining := _delete_apps(domain_id):
        _log("not complete: apps remain", domain_id=domain_id, apps=remaining)
        return False
    _log("apps gone", domain_id=domain_id)
    if not _spaces_gone(domain_id):
        return False
    if not _home_efs_cleared(domain_id, domain.get("HomeEfsFileSystemId"), remove_home_efs):
        return False
    if not _network_cleared(domain_id, domain):
        return False
    _log("complete", domain_id=domain_id, removed_home_efs=remove_home_efs)
    return True


# ---------------------------------------------------------------------------------------- entry points


def s3_prefix_list_id(name: str) -> str:
    """The id of the AWS-managed prefix list ``name`` (``com.amazonaws.<region>.s3``)."""
    lists = _client("ec2").describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [name]}])
    found = lists.get("PrefixLists", [])
    if len(found) != 1:
        raise TeardownError(f"expected one prefix list named {name}, found {len(found)}")
    return found[0]["PrefixListId"]


def _deferred(what: str, domain_id: str, err: Exception) -> None:
    reason = _code(err) if isinstance(err, ClientError) else type(err).__name__
    _log(f"{what}: transient error, retried on the next poll", domain_id=domain_id, reason=reason, detail=str(err))


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: look up the S3 prefix list if asked (``S3PrefixListName``), no teardown work.
    Delete: decide whether the domain goes (see the module's table); if so, start deleting its apps."""
    props = event.get("ResourceProperties", {})
    domain_id = props["DomainId"]
    if event["RequestType"] != "Delete":
        physical_id = f"studio-teardown-{domain_id}"
        result: dict[str, Any] = {"PhysicalResourceId": physical_id}
        if props.get("S3PrefixListName"):
            result["Data"] = {"S3PrefixListId": s3_prefix_list_id(props["S3PrefixListName"])}
        _log(f"{event['RequestType']}: no teardown work", domain_id=domain_id, physical_id=physical_id,
             data=result.get("Data"))
        return result
    response: dict[str, Any] = {"PhysicalResourceId": event["PhysicalResourceId"]}
    try:
        decision = decide(event)
    except Exception as err:
        if not _is_transient(err):
            raise
        _deferred("decision deferred to is_complete", domain_id, err)
        return response
    response[DECISION] = decision
    if not decision["Act"]:
        return response
    try:
        _log("app deletion started", domain_id=domain_id, remaining=_delete_apps(domain_id))
    except Exception as err:
        if not (_is_transient(err) or (isinstance(err, ClientError) and _is_gone(err))):
            raise
        _deferred("app deletion deferred to is_complete", domain_id, err)
    return response


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: complete. Delete: complete at once when the domain stays; otherwise advance the
    teardown one step, not complete while work remains or after a transient error."""
    if event["RequestType"] != "Delete":
        return {"IsComplete": True}
    props = event.get("ResourceProperties", {})
    domain_id = props["DomainId"]
    try:
        decision = event.get(DECISION) or decide(event)
        if not decision["Act"]:
            _log("complete: nothing deleted", domain_id=domain_id, reason=decision["Reason"])
            return {"IsComplete": True}
        done = _teardown(domain_id, str(props.get("RemoveHomeEfs", "false")).lower() == "true")
    except Exception as err:
        if not _is_transient(err):
            raise
        _deferred("not complete", domain_id, err)
        done = False
    return {"IsComplete": done}

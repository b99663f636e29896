"""Custom-resource handler that empties a SageMaker Studio domain before CloudFormation deletes it.

CloudFormation deletes this resource before the user profiles and the domain. ``on_event`` starts deleting
the domain's apps; ``is_complete`` (polled by the CDK Provider framework) then advances idempotently:

1. apps: delete the ones still InService/Pending; wait until every app is Deleted or Failed;
2. spaces: delete them; wait until none remain (a Delete_Failed space is an error);
3. only with ``RemoveHomeEfs == "true"``: the home EFS (mount targets, then the file system), then the two
   security groups SageMaker created for it (mutual rules revoked, then both deleted);
4. complete.

On Create and Update the handler only answers ``S3PrefixListId`` (the region's S3 prefix list, for the
domain security group's HTTPS egress to the S3 gateway endpoint) when ``S3PrefixListName`` is given.

Anything already gone counts as deleted, throttling makes a poll answer "not complete", any other AWS error
fails the deletion. Packaged alone as Lambda code: boto3 and the standard library only.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
NOT_FOUND = frozenset({
    "ResourceNotFound", "ResourceNotFoundException", "FileSystemNotFound", "MountTargetNotFound",
    "InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidPermission.NotFound",
})
NOT_FOUND_PHRASES = ("does not exist", "not found", "cannot be found", "could not be found")
APP_DONE = frozenset({"Deleted", "Failed"})
APP_DELETABLE = frozenset({"InService", "Pending"})
SECURITY_GROUP_NAMES = ("security-group-for-inbound-nfs-{}", "security-group-for-outbound-nfs-{}")

ISSUED, GONE, BUSY = "issued", "gone", "busy"  # outcomes of _delete


class TeardownError(RuntimeError):
    """The teardown cannot succeed; the Provider framework fails the deletion with this message."""


@functools.cache
def _client(name: str) -> Any:
    """One boto3 client per service, created on first use (tests replace this function)."""
    return boto3.client(name, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def _log(message: str, **fields: Any) -> None:
    """One structured (JSON) log line per decision."""
    print(json.dumps({"message": message, **fields}, default=str, sort_keys=True), flush=True)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _is_gone(err: ClientError) -> bool:
    """Whether the error says the resource does not exist (which counts as deleted)."""
    message = str(err.response.get("Error", {}).get("Message", "")).lower()
    return _code(err) in NOT_FOUND or (
        _code(err) == "ValidationException" and any(p in message for p in NOT_FOUND_PHRASES)
    )


def _list(service: str, operation: str, key: str, **params: Any) -> list[dict]:
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


def _delete_apps(domain_id: str) -> list[dict]:
    """Delete every app of the domain that is InService or Pending; the apps still not Deleted/Failed."""
    sagemaker = _client("sagemaker")
    apps = _list("sagemaker", "list_apps", "Apps", DomainIdEquals=domain_id)
    remaining = []
    for app in apps:
        state = app.get("Status")
        if state in APP_DELETABLE:
            owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {
                "UserProfileName": app["UserProfileName"]}
            state = _delete("app", sagemaker.delete_app, frozenset({"ResourceInUse"}), DomainId=domain_id,
                            AppType=app["AppType"], AppName=app["AppName"], **owner)
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


def _home_efs_gone(domain_id: str, fs_id: str | None) -> bool:
    """Delete the home EFS: every mount target first, then the file system; True once it is gone."""
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


def _referencing(permissions: list[dict], group_ids: set[str]) -> list[dict]:
    """The parts of the rules that reference one of the group ids, in the shape revoke_* expects."""
    rules = []
    for perm in permissions:
        pairs = [{"GroupId": p["GroupId"]} for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId") in group_ids]
        if pairs:
            rules.append({**{k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm},
                          "UserIdGroupPairs": pairs})
    return rules


def _security_groups_gone(domain_id: str, vpc_id: str | None) -> bool:
    """Delete the two NFS security groups SageMaker created; True once both are gone."""
    if not vpc_id:
        _log("no VPC on the domain", domain_id=domain_id)
        return True
    ec2 = _client("ec2")
    names = [name.format(domain_id) for name in SECURITY_GROUP_NAMES]
    groups = _list("ec2", "describe_security_groups", "SecurityGroups", Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}])
    ids = {group["GroupId"] for group in groups}
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
    if remove_home_efs and not (_home_efs_gone(domain_id, domain.get("HomeEfsFileSystemId"))
                                and _security_groups_gone(domain_id, domain.get("VpcId"))):
        return False
    _log("complete", domain_id=domain_id, removed_home_efs=remove_home_efs)
    return True


def s3_prefix_list_id(name: str) -> str:
    """The id of the AWS-managed prefix list ``name`` (``com.amazonaws.<region>.s3``)."""
    lists = _client("ec2").describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [name]}])
    found = lists.get("PrefixLists", [])
    if len(found) != 1:
        raise TeardownError(f"expected one prefix list named {name}, found {len(found)}")
    return found[0]["PrefixListId"]


def on_event(event: dict, context: Any) -> dict:
    """Create/Update: look up the S3 prefix list if asked (``S3PrefixListName``), no teardown work.
    Delete: start deleting the domain's apps (is_complete finishes)."""
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
    try:
        _log("app deletion started", domain_id=domain_id, remaining=_delete_apps(domain_id))
    except ClientError as err:
        if _code(err) not in THROTTLING and not _is_gone(err):
            raise
        _log("app deletion deferred to is_complete", domain_id=domain_id, reason=_code(err))
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


def is_complete(event: dict, context: Any) -> dict:
    """Create/Update: complete. Delete: advance the teardown one step; not complete while work remains."""
    if event["RequestType"] != "Delete":
        return {"IsComplete": True}
    props = event.get("ResourceProperties", {})
    domain_id = props["DomainId"]
    try:
        done = _teardown(domain_id, str(props.get("RemoveHomeEfs", "false")).lower() == "true")
    except ClientError as err:
        if _code(err) not in THROTTLING:
            raise
        _log("not complete: throttled", domain_id=domain_id, reason=_code(err), detail=str(err))
        done = False
    return {"IsComplete": done}

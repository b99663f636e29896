"""studio_teardown handler: every AWS request and response is checked by botocore Stubbers against the real models."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from tests.handlers.conftest import load_handler
from botocore.exceptions import ClientError
from botocore.stub import Stubber

st = load_handler("studio_teardown")

DOMAIN, FS, VPC = "d-abc123", "fs-0123456789abcdef0", "vpc-0a1b2c3d4e5f60718"
SG_IN, SG_OUT = "sg-0000000000000000a", "sg-0000000000000000b"
PHYSICAL_ID = f"studio-teardown-{DOMAIN}"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class Aws:
    """Real clients with Stubbers, installed as the handler's clients; records which services and calls were used."""

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name="us-east-1") for name in ("sagemaker", "efs", "ec2")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        self.used: set[str] = set()
        self.calls: list[str] = []
        for client in self.clients.values():  # registered before the Stubber so it sees every call
            client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))

    def client(self, name: str):
        self.used.add(name)
        return self.clients[name]

    # --- SageMaker
    def domain(self) -> None:
        self.stubs["sagemaker"].add_response(
            "describe_domain",
            {"DomainId": DOMAIN, "Status": "InService", "HomeEfsFileSystemId": FS, "VpcId": VPC},
            {"DomainId": DOMAIN})

    def _pages(self, operation: str, key: str, pages: tuple[list, ...]) -> None:
        for i, page in enumerate(pages or ([],)):
            response = {key: page, **({"NextToken": f"t{i + 1}"} if i + 1 < len(pages) else {})}
            expected = {"DomainIdEquals": DOMAIN, **({"NextToken": f"t{i}"} if i else {})}
            self.stubs["sagemaker"].add_response(operation, response, expected)

    def apps(self, *pages: list) -> None:
        self._pages("list_apps", "Apps", pages)

    def spaces(self, *pages: list) -> None:
        self._pages("list_spaces", "Spaces", pages)

    def delete_app(self, app: dict) -> None:
        owner = {"SpaceName": app["SpaceName"]} if "SpaceName" in app else {"UserProfileName": app["UserProfileName"]}
        self.stubs["sagemaker"].add_response(
            "delete_app", {}, {"DomainId": DOMAIN, "AppType": app["AppType"], "AppName": app["AppName"], **owner})

    def delete_space(self, name: str) -> None:
        self.stubs["sagemaker"].add_response("delete_space", {}, {"DomainId": DOMAIN, "SpaceName": name})

    def sagemaker_done(self) -> None:
        """A poll past the SageMaker phases: domain there, apps all finished, no spaces."""
        self.domain()
        self.apps([app("JupyterLab", "default", "Deleted", space="s1")])
        self.spaces()

    # --- EFS
    def mount_targets(self, *targets: tuple[str, str]) -> None:
        self.stubs["efs"].add_response("describe_mount_targets", {"MountTargets": [
            {"MountTargetId": mt, "FileSystemId": FS, "SubnetId": "subnet-0123456789abcdef0", "LifeCycleState": state}
            for mt, state in targets]}, {"FileSystemId": FS})

    def file_system(self, state: str) -> None:
        self.stubs["efs"].add_response("describe_file_systems", {"FileSystems": [{
            "OwnerId": "123456789012", "CreationToken": "tok", "FileSystemId": FS, "CreationTime": NOW,
            "LifeCycleState": state, "NumberOfMountTargets": 0, "SizeInBytes": {"Value": 6144},
            "PerformanceMode": "generalPurpose", "Tags": []}]}, {"FileSystemId": FS})

    # --- EC2
    def security_groups(self, *groups: dict) -> None:
        self.stubs["ec2"].add_response("describe_security_groups", {"SecurityGroups": list(groups)}, {"Filters": [
            {"Name": "vpc-id", "Values": [VPC]},
            {"Name": "group-name", "Values": [f"security-group-for-inbound-nfs-{DOMAIN}",
                                              f"security-group-for-outbound-nfs-{DOMAIN}"]}]})

    def delete_group(self, group_id: str) -> None:
        self.stubs["ec2"].add_response("delete_security_group", {"Return": True, "GroupId": group_id},
                                       {"GroupId": group_id})

    def error(self, service: str, method: str, code: str, message: str = "", status: int = 400,
              expected: dict | None = None) -> None:
        self.stubs[service].add_client_error(method, code, message or code, status, expected_params=expected)


@pytest.fixture
def aws(monkeypatch):
    aws = Aws()
    for stub in aws.stubs.values():
        stub.activate()
    monkeypatch.setattr(st, "_client", aws.client)
    yield aws
    for stub in aws.stubs.values():
        stub.assert_no_pending_responses()  # every queued call was made: a missed step fails the test
        stub.deactivate()


def app(app_type: str, name: str, status: str, user: str | None = None, space: str | None = None) -> dict:
    owner = {"SpaceName": space} if space else {"UserProfileName": user}
    return {"DomainId": DOMAIN, "AppType": app_type, "AppName": name, "Status": status, **owner}


def space(name: str, status: str) -> dict:
    return {"DomainId": DOMAIN, "SpaceName": name, "Status": status}


def group(group_id: str, name: str, ingress: list | None = None, egress: list | None = None) -> dict:
    return {"GroupId": group_id, "GroupName": name, "VpcId": VPC, "OwnerId": "123456789012",
            "Description": "NFS", "IpPermissions": ingress or [], "IpPermissionsEgress": egress or []}


def nfs_rule(peer: str) -> dict:
    return {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "IpRanges": [], "Ipv6Ranges": [],
            "PrefixListIds": [], "UserIdGroupPairs": [{"GroupId": peer, "UserId": "123456789012"}]}


def nfs_revoke(peer: str) -> list:
    return [{"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "UserIdGroupPairs": [{"GroupId": peer}]}]


def event(request: str, remove_home_efs: str = "true", **extra) -> dict:
    ev = {"RequestType": request, "ResourceType": "Custom::StudioTeardown", "LogicalResourceId": "Teardown",
          "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "r-1",
          "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:p",
                                 "DomainId": DOMAIN, "RemoveHomeEfs": remove_home_efs}, **extra}
    if request != "Create":
        ev.setdefault("PhysicalResourceId", PHYSICAL_ID)
    return ev


def poll(remove_home_efs: str = "true") -> bool:
    return st.is_complete(event("Delete", remove_home_efs), None)["IsComplete"]


# --- Create / Update


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_make_no_aws_calls(aws, request_type):
    assert st.on_event(event(request_type), None) == {"PhysicalResourceId": PHYSICAL_ID}
    assert st.is_complete(event(request_type), None) == {"IsComplete": True}
    assert aws.used == set() and aws.calls == []


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_answer_the_s3_prefix_list_when_asked(aws, request_type):
    name = "com.amazonaws.us-east-1.s3"
    aws.stubs["ec2"].add_response(
        "describe_prefix_lists",
        {"PrefixLists": [{"PrefixListId": "pl-63a5400a", "PrefixListName": name, "Cidrs": ["54.231.0.0/16"]}]},
        {"Filters": [{"Name": "prefix-list-name", "Values": [name]}]},
    )
    ev = event(request_type)
    ev["ResourceProperties"]["S3PrefixListName"] = name
    assert st.on_event(ev, None) == {"PhysicalResourceId": PHYSICAL_ID, "Data": {"S3PrefixListId": "pl-63a5400a"}}
    assert aws.used == {"ec2"}


def test_missing_s3_prefix_list_fails_create(aws):
    aws.stubs["ec2"].add_response("describe_prefix_lists", {"PrefixLists": []}, None)
    ev = event("Create")
    ev["ResourceProperties"]["S3PrefixListName"] = "com.amazonaws.nowhere-1.s3"
    with pytest.raises(st.TeardownError, match="expected one prefix list"):
        st.on_event(ev, None)


# --- Delete


def test_delete_happy_path_through_every_phase(aws, capsys):
    lab = app("JupyterLab", "default", "InService", space="alice-space")
    kernel = app("KernelGateway", "datascience-1", "Pending", user="alice")
    # on_event: two pages; only the InService and Pending apps are deleted
    aws.apps([lab, kernel], [app("JupyterServer", "default", "Deleted", user="alice"),
                             app("CodeEditor", "default", "Deleting", space="bob-space"),
                             app("TensorBoard", "default", "Failed", user="bob")])
    aws.delete_app(lab)
    aws.delete_app(kernel)
    assert st.on_event(event("Delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}

    # poll 1: apps still deleting, nothing re-issued
    aws.domain()
    aws.apps([{**lab, "Status": "Deleting"}, {**kernel, "Status": "Deleting"},
              app("CodeEditor", "default", "Deleting", space="bob-space")])
    assert poll() is False
    # poll 2: apps done; one space deleted, the other already deleting
    aws.domain()
    aws.apps([{**lab, "Status": "Deleted"}, {**kernel, "Status": "Failed"}])
    aws.spaces([space("alice-space", "InService"), space("bob-space", "Deleting")])
    aws.delete_space("alice-space")
    assert poll() is False
    # poll 3: spaces gone; both mount targets deleted
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000001", "available"), ("fsmt-0000000000000002", "available"))
    for mt in ("fsmt-0000000000000001", "fsmt-0000000000000002"):
        aws.stubs["efs"].add_response("delete_mount_target", {}, {"MountTargetId": mt})
    assert poll() is False
    # poll 4: one mount target still deleting
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000002", "deleting"))
    assert poll() is False
    # poll 5: no mount target left: the file system is deleted
    aws.sagemaker_done()
    aws.mount_targets()
    aws.file_system("available")
    aws.stubs["efs"].add_response("delete_file_system", {}, {"FileSystemId": FS})
    assert poll() is False
    # poll 6: file system still deleting
    aws.sagemaker_done()
    aws.mount_targets()
    aws.file_system("deleting")
    assert poll() is False
    # poll 7: file system gone; mutual rules revoked, both groups deleted
    aws.sagemaker_done()
    aws.error("efs", "describe_mount_targets", "FileSystemNotFound", "File system does not exist.", 404)
    aws.security_groups(
        group(SG_IN, f"security-group-for-inbound-nfs-{DOMAIN}", ingress=[nfs_rule(SG_OUT)]),
        group(SG_OUT, f"security-group-for-outbound-nfs-{DOMAIN}", egress=[
            nfs_rule(SG_IN), {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]))
    aws.stubs["ec2"].add_response("revoke_security_group_ingress", {"Return": True},
                                  {"GroupId": SG_IN, "IpPermissions": nfs_revoke(SG_OUT)})
    aws.stubs["ec2"].add_response("revoke_security_group_egress", {"Return": True},
                                  {"GroupId": SG_OUT, "IpPermissions": nfs_revoke(SG_IN)})
    aws.delete_group(SG_IN)
    aws.delete_group(SG_OUT)
    assert poll() is True

    assert aws.calls.count("DeleteApp") == 2 and aws.calls.count("DeleteSpace") == 1
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    messages = [entry["message"] for entry in logs]
    assert "not complete: apps remain" in messages and "not complete: spaces remain" in messages
    assert "not complete: mount targets remain" in messages and messages[-1] == "complete"


def test_delete_without_home_efs_removal_never_touches_efs_or_ec2(aws):
    aws.apps([])
    st.on_event(event("Delete", "false"), None)
    aws.sagemaker_done()
    assert poll("false") is True
    assert aws.used == {"sagemaker"}


def test_apps_appearing_after_on_event_are_deleted(aws):
    aws.apps([])
    st.on_event(event("Delete"), None)
    late = app("JupyterLab", "late", "InService", space="carol-space")
    aws.domain()
    aws.apps([late])
    aws.delete_app(late)
    assert poll() is False


def test_app_already_gone_on_delete_counts_as_deleted(aws):
    gone = app("CodeEditor", "default", "InService", space="s1")
    aws.domain()
    aws.apps([gone])
    aws.error("sagemaker", "delete_app", "ValidationException", "App [default] does not exist.")
    aws.spaces()
    assert poll("false") is True


@pytest.mark.parametrize("code, message", [
    ("ResourceNotFound", "Cannot find Domain"), ("ValidationException", "Domain d-abc123 does not exist"),
])
def test_domain_already_gone_is_complete(aws, code, message):
    aws.error("sagemaker", "list_apps", code, message)
    assert st.on_event(event("Delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
    aws.error("sagemaker", "describe_domain", code, message, expected={"DomainId": DOMAIN})
    assert poll() is True
    assert aws.used == {"sagemaker"}


def test_home_efs_and_security_groups_already_gone(aws):
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000001", "available"))
    aws.error("efs", "delete_mount_target", "MountTargetNotFound", "Mount target does not exist.", 404)
    aws.error("efs", "describe_file_systems", "FileSystemNotFound", "File system does not exist.", 404)
    aws.security_groups(group(SG_IN, "in"), group(SG_OUT, "out", egress=[nfs_rule(SG_IN)]))
    aws.error("ec2", "revoke_security_group_egress", "InvalidGroup.NotFound", "The security group does not exist")
    aws.error("ec2", "delete_security_group", "InvalidGroup.NotFound", "The security group does not exist")
    aws.error("ec2", "delete_security_group", "InvalidGroupId.NotFound", "The security group does not exist")
    assert poll() is True


def test_home_efs_and_security_groups_not_found_at_all(aws):
    aws.sagemaker_done()
    aws.error("efs", "describe_mount_targets", "FileSystemNotFound", "File system does not exist.", 404)
    aws.security_groups()
    assert poll() is True


def test_space_delete_failed_raises_with_its_reason(aws):
    aws.domain()
    aws.apps([])
    aws.spaces([space("ok-space", "InService"), space("bad-space", "Delete_Failed")])
    aws.stubs["sagemaker"].add_response(
        "describe_space", {"DomainId": DOMAIN, "SpaceName": "bad-space", "Status": "Delete_Failed",
                           "FailureReason": "EFS home directory is locked"},
        {"DomainId": DOMAIN, "SpaceName": "bad-space"})
    with pytest.raises(st.TeardownError, match="bad-space.*EFS home directory is locked"):
        poll()
    assert "DeleteSpace" not in aws.calls


def test_space_in_use_is_not_complete(aws):
    aws.domain()
    aws.apps([])
    aws.spaces([space("busy", "InService")])
    aws.error("sagemaker", "delete_space", "ResourceInUse", "Space has apps", expected={
        "DomainId": DOMAIN, "SpaceName": "busy"})
    assert poll() is False


@pytest.mark.parametrize("code", sorted(st.THROTTLING))
def test_throttling_returns_not_complete(aws, code):
    aws.error("sagemaker", "list_apps", code, "Rate exceeded")
    assert st.on_event(event("Delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
    aws.domain()
    aws.error("sagemaker", "list_apps", code, "Rate exceeded")
    assert poll() is False


def test_throttling_in_a_later_phase_returns_not_complete(aws):
    aws.sagemaker_done()
    aws.error("efs", "describe_mount_targets", "ThrottlingException", "Rate exceeded", 429)
    assert poll() is False
    aws.sagemaker_done()
    aws.error("efs", "describe_mount_targets", "FileSystemNotFound", "File system does not exist.", 404)
    aws.error("ec2", "describe_security_groups", "RequestLimitExceeded", "Request limit exceeded.", 503)
    assert poll() is False


def test_access_denied_raises(aws):
    kernel = app("KernelGateway", "k", "InService", user="alice")
    aws.apps([kernel])
    aws.error("sagemaker", "delete_app", "AccessDeniedException", "not authorized to perform sagemaker:DeleteApp")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        st.on_event(event("Delete"), None)
    aws.sagemaker_done()
    aws.error("efs", "describe_mount_targets", "AccessDeniedException", "not authorized", 403)
    with pytest.raises(ClientError, match="not authorized"):
        poll()


def test_dependency_violation_on_security_group_delete_is_not_complete(aws):
    def past_efs() -> None:
        aws.sagemaker_done()
        aws.error("efs", "describe_mount_targets", "FileSystemNotFound", "File system does not exist.", 404)

    past_efs()
    aws.security_groups(group(SG_IN, "in"), group(SG_OUT, "out"))  # rules revoked on an earlier poll
    aws.error("ec2", "delete_security_group", "DependencyViolation",
              f"resource {SG_IN} has a dependent object", expected={"GroupId": SG_IN})
    aws.delete_group(SG_OUT)
    assert poll() is False
    past_efs()
    aws.security_groups(group(SG_IN, "in"))
    aws.delete_group(SG_IN)
    assert poll() is True
    assert not any(call.startswith("Revoke") for call in aws.calls)


def test_idempotent_polls_repeat_no_delete_on_resources_already_deleting(aws):
    lab = app("JupyterLab", "default", "InService", user="alice")
    aws.apps([lab])
    aws.delete_app(lab)
    st.on_event(event("Delete"), None)
    for _ in range(2):
        aws.domain()
        aws.apps([{**lab, "Status": "Deleting"}])
        assert poll() is False
    for _ in range(2):
        aws.domain()
        aws.apps([{**lab, "Status": "Deleted"}])
        aws.spaces([space("s1", "Deleting")])
        assert poll() is False
    for _ in range(2):
        aws.sagemaker_done()
        aws.mount_targets(("fsmt-0000000000000001", "deleting"))
        assert poll() is False
    for _ in range(2):
        aws.sagemaker_done()
        aws.mount_targets()
        aws.file_system("deleting")
        assert poll() is False
    assert aws.calls.count("DeleteApp") == 1
    assert not {"DeleteSpace", "DeleteMountTarget", "DeleteFileSystem"} & set(aws.calls)


# --- packaging



"""studio_teardown handler: every AWS request and response is checked by botocore Stubbers against the real models.

A Stubber answers before botocore's retry handler runs, so one stubbed 5xx is what the handler sees
after boto3's retries are exhausted.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from tests.handlers.conftest import load_handler

st = load_handler("studio_teardown")

DOMAIN, FS, VPC = "d-abc123", "fs-0123456789abcdef0", "vpc-0a1b2c3d4e5f60718"
SG_IN, SG_OUT, SG_DOMAIN = "sg-0000000000000000a", "sg-0000000000000000b", "sg-0000000000000000c"
ENI_1, ENI_2 = "eni-00000000000000001", "eni-00000000000000002"
PHYSICAL_ID = f"studio-teardown-{DOMAIN}"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/platform/1"
DOMAIN_LOGICAL_ID = "Studio43727D10"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
UPDATING = sorted(st.STACK_UPDATING)
TEAR_DOWN = {"Act": True, "Reason": "the stack is being deleted, the domain with it"}


class Aws:
    """Real clients with Stubbers, installed as the handler's clients; records which services and calls were used."""

    def __init__(self) -> None:
        names = ("sagemaker", "efs", "ec2", "cloudformation")
        self.clients = {name: boto3.client(name, region_name="us-east-1") for name in names}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        self.used: set[str] = set()
        self.calls: list[str] = []
        for client in self.clients.values():  # registered before the Stubber so it sees every call
            client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))

    def client(self, name: str):
        self.used.add(name)
        return self.clients[name]

    # --- CloudFormation
    def stack(self, status: str) -> None:
        self.stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [
            {"StackId": STACK_ID, "StackName": "platform", "CreationTime": NOW, "StackStatus": status}]},
            {"StackName": STACK_ID})

    def domain_resource(self, physical_id: str | None = DOMAIN) -> None:
        expected = {"StackName": STACK_ID, "LogicalResourceId": DOMAIN_LOGICAL_ID}
        if physical_id is None:
            self.error("cloudformation", "describe_stack_resource", "ValidationError",
                       f"Resource {DOMAIN_LOGICAL_ID} does not exist for stack platform", expected=expected)
            return
        self.stubs["cloudformation"].add_response("describe_stack_resource", {"StackResourceDetail": {
            "StackId": STACK_ID, "LogicalResourceId": DOMAIN_LOGICAL_ID, "PhysicalResourceId": physical_id,
            "ResourceType": "AWS::SageMaker::Domain", "LastUpdatedTimestamp": NOW,
            "ResourceStatus": "UPDATE_COMPLETE"}}, expected)

    def template(self, *logical_ids: str, body: str | None = None) -> None:
        if body is None:
            body = json.dumps({"Resources": {lid: {"Type": "AWS::Test::Thing"} for lid in logical_ids}})
        self.stubs["cloudformation"].add_response("get_template", {"TemplateBody": body},
                                                  {"StackName": STACK_ID, "TemplateStage": "Processed"})

    # --- SageMaker
    def domain(self) -> None:
        self.stubs["sagemaker"].add_response(
            "describe_domain",
            {"DomainId": DOMAIN, "Status": "InService", "HomeEfsFileSystemId": FS, "VpcId": VPC,
             "DomainSettings": {"SecurityGroupIds": [SG_DOMAIN]},
             "DefaultUserSettings": {"SecurityGroups": [SG_DOMAIN]}},
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

    def delete_mount_target(self, mount_target: str) -> None:
        self.stubs["efs"].add_response("delete_mount_target", {}, {"MountTargetId": mount_target})

    def file_system(self, state: str) -> None:
        self.stubs["efs"].add_response("describe_file_systems", {"FileSystems": [{
            "OwnerId": "123456789012", "CreationToken": "tok", "FileSystemId": FS, "CreationTime": NOW,
            "LifeCycleState": state, "NumberOfMountTargets": 0, "SizeInBytes": {"Value": 6144},
            "PerformanceMode": "generalPurpose", "Tags": []}]}, {"FileSystemId": FS})

    def efs_gone(self) -> None:
        self.error("efs", "describe_mount_targets", "FileSystemNotFound", "File system does not exist.", 404)

    # --- EC2
    def security_groups(self, *groups: dict) -> None:
        self.stubs["ec2"].add_response("describe_security_groups", {"SecurityGroups": list(groups)}, {"Filters": [
            {"Name": "vpc-id", "Values": [VPC]},
            {"Name": "group-name", "Values": [f"security-group-for-inbound-nfs-{DOMAIN}",
                                              f"security-group-for-outbound-nfs-{DOMAIN}"]}]})

    def interfaces(self, *interfaces: tuple[str, str], groups: tuple[str, ...] = (SG_DOMAIN,)) -> None:
        self.stubs["ec2"].add_response("describe_network_interfaces", {"NetworkInterfaces": [
            {"NetworkInterfaceId": eni, "Status": status, "VpcId": VPC} for eni, status in interfaces]},
            {"Filters": [{"Name": "vpc-id", "Values": [VPC]}, {"Name": "group-id", "Values": sorted(groups)}]})

    def delete_interface(self, eni: str) -> None:
        self.stubs["ec2"].add_response("delete_network_interface", {}, {"NetworkInterfaceId": eni})

    def delete_group(self, group_id: str) -> None:
        self.stubs["ec2"].add_response("delete_security_group", {"Return": True, "GroupId": group_id},
                                       {"GroupId": group_id})

    def network_done(self) -> None:
        """No leftover ENI and no NFS security group."""
        self.security_groups()
        self.interfaces()

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


def event(request: str, remove_home_efs: str = "true", *, logical_id: str = "StudioTeardown0A1B2C3D",
          decision: dict | None = None, **props) -> dict:
    ev = {"RequestType": request, "ResourceType": "Custom::StudioTeardown", "LogicalResourceId": logical_id,
          "StackId": STACK_ID, "RequestId": "r-1",
          "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:p",
                                 "DomainId": DOMAIN, "DomainLogicalId": DOMAIN_LOGICAL_ID,
                                 "DomainDeletionPolicy": "Delete", "DomainUpdateReplacePolicy": "Delete",
                                 "RemoveHomeEfs": remove_home_efs, **props}}
    if request != "Create":
        ev["PhysicalResourceId"] = PHYSICAL_ID
    if decision is not None:  # as the Provider framework passes on_event's answer to is_complete
        ev[st.DECISION] = decision
    return ev


def poll(remove_home_efs: str = "true") -> bool:
    """One is_complete poll after on_event decided to tear down."""
    return st.is_complete(event("Delete", remove_home_efs, decision=TEAR_DOWN), None)["IsComplete"]


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


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
    ev = event(request_type, S3PrefixListName=name)
    assert st.on_event(ev, None) == {"PhysicalResourceId": PHYSICAL_ID, "Data": {"S3PrefixListId": "pl-63a5400a"}}
    assert aws.used == {"ec2"}


def test_missing_s3_prefix_list_fails_create(aws):
    aws.stubs["ec2"].add_response("describe_prefix_lists", {"PrefixLists": []}, None)
    with pytest.raises(st.TeardownError, match="expected one prefix list"):
        st.on_event(event("Create", S3PrefixListName="com.amazonaws.nowhere-1.s3"), None)


# --- Delete: the decision


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_stack_deletion_tears_the_domain_down(aws, capsys, status):
    lab = app("JupyterLab", "default", "InService", space="alice-space")
    aws.stack(status)
    aws.apps([lab])
    aws.delete_app(lab)
    answer = st.on_event(event("Delete"), None)
    assert answer["PhysicalResourceId"] == PHYSICAL_ID and answer[st.DECISION]["Act"] is True
    assert aws.calls == ["DescribeStacks", "ListApps", "DeleteApp"]
    (decision,) = [line for line in log_lines(capsys) if line["message"].startswith("decision")]
    assert decision["message"] == "decision: tear down the domain" and decision["stack_status"] == status


# Renaming or replacing the teardown resource, removing it, or teardown=False: CloudFormation sends the
# old resource a Delete during the update (cleanup) or its rollback, while the domain stays.
@pytest.mark.parametrize("status", UPDATING)
@pytest.mark.parametrize("scenario, logical_id", [
    ("teardown renamed", "StudioTeardownOld1234"), ("teardown replaced", "StudioTeardown0A1B2C3D"),
    ("teardown removed or teardown=False", "StudioTeardown0A1B2C3D"),
])
def test_delete_of_the_teardown_during_an_update_deletes_nothing(aws, capsys, status, scenario, logical_id):
    aws.stack(status)
    aws.domain_resource(DOMAIN)
    aws.template(DOMAIN_LOGICAL_ID, "StudioUserProfilesalice1234ABCD")
    answer = st.on_event(event("Delete", logical_id=logical_id), None)
    assert answer == {"PhysicalResourceId": PHYSICAL_ID, st.DECISION: {
        "Act": False, "Reason": "the domain stays in the stack: only the teardown resource goes"}}
    # The Provider framework then polls is_complete with on_event's answer merged in: complete at once.
    assert st.is_complete({**event("Delete", logical_id=logical_id), **answer}, None) == {"IsComplete": True}
    assert aws.used == {"cloudformation"}
    assert aws.calls == ["DescribeStacks", "DescribeStackResource", "GetTemplate"]
    assert not any(call.startswith(("Delete", "Revoke")) for call in aws.calls)
    logs = log_lines(capsys)
    assert [line["message"] for line in logs] == ["decision: delete nothing", "complete: nothing deleted"]
    assert logs[0]["teardown_logical_id"] == logical_id and logs[0]["stack_status"] == status


@pytest.mark.parametrize("status", UPDATING)
def test_domain_replaced_in_the_update_is_torn_down(aws, status):
    aws.stack(status)
    aws.domain_resource("d-new456")
    aws.apps([])
    answer = st.on_event(event("Delete"), None)
    assert answer[st.DECISION] == {"Act": True, "Reason": "the domain is replaced: its logical resource names another domain"}


@pytest.mark.parametrize("status", UPDATING)
def test_domain_removed_from_the_stack_is_torn_down(aws, status):
    aws.stack(status)
    aws.domain_resource(None)
    aws.apps([])
    assert st.on_event(event("Delete"), None)[st.DECISION]["Act"] is True


@pytest.mark.parametrize("status", UPDATING)
def test_domain_deleted_in_the_same_update_is_torn_down(aws, status):
    """The StudioDomain is removed: domain and teardown go in the same cleanup; the domain is still a stack
    resource with the same physical id, but no longer in the template."""
    aws.stack(status)
    aws.domain_resource(DOMAIN)
    aws.template("PlatformKey9FD66B6F")
    aws.apps([])
    assert st.on_event(event("Delete"), None)[st.DECISION] == {
        "Act": True, "Reason": "the domain is removed from the stack in this update"}


@pytest.mark.parametrize("status, policy, prop, stubs", [
    ("DELETE_IN_PROGRESS", "Retain", "DomainDeletionPolicy", ()),
    ("DELETE_IN_PROGRESS", "RetainExceptOnCreate", "DomainDeletionPolicy", ()),
    ("ROLLBACK_IN_PROGRESS", "Retain", "DomainDeletionPolicy", ()),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "Retain", "DomainDeletionPolicy", ("removed",)),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "Retain", "DomainDeletionPolicy", ("same", "template")),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "Retain", "DomainUpdateReplacePolicy", ("replaced",)),
])
def test_a_retained_domain_is_never_emptied(aws, status, policy, prop, stubs):
    aws.stack(status)
    for stub in stubs:
        {"removed": lambda: aws.domain_resource(None), "same": lambda: aws.domain_resource(DOMAIN),
         "replaced": lambda: aws.domain_resource("d-new456"), "template": lambda: aws.template()}[stub]()
    answer = st.on_event(event("Delete", **{prop: policy}), None)
    assert answer[st.DECISION]["Act"] is False and "retain" in answer[st.DECISION]["Reason"].lower()
    assert aws.used == {"cloudformation"}


def test_retain_except_on_create_still_tears_down_a_failed_create(aws):
    aws.stack("ROLLBACK_IN_PROGRESS")
    aws.apps([])
    assert st.on_event(event("Delete", DomainDeletionPolicy="RetainExceptOnCreate"), None)[st.DECISION]["Act"] is True


def test_older_teardown_without_domain_logical_id(aws):
    """A resource created before DomainLogicalId existed: nothing during an update, teardown on stack delete."""
    ev = event("Delete")
    del ev["ResourceProperties"]["DomainLogicalId"]
    aws.stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    assert st.on_event(ev, None)[st.DECISION]["Act"] is False
    aws.stack("DELETE_IN_PROGRESS")
    aws.apps([])
    assert st.on_event(ev, None)[st.DECISION]["Act"] is True


@pytest.mark.parametrize("status", ["IMPORT_ROLLBACK_IN_PROGRESS", "UPDATE_COMPLETE", "CREATE_IN_PROGRESS"])
def test_any_other_stack_status_deletes_nothing(aws, status):
    aws.stack(status)
    assert st.on_event(event("Delete"), None)[st.DECISION]["Act"] is False
    assert aws.used == {"cloudformation"}


def test_unreadable_template_deletes_nothing(aws):
    aws.stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    aws.domain_resource(DOMAIN)
    aws.template(body="Resources:\n  Studio43727D10:\n    Type: AWS::SageMaker::Domain\n")
    assert st.on_event(event("Delete"), None)[st.DECISION]["Act"] is False


def test_decision_deferred_on_a_transient_error_then_taken_by_is_complete(aws, capsys):
    aws.error("cloudformation", "describe_stacks", "InternalFailure", "internal error", 500)
    answer = st.on_event(event("Delete"), None)
    assert answer == {"PhysicalResourceId": PHYSICAL_ID}  # no decision: is_complete decides
    aws.error("cloudformation", "describe_stacks", "Throttling", "Rate exceeded", 400)
    assert st.is_complete(event("Delete"), None) == {"IsComplete": False}
    aws.stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    aws.domain_resource(DOMAIN)
    aws.template(DOMAIN_LOGICAL_ID)
    assert st.is_complete(event("Delete"), None) == {"IsComplete": True}
    assert aws.used == {"cloudformation"}
    messages = [line["message"] for line in log_lines(capsys)]
    assert messages == ["decision deferred to is_complete: transient error, retried on the next poll",
                        "not complete: transient error, retried on the next poll",
                        "decision: delete nothing", "complete: nothing deleted"]


def test_decision_errors_that_are_not_transient_fail_without_deleting(aws):
    aws.error("cloudformation", "describe_stacks", "AccessDenied", "not authorized to perform DescribeStacks", 403)
    with pytest.raises(ClientError, match="AccessDenied"):
        st.on_event(event("Delete"), None)
    assert aws.used == {"cloudformation"}


def test_is_complete_trusts_on_events_decision(aws):
    assert st.is_complete(event("Delete", decision={"Act": False, "Reason": "stays"}), None) == {"IsComplete": True}
    assert aws.calls == []


# --- Delete: the teardown


def test_stack_delete_with_home_efs_destroyed_goes_through_every_phase(aws, capsys):
    lab = app("JupyterLab", "default", "InService", space="alice-space")
    kernel = app("KernelGateway", "datascience-1", "Pending", user="alice")
    # on_event: two pages; only the InService and Pending apps are deleted
    aws.stack("DELETE_IN_PROGRESS")
    aws.apps([lab, kernel], [app("JupyterServer", "default", "Deleted", user="alice"),
                             app("CodeEditor", "default", "Deleting", space="bob-space")])
    aws.delete_app(lab)
    aws.delete_app(kernel)
    answer = st.on_event(event("Delete"), None)
    assert answer == {"PhysicalResourceId": PHYSICAL_ID, st.DECISION: TEAR_DOWN}

    # poll 1: apps still deleting, nothing re-issued
    aws.domain()
    aws.apps([{**lab, "Status": "Deleting"}, {**kernel, "Status": "Deleting"},
              app("CodeEditor", "default", "Deleting", space="bob-space")])
    assert poll() is False
    # poll 2: apps done; one space deleted, the other already deleting
    aws.domain()
    aws.apps([{**lab, "Status": "Deleted"}, {**kernel, "Status": "Deleted"}])
    aws.spaces([space("alice-space", "InService"), space("bob-space", "Deleting")])
    aws.delete_space("alice-space")
    assert poll() is False
    # poll 3: spaces gone; both mount targets deleted
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000001", "available"), ("fsmt-0000000000000002", "available"))
    aws.delete_mount_target("fsmt-0000000000000001")
    aws.delete_mount_target("fsmt-0000000000000002")
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
    # poll 7: file system gone; a leftover ENI deleted; mutual rules revoked, both groups deleted
    aws.sagemaker_done()
    aws.efs_gone()
    aws.security_groups(
        group(SG_IN, f"security-group-for-inbound-nfs-{DOMAIN}", ingress=[nfs_rule(SG_OUT)]),
        group(SG_OUT, f"security-group-for-outbound-nfs-{DOMAIN}", egress=[
            nfs_rule(SG_IN), {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]))
    aws.interfaces((ENI_1, "available"), groups=(SG_DOMAIN, SG_IN, SG_OUT))
    aws.delete_interface(ENI_1)
    aws.stubs["ec2"].add_response("revoke_security_group_ingress", {"Return": True},
                                  {"GroupId": SG_IN, "IpPermissions": nfs_revoke(SG_OUT)})
    aws.stubs["ec2"].add_response("revoke_security_group_egress", {"Return": True},
                                  {"GroupId": SG_OUT, "IpPermissions": nfs_revoke(SG_IN)})
    aws.delete_group(SG_IN)
    aws.delete_group(SG_OUT)
    assert poll() is True

    assert aws.calls.count("DeleteApp") == 2 and aws.calls.count("DeleteSpace") == 1
    assert aws.calls.count("DeleteFileSystem") == 1 and aws.calls.count("DeleteNetworkInterface") == 1
    messages = [entry["message"] for entry in log_lines(capsys)]
    assert "not complete: apps remain" in messages and "not complete: spaces remain" in messages
    assert "not complete: mount targets remain" in messages and messages[-1] == "complete"


def test_stack_delete_with_home_efs_retained_keeps_the_file_system_and_clears_the_network(aws, capsys):
    aws.stack("DELETE_IN_PROGRESS")
    aws.apps([])
    st.on_event(event("Delete", "false"), None)
    # poll 1: SageMaker done; the mount targets go (what blocks deleting the subnets)
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000001", "available"))
    aws.delete_mount_target("fsmt-0000000000000001")
    assert poll("false") is False
    # poll 2: mount targets gone: the file system is kept, never described nor deleted; ENIs and NFS groups go
    aws.sagemaker_done()
    aws.mount_targets()
    aws.security_groups(group(SG_IN, f"security-group-for-inbound-nfs-{DOMAIN}"),
                        group(SG_OUT, f"security-group-for-outbound-nfs-{DOMAIN}"))
    aws.interfaces((ENI_1, "available"), (ENI_2, "available"), groups=(SG_DOMAIN, SG_IN, SG_OUT))
    aws.delete_interface(ENI_1)
    aws.error("ec2", "delete_network_interface", "InvalidNetworkInterfaceID.NotFound",
              f"The networkInterface ID '{ENI_2}' does not exist", expected={"NetworkInterfaceId": ENI_2})
    aws.delete_group(SG_IN)
    aws.delete_group(SG_OUT)
    assert poll("false") is True
    assert not {"DeleteFileSystem", "DescribeFileSystems"} & set(aws.calls)
    messages = [entry["message"] for entry in log_lines(capsys)]
    assert "home EFS kept with its data, mount targets gone" in messages and messages[-1] == "complete"


def test_network_interfaces_in_use_are_left_alone_transitional_ones_waited_for(aws, capsys):
    def past_efs() -> None:
        aws.sagemaker_done()
        aws.efs_gone()
        aws.security_groups()

    past_efs()
    aws.interfaces((ENI_1, "in-use"), (ENI_2, "detaching"))
    assert poll() is False
    past_efs()
    aws.interfaces((ENI_1, "in-use"), (ENI_2, "available"))
    aws.error("ec2", "delete_network_interface", "InvalidNetworkInterface.InUse", "in use",
              expected={"NetworkInterfaceId": ENI_2})
    assert poll() is False
    past_efs()
    aws.interfaces((ENI_1, "in-use"))
    assert poll() is True
    assert aws.calls.count("DeleteNetworkInterface") == 1
    logs = log_lines(capsys)
    assert any(line["message"] == "network interfaces in use left alone" and line["network_interfaces"] == [ENI_1]
               for line in logs)


def test_failed_apps_are_deleted_too(aws):
    failed = app("TensorBoard", "default", "Failed", user="bob")
    lab = app("JupyterLab", "default", "InService", space="s1")
    aws.stack("DELETE_IN_PROGRESS")
    aws.apps([failed, lab])
    aws.delete_app(failed)
    aws.delete_app(lab)
    st.on_event(event("Delete", "false"), None)
    # a Failed app whose delete was issued is not waited for; the InService one is
    aws.domain()
    aws.apps([failed, {**lab, "Status": "Deleting"}])
    aws.delete_app(failed)
    assert poll("false") is False
    assert aws.calls.count("DeleteApp") == 3


def test_a_failed_app_that_refuses_deletion_does_not_block(aws, capsys):
    failed = app("KernelGateway", "k", "Failed", user="bob")
    aws.domain()
    aws.apps([failed])
    aws.error("sagemaker", "delete_app", "ValidationException", "App is in Failed state")
    aws.spaces()
    aws.efs_gone()
    aws.network_done()
    assert poll() is True
    assert "failed app refused deletion" in [line["message"] for line in log_lines(capsys)]


def test_apps_appearing_after_on_event_are_deleted(aws):
    aws.stack("DELETE_IN_PROGRESS")
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
    aws.efs_gone()
    aws.network_done()
    assert poll("false") is True


@pytest.mark.parametrize("code, message", [
    ("ResourceNotFound", "Cannot find Domain"), ("ValidationException", "Domain d-abc123 does not exist"),
])
def test_domain_already_gone_is_complete(aws, code, message):
    aws.stack("DELETE_IN_PROGRESS")
    aws.error("sagemaker", "list_apps", code, message)
    assert st.on_event(event("Delete"), None)[st.DECISION]["Act"] is True
    aws.error("sagemaker", "describe_domain", code, message, expected={"DomainId": DOMAIN})
    assert poll() is True
    assert aws.used == {"sagemaker", "cloudformation"}


def test_home_efs_and_security_groups_already_gone(aws):
    aws.sagemaker_done()
    aws.mount_targets(("fsmt-0000000000000001", "available"))
    aws.error("efs", "delete_mount_target", "MountTargetNotFound", "Mount target does not exist.", 404)
    aws.error("efs", "describe_file_systems", "FileSystemNotFound", "File system does not exist.", 404)
    aws.security_groups(group(SG_IN, "in"), group(SG_OUT, "out", egress=[nfs_rule(SG_IN)]))
    aws.interfaces(groups=(SG_DOMAIN, SG_IN, SG_OUT))
    aws.error("ec2", "revoke_security_group_egress", "InvalidGroup.NotFound", "The security group does not exist")
    aws.error("ec2", "delete_security_group", "InvalidGroup.NotFound", "The security group does not exist")
    aws.error("ec2", "delete_security_group", "InvalidGroupId.NotFound", "The security group does not exist")
    assert poll() is True


def test_home_efs_and_security_groups_not_found_at_all(aws):
    aws.sagemaker_done()
    aws.efs_gone()
    aws.network_done()
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


# --- transient errors: retried on the next poll until the provider's timeout


@pytest.mark.parametrize("code", sorted(st.THROTTLING))
def test_throttling_returns_not_complete(aws, code):
    aws.stack("DELETE_IN_PROGRESS")
    aws.error("sagemaker", "list_apps", code, "Rate exceeded")
    assert st.on_event(event("Delete"), None)[st.DECISION]["Act"] is True
    aws.domain()
    aws.error("sagemaker", "list_apps", code, "Rate exceeded")
    assert poll() is False


@pytest.mark.parametrize("code, status", [
    ("InternalFailure", 500), ("ServiceUnavailable", 503), ("InternalServerError", 500), ("BadGateway", 502),
])
@pytest.mark.parametrize("phase", ["apps", "spaces", "mount targets", "security groups", "network interfaces"])
def test_5xx_beyond_retries_is_retried_on_the_next_poll(aws, capsys, code, status, phase):
    def until(failing: str) -> None:
        aws.domain()
        if failing == "apps":
            return aws.error("sagemaker", "list_apps", code, "We encountered an internal error.", status)
        aws.apps([])
        if failing == "spaces":
            return aws.error("sagemaker", "list_spaces", code, "We encountered an internal error.", status)
        aws.spaces()
        if failing == "mount targets":
            return aws.error("efs", "describe_mount_targets", code, "internal error", status)
        aws.efs_gone()
        if failing == "security groups":
            return aws.error("ec2", "describe_security_groups", code, "internal error", status)
        aws.security_groups()
        if failing == "network interfaces":
            return aws.error("ec2", "describe_network_interfaces", code, "internal error", status)
        aws.interfaces()

    until(phase)
    assert poll() is False  # not a failed stack deletion: the next poll retries
    until("nothing")
    assert poll() is True
    messages = [line["message"] for line in log_lines(capsys)]
    assert "not complete: transient error, retried on the next poll" in messages and messages[-1] == "complete"


def test_connection_errors_are_retried_on_the_next_poll(aws, monkeypatch):
    def refuse(**_):
        raise EndpointConnectionError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com")

    monkeypatch.setattr(aws.clients["sagemaker"], "describe_domain", refuse)
    assert poll() is False
    monkeypatch.undo()
    monkeypatch.setattr(st, "_client", aws.client)
    aws.sagemaker_done()
    aws.efs_gone()
    aws.network_done()
    assert poll() is True


def test_5xx_in_on_event_defers_app_deletion(aws):
    aws.stack("DELETE_IN_PROGRESS")
    aws.error("sagemaker", "list_apps", "InternalFailure", "internal error", 500)
    assert st.on_event(event("Delete"), None) == {"PhysicalResourceId": PHYSICAL_ID, st.DECISION: TEAR_DOWN}


def test_access_denied_raises(aws):
    kernel = app("KernelGateway", "k", "InService", user="alice")
    aws.stack("DELETE_IN_PROGRESS")
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
        aws.efs_gone()

    past_efs()
    aws.security_groups(group(SG_IN, "in"), group(SG_OUT, "out"))  # rules revoked on an earlier poll
    aws.interfaces(groups=(SG_DOMAIN, SG_IN, SG_OUT))
    aws.error("ec2", "delete_security_group", "DependencyViolation",
              f"resource {SG_IN} has a dependent object", expected={"GroupId": SG_IN})
    aws.delete_group(SG_OUT)
    assert poll() is False
    past_efs()
    aws.security_groups(group(SG_IN, "in"))
    aws.interfaces(groups=(SG_DOMAIN, SG_IN))
    aws.delete_group(SG_IN)
    assert poll() is True
    assert not any(call.startswith("Revoke") for call in aws.calls)


def test_idempotent_polls_repeat_no_delete_on_resources_already_deleting(aws):
    lab = app("JupyterLab", "default", "InService", user="alice")
    aws.stack("DELETE_IN_PROGRESS")
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

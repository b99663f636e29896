"""promote_on_approval handler: every SageMaker, SSM, CodePipeline and CloudFormation request and
response is checked by a Stubber on a real client (botocore's own service models)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.handlers.conftest import load_handler

poa = load_handler("promote_on_approval")

ACCOUNT, REGION = "123456789012", "us-east-1"
GROUP, PARAMETER, PIPELINE, STACK = "churn-model", "/ml/churn/approved", "churn-delivery", "ChurnServing"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/cfn-deployment"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/11111111-2222-3333-4444-555555555555"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def arn(version: int) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/{version}"


def event(version: int, *, status: str = "Approved", force: bool | None = None, group: str = GROUP) -> dict:
    body = {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
            "detail": {"ModelPackageGroupName": group, "ModelPackageArn": arn(version), "ModelPackageVersion": version,
                       "ModelApprovalStatus": status}}
    return {**body, **({"force": force} if force is not None else {})}


class Clients:
    """Real clients with Stubbers, installed as the handler's clients; records every call made."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.clients, self.stubs = {}, {}
        for name in ("sagemaker", "ssm", "codepipeline", "cloudformation"):
            client = boto3.client(name, region_name=REGION)
            client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))
            self.clients[name], self.stubs[name] = client, Stubber(client)

    def package(self, version: int, status: str = "Approved") -> None:
        self.stubs["sagemaker"].add_response("describe_model_package", {
            "ModelPackageName": GROUP, "ModelPackageGroupName": GROUP, "ModelPackageVersion": version,
            "ModelPackageArn": arn(version), "CreationTime": NOW, "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []}, "ModelApprovalStatus": status,
        }, {"ModelPackageName": arn(version)})

    def current(self, version: int | None, parameter_version: int = 3) -> None:
        if version is None:
            self.stubs["ssm"].add_client_error("get_parameter", "ParameterNotFound", "not found", 400,
                                               expected_params={"Name": PARAMETER})
            return
        self.stubs["ssm"].add_response("get_parameter", {"Parameter": {
            "Name": PARAMETER, "Type": "String", "Value": arn(version), "Version": parameter_version}},
            {"Name": PARAMETER})

    def put(self, version: int, written: int) -> None:
        self.stubs["ssm"].add_response("put_parameter", {"Version": written, "Tier": "Standard"}, {
            "Name": PARAMETER, "Value": arn(version), "Type": "String", "Overwrite": True,
            "Description": f"Approved version of model package group {GROUP}"})

    def history(self, versions: dict[int, int]) -> None:
        self.stubs["ssm"].add_response("get_parameter_history", {"Parameters": [
            {"Name": PARAMETER, "Type": "String", "Value": arn(model), "Version": pv}
            for pv, model in versions.items()]}, {"Name": PARAMETER, "MaxResults": 50})

    def start(self, version: int, parameter_version: int, execution: str = "exec-1") -> None:
        self.stubs["codepipeline"].add_response(
            "start_pipeline_execution", {"pipelineExecutionId": execution},
            {"name": PIPELINE, "clientRequestToken": poa.request_token(arn(version), parameter_version)})

    def stack(self, status: str = "UPDATE_COMPLETE") -> None:
        self.stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [{
            "StackName": STACK, "StackId": STACK_ID, "CreationTime": NOW, "StackStatus": status,
            "Parameters": [{"ParameterKey": "ApprovedVersion", "ParameterValue": PARAMETER},
                           {"ParameterKey": "BootstrapVersion", "ParameterValue": "/cdk-bootstrap/hnb659fds/version"}],
        }]}, {"StackName": STACK})

    def update(self, version: int, parameter_version: int) -> None:
        self.stubs["cloudformation"].add_response("update_stack", {"StackId": STACK_ID}, update_params(
            version, parameter_version))

    def activate(self) -> None:
        for stub in self.stubs.values():
            stub.activate()

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()  # every queued call was made
            stub.deactivate()


def update_params(version: int, parameter_version: int) -> dict:
    return {"StackName": STACK, "UsePreviousTemplate": True, "RoleARN": ROLE, "Capabilities": poa.CAPABILITIES,
            "Parameters": [{"ParameterKey": "ApprovedVersion", "UsePreviousValue": True},
                           {"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
            "ClientRequestToken": poa.request_token(arn(version), parameter_version)}


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for name, value in {"MODEL_PACKAGE_GROUP_NAME": GROUP, "PARAMETER_NAME": PARAMETER, "TARGET": "pipeline",
                        "PIPELINE_NAME": PIPELINE}.items():
        monkeypatch.setenv(name, value)
    for name in ("STACK_NAME", "DEPLOYMENT_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack_target(monkeypatch):
    monkeypatch.setenv("TARGET", "stack")
    monkeypatch.setenv("STACK_NAME", STACK)
    monkeypatch.setenv("DEPLOYMENT_ROLE_ARN", ROLE)
    monkeypatch.delenv("PIPELINE_NAME")


@pytest.fixture
def aws(monkeypatch):
    clients = Clients()
    clients.activate()
    monkeypatch.setattr(poa, "_client", lambda name: clients.clients[name])
    yield clients
    clients.verify()


def logged(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- approved


def test_approved_version_is_recorded_and_the_pipeline_started(aws, capsys):
    aws.package(8)
    aws.current(7, parameter_version=3)
    aws.put(8, written=4)
    aws.start(8, 4, execution="exec-8")
    result = poa.handler(event(8), None)
    assert result["decision"] == "promoted"
    assert (result["execution_id"], result["previous_version"], result["version"]) == ("exec-8", 7, 8)
    assert aws.calls == ["DescribeModelPackage", "GetParameter", "PutParameter", "StartPipelineExecution"]
    assert [line["decision"] for line in logged(capsys)] == ["promoted"]


def test_first_approval_creates_the_parameter(aws):
    aws.package(1)
    aws.current(None)
    aws.put(1, written=1)
    aws.start(1, 1)
    assert poa.handler(event(1), None)["decision"] == "promoted"


def test_approved_version_updates_the_stack_as_the_cloudformation_role(aws, stack_target):
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stack()
    aws.update(8, 4)
    result = poa.handler(event(8), None)
    assert (result["decision"], result["stack_id"]) == ("promoted", STACK_ID)
    assert "UpdateEndpoint" not in aws.calls and "CreateModel" not in aws.calls


# ---------------------------------------------------------------- older than deployed


def test_an_older_version_never_replaces_a_newer_one(aws, capsys):
    aws.package(7)
    aws.current(8)
    result = poa.handler(event(7), None)
    assert (result["decision"], result["current_version"]) == ("superseded", 8)
    assert aws.calls == ["DescribeModelPackage", "GetParameter"]  # nothing written, nothing started
    assert "force" in result["reason"]


def test_force_rolls_back_explicitly(aws, capsys):
    aws.package(7)
    aws.current(8, parameter_version=5)
    aws.put(7, written=6)
    aws.start(7, 6)
    result = poa.handler(event(7, force=True), None)
    assert (result["decision"], result["forced"]) == ("promoted", True)
    assert [line["decision"] for line in logged(capsys)] == ["rollback-forced", "promoted"]


def test_a_newer_version_overwritten_by_a_concurrent_older_one_is_restored(aws):
    aws.package(7)
    aws.current(6, parameter_version=3)
    aws.put(7, written=5)  # version 4 was written by another approval in between
    aws.history({3: 6, 4: 8, 5: 7})
    aws.put(8, written=6)
    aws.start(8, 6)
    result = poa.handler(event(7), None)
    assert (result["decision"], result["restored"]) == ("superseded", arn(8))


# ---------------------------------------------------------------- duplicate


def test_a_duplicate_repeats_the_request_with_the_same_token(aws):
    aws.package(8)
    aws.current(8, parameter_version=4)
    aws.start(8, 4, execution="exec-8")  # the same token as the first delivery: CodePipeline starts once
    result = poa.handler(event(8), None)
    assert (result["decision"], result["execution_id"]) == ("already-promoted", "exec-8")
    assert "PutParameter" not in aws.calls


def test_a_duplicate_stack_update_with_no_changes_is_already_promoted(aws, stack_target):
    aws.package(8)
    aws.current(8, parameter_version=4)
    aws.stack()
    aws.stubs["cloudformation"].add_client_error("update_stack", "ValidationError", "No updates are to be performed.",
                                                 400, expected_params=update_params(8, 4))
    result = poa.handler(event(8), None)
    assert (result["decision"], result["no_change"]) == ("already-promoted", True)


@pytest.mark.parametrize("detail", [event(8, status="Rejected"), event(8, group="other-group")])
def test_other_events_are_ignored_without_a_call(aws, detail):
    assert poa.handler(detail, None)["decision"] == "ignored"
    assert aws.calls == []


def test_a_package_rejected_since_is_ignored(aws):
    aws.package(8, status="Rejected")
    assert poa.handler(event(8), None)["decision"] == "ignored"


# ---------------------------------------------------------------- failed deployment


def test_a_failed_pipeline_start_fails_the_record_for_a_retry(aws, capsys):
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stubs["codepipeline"].add_client_error("start_pipeline_execution", "PipelineNotFoundException",
                                               "pipeline not found", 400)
    result = poa.handler({"Records": [{"messageId": "m-1", "body": json.dumps(event(8))}]}, None)
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert [line["decision"] for line in logged(capsys)] == ["failed", "retry-later"]


def test_a_busy_stack_is_retried_later(aws, stack_target):
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stack(status="UPDATE_IN_PROGRESS")
    with pytest.raises(poa.DeploymentBusy):
        poa.handler(event(8), None)


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"])
def test_a_stack_that_needs_an_operator_is_reported_as_failed_not_busy(aws, stack_target, capsys, status):
    # A stack in ROLLBACK_COMPLETE or UPDATE_ROLLBACK_FAILED starts no update until someone acts
    # (delete and recreate it, ContinueUpdateRollback): retrying as "busy" only hid that.
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stack(status=status)
    with pytest.raises(poa.DeploymentError, match=f"is {status} and cannot be updated") as raised:
        poa.handler(event(8), None)
    assert not isinstance(raised.value, poa.DeploymentBusy)
    decision = logged(capsys)[-1]
    assert decision["decision"] == "failed" and decision["status"] == status


def test_the_stuck_statuses_are_cloudformation_stack_statuses():
    import botocore.session

    enum = botocore.session.get_session().get_service_model("cloudformation").shape_for("StackStatus").enum
    assert set(poa.STUCK_STATUSES) <= set(enum)
    assert not any(s.endswith("_IN_PROGRESS") for s in poa.STUCK_STATUSES)


def test_a_failed_stack_update_raises(aws, stack_target):
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stack(status="UPDATE_ROLLBACK_COMPLETE")
    aws.stubs["cloudformation"].add_client_error("update_stack", "InsufficientCapabilitiesException",
                                                 "Requires capabilities", 400)
    with pytest.raises(poa.DeploymentError, match="InsufficientCapabilities"):
        poa.handler(event(8), None)


def test_throttling_is_re_raised_for_the_queue(aws):
    aws.package(8)
    aws.current(7)
    aws.put(8, written=4)
    aws.stubs["codepipeline"].add_client_error("start_pipeline_execution", "ThrottlingException", "slow down", 400)
    with pytest.raises(ClientError):
        poa.handler(event(8), None)


def test_configuration_errors_name_the_variable(monkeypatch):
    monkeypatch.setenv("TARGET", "console")
    with pytest.raises(poa.DeploymentError, match="TARGET"):
        poa.Settings.from_env()
    monkeypatch.setenv("TARGET", "stack")
    with pytest.raises(poa.DeploymentError, match="STACK_NAME"):
        poa.Settings.from_env()


def test_version_of_reads_only_the_groups_versions():
    assert poa.version_of(GROUP, arn(12)) == 12
    assert poa.version_of("Churn-Model", arn(12)) == 12  # names are lower-cased in ARNs
    assert poa.version_of("other", arn(12)) is None
    assert poa.version_of(GROUP, None) is None

"""MlflowTrackingServer: artifact store in a bucket prefix, scoped role, sizes, registration, grant_access."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from sagemaker_constructs import MlflowTrackingServer, ModelPackageGroup, PlatformKey, SecureBucket, ValidationError
from tests.harness.templates import only, resources, template_of


def _server(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Artifacts", encryption_key=key)
    return MlflowTrackingServer(stack, "Mlflow", artifact_bucket=bucket, encryption_key=key, **kwargs)


def test_defaults(stack):
    server = _server(stack)
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::MlflowTrackingServer")
    assert props["TrackingServerSize"] == "Small"
    assert props["AutomaticModelRegistration"] is False
    assert "mlflow" in json.dumps(props["ArtifactStoreUri"])
    policy = json.dumps(only(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"])
    assert "mlflow/*" in policy and "sagemaker:CreateModelPackage" not in policy and '"*"' not in policy
    assert server.tracking_uri == server.tracking_server_arn


def test_registration_into_groups_only(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    _server(stack, model_package_groups=[group], size="Medium")
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::MlflowTrackingServer")
    assert props["AutomaticModelRegistration"] is True and props["TrackingServerSize"] == "Medium"
    policy = json.dumps(only(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"])
    assert "sagemaker:CreateModelPackage" in policy and "model-package/iris/*" in policy


def test_grant_access(stack):
    server = _server(stack)
    user = iam.Role(stack, "User", assumed_by=iam.AccountRootPrincipal())
    viewer = iam.Role(stack, "Viewer", assumed_by=iam.AccountRootPrincipal())
    user_policy = server.grant_access(user)
    viewer_policy = server.grant_access(viewer, read_only=True)
    assert isinstance(user_policy, iam.ManagedPolicy)
    stack_ = cdk.Stack.of(server)
    user_doc = json.dumps(stack_.resolve(user_policy.document.to_json()))
    viewer_doc = json.dumps(stack_.resolve(viewer_policy.document.to_json()))
    t = template_of(stack)
    attached = {k: v["Properties"]["Roles"] for k, v in resources(t, "AWS::IAM::ManagedPolicy").items()
                if k.startswith("MlflowAccess")}
    assert sorted(r[0]["Ref"][:4] for r in attached.values()) == ["User", "View"]
    assert "sagemaker-mlflow:LogMetric" in user_doc and "s3:PutObject" in user_doc
    assert "sagemaker:CreatePresignedMlflowTrackingServerUrl" in viewer_doc
    assert "sagemaker-mlflow:LogMetric" not in viewer_doc and "s3:PutObject" not in viewer_doc
    assert "sagemaker-mlflow:*" not in user_doc


@pytest.mark.parametrize("kwargs, match", [
    ({"size": "XLarge"}, "size"),
    ({"size": "small"}, "size"),
    ({"tracking_server_name": "bad_name"}, "tracking_server_name"),
    ({"weekly_maintenance_window_start": "Tuesday 3am"}, "weekly_maintenance_window_start"),
    ({"mlflow_version": "latest"}, "mlflow_version"),
    ({"artifact_prefix": "/"}, "artifact_prefix"),
])
def test_bad_input(stack, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _server(stack, **kwargs)


def test_supplied_role(stack):
    role = iam.Role(stack, "ServerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    server = _server(stack, role=role)
    assert server.role is role and server.policy is None
    assert "mlflow/*" in json.dumps(resources(template_of(stack), "AWS::IAM::Policy"))


def test_a_server_role_cdk_cannot_change_is_refused_unless_prepared(stack):
    fixed = iam.Role.from_role_arn(stack, "Fixed", "arn:aws:iam::111122223333:role/mlflow", mutable=False)
    with pytest.raises(ValidationError, match=r"role.*CDK cannot add permissions to this role.*s3:"):
        _server(stack, role=fixed)
    server = MlflowTrackingServer(stack, "Prepared", artifact_bucket=SecureBucket(stack, "B2", encryption_key=PlatformKey(stack, "K2")),
                                  encryption_key=PlatformKey(stack, "K3"), role=fixed, role_is_prepared=True)
    assert server.role is fixed
    assert not resources(template_of(stack), "AWS::IAM::Policy")


def test_grant_access_to_a_non_role_grantee(stack):
    server = _server(stack)
    user = iam.User(stack, "Person")
    grant = server.grant_access(user, read_only=True)
    assert isinstance(grant, iam.Grant)
    assert "sagemaker-mlflow:AccessUI" in json.dumps(resources(template_of(stack), "AWS::IAM::Policy"))


def test_cost_estimate_lists_the_tracking_server_as_unknown(stack):
    from sagemaker_constructs import estimate_monthly_cost

    _server(stack, size="Large")
    report = estimate_monthly_cost(stack, region="us-east-1")
    assert [i.item for i in report.unknown if "MLflow" in i.item] == ["MLflow tracking server (Large)"]


def test_grant_access_to_the_servers_own_imported_role_is_refused(stack):
    """The server waits for its statements in the imported role's one CDK policy; a grant naming
    the server's ARN in that policy would be a circular dependency CloudFormation refuses."""
    arn = "arn:aws:iam::111122223333:role/team/sagemaker"
    server = _server(stack, role=iam.Role.from_role_arn(stack, "Team", arn))
    with pytest.raises(ValidationError, match="circular dependency"):
        server.grant_access(iam.Role.from_role_arn(stack, "SameRoleAgain", arn))
    server.grant_access(iam.Role.from_role_arn(stack, "Client", "arn:aws:iam::111122223333:role/team/client"))
    cdk.assertions.Template.from_stack(stack)  # deployable: no cycle


def test_grant_access_to_the_servers_own_role_of_this_app_has_no_cycle(stack):
    role = iam.Role(stack, "Team", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    server = _server(stack, role=role)
    server.grant_access(role)
    cdk.assertions.Template.from_stack(stack)  # would raise "Template is undeployable" on a cycle


def test_the_ui_action_is_allowed_on_every_resource_and_nothing_else_is(stack):
    """sagemaker-mlflow:AccessUI has no resource type (Service Authorization Reference): on the
    server's ARN it would never match, and the presigned UI URL would open nothing."""
    server = _server(stack)
    viewer = iam.Role(stack, "Viewer", assumed_by=iam.AccountRootPrincipal())
    policy = server.grant_access(viewer, read_only=True)
    statements = cdk.Stack.of(server).resolve(policy.document.to_json())["Statement"]
    unscoped = [s for s in statements if s["Resource"] == "*"]
    assert unscoped == [{"Sid": "OpenTheMlflowUi", "Effect": "Allow", "Action": "sagemaker-mlflow:AccessUI",
                         "Resource": "*"}]
    (server_statement,) = [s for s in statements if s.get("Sid") == "UseTrackingServer"]
    assert "sagemaker-mlflow:AccessUI" not in server_statement["Action"]
    assert "sagemaker-mlflow:GetLoggedModel" in server_statement["Action"]


@pytest.mark.parametrize("version", ["3.0", "2.16.2"])
def test_mlflow_versions_of_two_or_three_parts(stack, version):
    _server(stack, mlflow_version=version)
    assert only(template_of(stack), "AWS::SageMaker::MlflowTrackingServer")["MlflowVersion"] == version

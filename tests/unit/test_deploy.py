"""DeployOnApproval: the rule, the function's configuration and least-privilege permissions."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Stack

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeployOnApproval,
    DeploymentGuardrail,
    Model,
    ModelData,
    ModelPackageGroup,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ServerlessEndpoint,
    ValidationError,
)
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _setup(stack, **endpoint_kwargs):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE),
                  model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    endpoint_kwargs.setdefault("deployment", DeploymentGuardrail.canary(instances=1))
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key,
                                data_capture=DataCapture(bucket, sampling_percentage=10), **endpoint_kwargs)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    deployer = DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)
    return deployer, endpoint, template_of(stack)


def _function(t):
    return next(v["Properties"] for v in resources(t, "AWS::Lambda::Function").values()
                if v["Properties"].get("Handler") == "deploy_on_approval.handler")


def test_rule_matches_approved_versions_of_the_group(stack):
    _, _, t = _setup(stack)
    rule = only(t, "AWS::Events::Rule")
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn"], "ModelApprovalStatus": ["Approved"]},
    }
    (target,) = rule["Targets"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 2}
    assert "DeadLetterConfig" in target


def test_function_carries_the_endpoints_guardrails_and_settings(stack):
    _, endpoint, t = _setup(stack)
    fn = _function(t)
    env = fn["Environment"]["Variables"]
    assert env["ENDPOINT_NAME"] == endpoint.endpoint_name
    assert env["MODEL_PACKAGE_GROUP_NAME"] == "churn"
    assert env["ENABLE_NETWORK_ISOLATION"] == "true"
    assert "KMS_KEY_ARN" in env and "DATA_CAPTURE_CONFIG" in env and "DEPLOYMENT_CONFIG" in env
    deployment = Stack.of(stack).resolve(endpoint.deployment_api_config)
    assert deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert len(deployment["AutoRollbackConfiguration"]["Alarms"]) == 2
    assert fn["ReservedConcurrentExecutions"] == 2
    assert fn["TracingConfig"] == {"Mode": "Active"} and "KmsKeyArn" in fn


def test_permissions_are_scoped(stack):
    _, endpoint, t = _setup(stack)
    policy = next(p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("DeployPolicy"))
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s}
    assert statements["DeployToOneEndpoint"]["Action"] == ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"]
    assert f"endpoint/{endpoint.endpoint_name.lower()}" in json.dumps(statements["DeployToOneEndpoint"]["Resource"])
    assert "model-package/churn/*" in json.dumps(statements["ReadApprovedVersions"]["Resource"])
    created = json.dumps(statements["CreateVersionedModelAndConfig"]["Resource"])
    assert "model/churn-v*" in created and "endpoint-config/churn-v*" in created
    assert statements["PassOnlyTheModelRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    all_actions = json.dumps([s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]])
    assert "sagemaker:*" not in all_actions and "DeleteEndpoint" not in all_actions


def test_default_key_is_the_endpoints_key(stack):
    deployer, endpoint, t = _setup(stack)
    assert deployer.encryption_key is endpoint.encryption_key
    assert not [k for k in resources(t, "AWS::KMS::Key") if k.startswith("DeployKey")]  # no new key
    queue_id = next(k for k in resources(t, "AWS::SQS::Queue") if k.startswith("DeployApprovalQueue"))
    key_id = next(k for k in resources(t, "AWS::KMS::Key") if k.startswith("Key"))
    assert resources(t, "AWS::SQS::Queue")[queue_id]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_new_key_lets_eventbridge_use_the_queues_when_the_endpoint_has_none(stack):
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE))
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)
    t = template_of(stack)
    key_id = next(k for k in resources(t, "AWS::KMS::Key") if k.startswith("DeployKey"))
    statements = resources(t, "AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]["Statement"]
    events = next(s for s in statements if s.get("Sid") == "AllowEventBridgeForThisAccount")
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert "aws:SourceAccount" in events["Condition"]["StringEquals"]


def test_approvals_are_buffered_and_retried_through_a_queue(stack):
    deployer, _, t = _setup(stack)
    rule = only(t, "AWS::Events::Rule")
    (target,) = rule["Targets"]
    queue_id = next(k for k in resources(t, "AWS::SQS::Queue") if k.startswith("DeployApprovalQueue"))
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    queue = resources(t, "AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["VisibilityTimeout"] == 600
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 36
    assert "KmsMasterKeyId" in queue
    mapping = only(t, "AWS::Lambda::EventSourceMapping")
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("kwargs,match", [({"max_receive_count": 0}, "max_receive_count"),
                                          ({"retry_interval": Duration.seconds(30)}, "retry_interval"),
                                          # 1000 receives 10 minutes apart: ~7 days, the queue keeps 4
                                          ({"max_receive_count": 1000}, "expire instead of reaching"),
                                          ({"max_receive_count": 9, "retry_interval": Duration.hours(12)},
                                           "allowed: 1 to 8")])
def test_rejects_bad_retry_settings(stack, kwargs, match):
    key = PlatformKey(stack, "Key")
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    with pytest.raises(ValidationError, match=match):
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint, **kwargs)


def test_rejects_a_serverless_endpoint(stack):
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), network_isolation=False)
    endpoint = ServerlessEndpoint(stack, "Serverless", model=model)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    with pytest.raises(ValidationError, match="RealtimeEndpoint"):
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)


def test_rejects_missing_group(stack):
    key = PlatformKey(stack, "Key")
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
    with pytest.raises(ValidationError, match="model_package_group"):
        DeployOnApproval(stack, "Deploy", model_package_group=None, endpoint=endpoint)


def test_rejects_a_group_named_by_a_parameter(stack):
    from aws_cdk import CfnParameter

    key = PlatformKey(stack, "Key")
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
    name = CfnParameter(stack, "GroupName").value_as_string
    group = ModelPackageGroup.from_model_package_group_name(stack, "Group", name)
    with pytest.raises(ValidationError, match="known at synth"):
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)


@pytest.mark.parametrize("imported", [False, True])
def test_a_group_named_by_a_parameter_keeps_its_token_in_arns(stack, imported):
    """Lower-casing a Token's marker (``${token[token.1]}``) breaks it: the literal text would land
    in the ARN. A resolved name is lower-cased (SageMaker's ARNs), a Token is kept."""
    from aws_cdk import CfnParameter
    from aws_cdk import aws_iam as iam

    name = CfnParameter(stack, "GroupName").value_as_string
    group = (ModelPackageGroup.from_model_package_group_name(stack, "Group", name) if imported
             else ModelPackageGroup(stack, "Group", model_package_group_name=name))
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    group.grant_read(role)
    text = json.dumps(template_of(stack))
    assert "${token" not in text.lower()
    policy = next(iter(resources(template_of(stack), "AWS::IAM::Policy").values()))["Properties"]
    arns = json.dumps([s["Resource"] for s in policy["PolicyDocument"]["Statement"]])
    assert '{"Ref": "GroupName"}' in arns


def test_a_group_of_another_account_warns_that_its_events_must_be_forwarded():
    """SageMaker sends a group's state changes to its own account's bus: the rule here never fires
    unless that account forwards them, so synth says so (a warning: forwarding is a legitimate setup)."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations, Match

    from tests.conftest import new_app

    def build(account):
        stack = cdk.Stack(new_app(), "Deployer", env=cdk.Environment(account="111111111111", region="us-east-1"))
        key = PlatformKey(stack, "Key")
        model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
        endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
        group = ModelPackageGroup.from_model_package_group_name(stack, "Group", "churn", account=account)
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)
        return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("account 222222222222"))

    (warning,) = build("222222222222")
    assert "forwards them" in warning.entry.data and warning.id == "/Deployer/Deploy"
    assert build(None) == []

"""Interfaces and imports: deploy-on-approval, monitoring and the invoker on an endpoint and a model
package group that another stack owns; metric options; queue alarms and retention."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeployOnApproval,
    DeploymentGuardrail,
    EndpointInvoker,
    IEndpoint,
    IInstanceEndpoint,
    IModel,
    IModelPackageGroup,
    InvocableEndpoint,
    Model,
    ModelMonitor,
    ModelPackageGroup,
    MultiModelEndpoint,
    PlatformKey,
    RealtimeEndpoint,
    ServerlessEndpoint,
    ValidationError,
)
from tests.conftest import new_app
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE_ARN = "arn:aws:iam::111122223333:role/hosting"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = cdk.Environment(account="111122223333", region="us-east-1")


def _imported(stack, **kwargs):
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    bucket = s3.Bucket.from_bucket_attributes(stack, "Data", bucket_name="team-data", encryption_key=key)
    role = iam.Role.from_role_arn(stack, "HostingRole", ROLE_ARN, mutable=False)
    alarm = cloudwatch.Alarm.from_alarm_arn(stack, "Errors", "arn:aws:cloudwatch:us-east-1:111122223333:alarm:churn-5xx")
    kwargs = {"role": role, "encryption_key": key, "instance_type": "ml.m5.large",
              "data_capture": DataCapture(bucket, prefix="capture/churn"),
              "deployment": DeploymentGuardrail.canary(instances=1), "rollback_alarms": [alarm], **kwargs}
    endpoint = RealtimeEndpoint.from_endpoint_attributes(stack, "Endpoint", endpoint_name="churn-prod", **kwargs)
    group = ModelPackageGroup.from_model_package_group_name(stack, "Group", "Churn")
    return key, bucket, endpoint, group


def _mlops_stack():
    """A stack that owns neither the endpoint nor the group."""
    return cdk.Stack(new_app(), "Mlops", env=ENV)


def test_interfaces_are_satisfied_by_owned_and_imported_resources():
    stack = _mlops_stack()
    key, bucket, endpoint, group = _imported(stack)
    owned_model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE))
    owned = RealtimeEndpoint(stack, "Owned", model=owned_model, instance_type="ml.m5.large")
    serverless_model = Model(stack, "ServerlessModel", image=ContainerImage.from_uri(IMAGE), network_isolation=False)
    serverless = ServerlessEndpoint(stack, "Serverless", model=serverless_model)
    for e in (endpoint, owned):
        assert isinstance(e, IInstanceEndpoint) and isinstance(e, IEndpoint) and isinstance(e, InvocableEndpoint)
    assert isinstance(serverless, IEndpoint) and not isinstance(serverless, IInstanceEndpoint)
    assert isinstance(owned_model, IModel) and isinstance(endpoint.model, IModel)
    assert isinstance(group, IModelPackageGroup)
    assert isinstance(ModelPackageGroup(stack, "Own", model_package_group_name="own"), IModelPackageGroup)
    assert not isinstance(object(), IEndpoint)


def test_imported_endpoint_attributes():
    stack = _mlops_stack()
    key, _, endpoint, group = _imported(stack)
    resolve = stack.resolve
    assert resolve(endpoint.endpoint_arn) == "arn:aws:sagemaker:us-east-1:111122223333:endpoint/churn-prod"
    assert endpoint.volume_key is key and endpoint.model.role.role_arn == ROLE_ARN
    assert endpoint.deployment_api_config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "churn-5xx"}]}
    assert "model-package-group/churn" in json.dumps(resolve(group.model_package_group_arn))
    assert "model-package/churn/*" in json.dumps(resolve(group.model_package_arn_pattern))
    nvme = RealtimeEndpoint.from_endpoint_attributes(stack, "Nvme", endpoint_name="e2", encryption_key=key,
                                                     instance_type="ml.g5.xlarge")
    assert nvme.volume_key is None and nvme.encryption_key is key and nvme.model is None
    assert MultiModelEndpoint.from_endpoint_attributes(stack, "Multi", endpoint_name="e3").variant_name == "AllTraffic"


def test_deploy_on_approval_to_an_imported_endpoint_and_group():
    stack = _mlops_stack()
    key, _, endpoint, group = _imported(stack)
    deployer = DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)
    t = template_of(stack)
    fn = next(v["Properties"] for v in resources(t, "AWS::Lambda::Function").values()
              if v["Properties"].get("Handler") == "deploy_on_approval.handler")
    env = fn["Environment"]["Variables"]
    assert env["ENDPOINT_NAME"] == "churn-prod" and env["MODEL_PACKAGE_GROUP_NAME"] == "Churn"
    assert env["EXECUTION_ROLE_ARN"] == ROLE_ARN and env["KMS_KEY_ARN"] == KEY_ARN
    assert "capture/churn" in json.dumps(env["DATA_CAPTURE_CONFIG"]) and "CANARY" in json.dumps(env["DEPLOYMENT_CONFIG"])
    # The caller's key, not a new one; the rule matches the imported group.
    assert deployer.encryption_key is key and not resources(t, "AWS::KMS::Key")
    assert only(t, "AWS::Events::Rule")["EventPattern"]["detail"]["ModelPackageGroupName"] == ["Churn"]
    policy = json.dumps(only(t, "AWS::IAM::ManagedPolicy"))
    assert "model-package/churn/*" in policy and "endpoint/churn-prod" in policy and ROLE_ARN in policy


def test_deploy_on_approval_needs_the_imported_endpoints_role():
    stack = _mlops_stack()
    _, _, endpoint, group = _imported(stack, role=None)
    with pytest.raises(ValidationError, match="endpoint.model"):
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)


def test_model_monitor_on_an_imported_endpoint():
    stack = _mlops_stack()
    key, bucket, endpoint, _ = _imported(stack)
    ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://team-data/baseline", output_bucket=bucket,
                 encryption_key=key, features=["tenure"])
    t = template_of(stack)
    job = only(t, "AWS::SageMaker::DataQualityJobDefinition")
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == "churn-prod"
    reads = json.dumps(only(t, "AWS::IAM::ManagedPolicy"))
    assert "team-data" in reads  # the default role reads the imported capture bucket


def test_monitor_rejects_an_imported_endpoint_without_capture():
    stack = _mlops_stack()
    key, bucket, endpoint, _ = _imported(stack, data_capture=None)
    with pytest.raises(ValidationError, match="data_capture"):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://team-data/b", output_bucket=bucket,
                     encryption_key=key, features=["tenure"])


@pytest.mark.parametrize("kwargs,match", [
    ({"endpoint_name": "bad name!"}, "endpoint_name"),
    ({"instance_type": "large"}, "instance_type"),
    ({"model": "placeholder"}, "either model= or role="),
])
def test_from_endpoint_attributes_rejects_bad_input(kwargs, match):
    stack = _mlops_stack()
    role = iam.Role.from_role_arn(stack, "R", ROLE_ARN)
    if kwargs.get("model") == "placeholder":
        kwargs = {"model": Model.from_model_attributes(stack, "M", model_name="m", role=role), "role": role}
    with pytest.raises(ValidationError, match=match):
        RealtimeEndpoint.from_endpoint_attributes(stack, "E", **{"endpoint_name": "e", **kwargs})


def test_from_model_attributes_needs_subnets_with_security_groups():
    stack = _mlops_stack()
    role = iam.Role.from_role_arn(stack, "R", ROLE_ARN)
    subnet = ec2.Subnet.from_subnet_id(stack, "S", "subnet-0123456789abcdef0")
    with pytest.raises(ValidationError, match="security_groups"):
        Model.from_model_attributes(stack, "M", model_name="m", role=role, subnets=[subnet])
    sg = ec2.SecurityGroup.from_security_group_id(stack, "G", "sg-0123456789abcdef0")
    model = Model.from_model_attributes(stack, "M2", model_name="m", role=role, subnets=[subnet], security_groups=[sg])
    assert model.vpc_config == {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}


def test_from_model_package_group_name_rejects_a_bad_name():
    with pytest.raises(ValidationError, match="model_package_group_name"):
        ModelPackageGroup.from_model_package_group_name(_mlops_stack(), "G", "bad name!")


def test_imported_group_grants():
    stack = _mlops_stack()
    group = ModelPackageGroup.from_model_package_group_name(stack, "G", "churn")
    role = iam.Role(stack, "Approver", assumed_by=iam.AccountRootPrincipal())
    group.grant_approve(role)
    doc = json.dumps(only(template_of(stack), "AWS::IAM::Policy"))
    assert "sagemaker:UpdateModelPackage" in doc and "model-package-group/churn" in doc


# --- metrics ----------------------------------------------------------------------------------------
def test_metric_methods_take_metric_options():
    stack = _mlops_stack()
    _, _, endpoint, _ = _imported(stack)
    metric = endpoint.metric_invocations(period=Duration.minutes(1), statistic="Average", label="calls",
                                         unit=cloudwatch.Unit.COUNT, color="#ff0000", account="222233334444",
                                         region="eu-west-1", dimensions_map={"TargetModel": "a.tar.gz"})
    assert (metric.period.to_seconds(), metric.statistic, metric.label, metric.unit, metric.color) == (
        60, "Average", "calls", cloudwatch.Unit.COUNT, "#ff0000")
    assert (metric.account, metric.region) == ("222233334444", "eu-west-1")
    assert metric.dimensions == {"EndpointName": "churn-prod", "VariantName": "AllTraffic", "TargetModel": "a.tar.gz"}
    latency = endpoint.metric_model_latency()
    assert (latency.statistic, latency.period.to_seconds()) == ("Average", 300)
    for method in ("metric_invocation_5xx_errors", "metric_invocation_4xx_errors"):
        m = getattr(endpoint, method)(label="x", period=Duration.minutes(2))
        assert (m.label, m.statistic, m.period.to_seconds()) == ("x", "Sum", 120)
    invoker = EndpointInvoker(stack, "Invoker", endpoint=endpoint)
    errors = invoker.metric_errors(label="invoker errors", period=Duration.minutes(1))
    assert (errors.label, errors.statistic, errors.period.to_seconds()) == ("invoker errors", "Sum", 60)


def test_metric_arguments_are_metric_options_fields():
    import inspect

    fields = set(inspect.signature(cloudwatch.MetricOptions.__init__).parameters) - {"self"}
    ours = set(inspect.signature(RealtimeEndpoint.metric_invocations).parameters) - {"self"}
    assert ours <= fields and {"period", "statistic", "label", "unit", "color", "dimensions_map"} <= ours


# --- keys, alarms and retention ---------------------------------------------------------------------
def test_invoker_uses_the_endpoints_key_and_a_new_one_only_without():
    stack = _mlops_stack()
    key, _, endpoint, _ = _imported(stack)
    assert EndpointInvoker(stack, "Invoker", endpoint=endpoint).encryption_key is key
    bare = RealtimeEndpoint.from_endpoint_attributes(stack, "Bare", endpoint_name="bare")
    invoker = EndpointInvoker(stack, "BareInvoker", endpoint=bare)
    assert isinstance(invoker.encryption_key, PlatformKey)


def test_queue_alarms_notify_the_topic_and_the_approval_queue_is_retained():
    stack = _mlops_stack()
    _, _, endpoint, group = _imported(stack)
    topic = sns.Topic(stack, "Ops")
    DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint, alarm_topic=topic,
                     approval_age_alarm=Duration.hours(2))
    t = template_of(stack)
    alarms = {k: v["Properties"] for k, v in resources(t, "AWS::CloudWatch::Alarm").items()}
    (topic_id,) = resources(t, "AWS::SNS::Topic")
    dlq = next(a for k, a in alarms.items() if k.startswith("DeployDeadLetterQueueAlarm"))
    age = next(a for k, a in alarms.items() if k.startswith("DeployApprovalAgeAlarm"))
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible" and dlq["Threshold"] == 0
    assert dlq["ComparisonOperator"] == "GreaterThanThreshold"
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage" and age["Threshold"] == 7200
    for alarm in (dlq, age):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    queues = resources(t, "AWS::SQS::Queue")
    approval = next(v for k, v in queues.items() if k.startswith("DeployApprovalQueue"))
    assert approval["DeletionPolicy"] == "Retain" and approval["UpdateReplacePolicy"] == "Retain"
    assert all(q["DeletionPolicy"] == "Retain" for q in queues.values())


def test_invoker_dead_letter_alarm_has_no_action_without_a_topic():
    stack = _mlops_stack()
    _, _, endpoint, _ = _imported(stack)
    EndpointInvoker(stack, "Invoker", endpoint=endpoint)
    alarm = only(template_of(stack), "AWS::CloudWatch::Alarm")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and "AlarmActions" not in alarm


@pytest.mark.parametrize("kwargs,match", [
    ({"approval_age_alarm": Duration.seconds(10)}, "approval_age_alarm"),
    ({"approval_age_alarm": Duration.days(5)}, "approval_age_alarm"),
])
def test_deploy_rejects_bad_alarm_settings(kwargs, match):
    stack = _mlops_stack()
    _, _, endpoint, group = _imported(stack)
    with pytest.raises(ValidationError, match=match):
        DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint, **kwargs)


# --- invoker attempts and timeouts ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"timeout": Duration.seconds(30)}, "timeout"),  # below 5 + 70 + 5
    ({"max_attempts": 2}, "timeout"),  # 2 x 75 + 5 > 80
    ({"max_attempts": 0}, "max_attempts"),
    ({"max_attempts": 6, "timeout": Duration.minutes(15)}, "max_attempts"),
    ({"read_timeout": Duration.seconds(0)}, "read_timeout"),
])
def test_invoker_rejects_a_timeout_below_the_sdks_worst_case(kwargs, match):
    stack = _mlops_stack()
    _, _, endpoint, _ = _imported(stack)
    with pytest.raises(ValidationError, match=match):
        EndpointInvoker(stack, "Invoker", endpoint=endpoint, **kwargs)


def test_invoker_retries_are_opt_in_and_reach_the_function():
    stack = _mlops_stack()
    _, _, endpoint, _ = _imported(stack)
    EndpointInvoker(stack, "Invoker", endpoint=endpoint, max_attempts=2, read_timeout=Duration.seconds(20),
                    connect_timeout=Duration.seconds(2), timeout=Duration.seconds(49))
    fn = only(template_of(stack), "AWS::Lambda::Function")
    assert fn["Timeout"] == 49
    env = fn["Environment"]["Variables"]
    assert (env["MAX_ATTEMPTS"], env["CONNECT_TIMEOUT"], env["READ_TIMEOUT"]) == ("2", "2", "20")


def test_rollback_alarms_without_a_guardrail_still_roll_back():
    """Alarms alone: SageMaker's default update (blue/green, all at once) with AutoRollbackConfiguration,
    not an update that silently ignores them."""
    stack = _mlops_stack()
    key, _, endpoint, group = _imported(stack, deployment=None)
    assert endpoint.deployment_api_config == {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-5xx"}]}}
    DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint, encryption_key=key)
    (function,) = [f["Properties"] for f in resources(template_of(stack), "AWS::Lambda::Function").values()
                   if f["Properties"].get("Handler") == "deploy_on_approval.handler"]
    assert json.loads(function["Environment"]["Variables"]["DEPLOYMENT_CONFIG"]) == endpoint.deployment_api_config
    bare = RealtimeEndpoint.from_endpoint_attributes(stack, "Bare", endpoint_name="bare")
    assert bare.deployment_api_config is None


def test_at_most_ten_rollback_alarms():
    stack = _mlops_stack()
    alarms = [cloudwatch.Alarm.from_alarm_arn(stack, f"A{i}", f"arn:aws:cloudwatch:us-east-1:111122223333:alarm:a{i}")
              for i in range(11)]
    with pytest.raises(ValidationError, match="rollback_alarms"):
        RealtimeEndpoint.from_endpoint_attributes(stack, "E", endpoint_name="e", rollback_alarms=alarms)

"""ModelMonitor: data-quality job definition, schedule and drift alarm."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    IsolatedNetwork,
    Model,
    ModelData,
    ModelMonitor,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ValidationError,
)
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
FEATURES = ["sepal_length_cm", "petal_width_cm"]
ENDPOINT_KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/eeeeeeee-2222-3333-4444-555555555555"
KEY_READ = ["kms:Decrypt", "kms:DescribeKey"]


def _setup(stack, capture=True):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="inference")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE),
                  model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large",
                                data_capture=DataCapture(bucket) if capture else None)
    return key, net, bucket, endpoint


def _monitor(stack, **kwargs):
    key, net, bucket, endpoint = _setup(stack)
    kwargs.setdefault("features", FEATURES)
    monitor = ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                           output_bucket=bucket, encryption_key=key, vpc=net.vpc, **kwargs)
    return monitor, template_of(stack)


def test_job_is_isolated_encrypted_and_in_the_vpc(stack):
    _, t = _monitor(stack)
    job = only(t, "AWS::SageMaker::DataQualityJobDefinition")
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert job["NetworkConfig"]["VpcConfig"]["Subnets"]
    assert "VolumeKmsKeyId" in job["JobResources"]["ClusterConfig"]
    assert "KmsKeyId" in job["DataQualityJobOutputConfig"]
    assert job["DataQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == "s3://baseline-bucket/iris/constraints.json"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert job["DataQualityAppSpecification"]["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}


def test_hourly_schedule(stack):
    monitor, t = _monitor(stack)
    schedule = only(t, "AWS::SageMaker::MonitoringSchedule")
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "DataQuality"
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert schedule["MonitoringScheduleName"] == monitor.schedule_name


def test_alarm_on_drift_notifies_an_encrypted_topic(stack):
    _, t = _monitor(stack)
    alarm = only(t, "AWS::CloudWatch::Alarm")
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {f"feature_baseline_drift_{f}" for f in FEATURES}
    assert alarm["Threshold"] == 0.1
    assert len(alarm["AlarmActions"]) == 1
    topic = only(t, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic


def test_rejects_endpoint_without_data_capture(stack):
    key, net, bucket, endpoint = _setup(stack, capture=False)
    with pytest.raises(ValidationError, match="data_capture"):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris", output_bucket=bucket,
                     encryption_key=key, features=FEATURES)


@pytest.mark.parametrize("kwargs,match", [
    ({"baseline_uri": "https://example.com/x"}, "baseline_uri"),
    ({"features": []}, "features"),
    ({"schedule_expression": "hourly"}, "schedule_expression"),
    ({"max_runtime": Duration.hours(25)}, "max_runtime"),
    ({"instance_type": "large"}, "instance_type"),
])
def test_rejects_bad_input(stack, kwargs, match):
    key, net, bucket, endpoint = _setup(stack)
    args = {"baseline_uri": "s3://baseline-bucket/iris", "features": FEATURES, **kwargs}
    with pytest.raises(ValidationError, match=match):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, output_bucket=bucket, encryption_key=key, **args)


def imported_capture_endpoint(stack, id="Ep"):
    """An imported endpoint whose captures go to an imported bucket (no key of its own), so are
    encrypted with the endpoint's key: not the monitor's ``encryption_key``."""
    ep_key = kms.Key.from_key_arn(stack, f"{id}Key", ENDPOINT_KEY_ARN)
    capture_bucket = s3.Bucket.from_bucket_name(stack, f"{id}Captures", "team-capture-bucket")
    role = iam.Role.from_role_arn(stack, f"{id}Role", "arn:aws:iam::111111111111:role/team/ModelRole")
    endpoint = RealtimeEndpoint.from_endpoint_attributes(stack, id, endpoint_name="team-ep", role=role,
                                                         encryption_key=ep_key,
                                                         data_capture=DataCapture(bucket=capture_bucket))
    assert stack.resolve(endpoint.data_capture.api(endpoint.encryption_key))["KmsKeyId"] == ENDPOINT_KEY_ARN
    return endpoint


def statements_of_role(template, role):
    """Every statement of the IAM policies (inline or managed) attached to ``role``."""
    ref = {"Ref": role.stack.get_logical_id(role.node.default_child)}
    return [statement
            for policy in {**resources(template, "AWS::IAM::Policy"),
                           **resources(template, "AWS::IAM::ManagedPolicy")}.values()
            if ref in policy["Properties"].get("Roles", [])
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def decrypts(statements, key_arn):
    """Whether a statement allows kms:Decrypt on ``key_arn``."""
    def listed(value):
        return value if isinstance(value, list) else [value]
    return any(s["Effect"] == "Allow" and "kms:Decrypt" in listed(s["Action"]) and key_arn in listed(s["Resource"])
               for s in statements)


@pytest.mark.parametrize("supplied", [False, True], ids=["default-role", "supplied-role"])
def test_role_may_decrypt_captures_encrypted_with_the_endpoints_key(stack, supplied):
    key, net, bucket, _ = _setup(stack)
    endpoint = imported_capture_endpoint(stack)
    role = iam.Role(stack, "TeamRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")) if supplied else None
    monitor = ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                           output_bucket=bucket, encryption_key=key, features=FEATURES, vpc=net.vpc, role=role)
    statements = statements_of_role(template_of(stack), monitor.role)
    assert decrypts(statements, ENDPOINT_KEY_ARN)
    assert [s for s in statements if s["Resource"] == ENDPOINT_KEY_ARN] == [
        {"Effect": "Allow", "Action": KEY_READ, "Resource": ENDPOINT_KEY_ARN}]


def test_no_second_key_statement_when_the_captures_use_the_monitors_key(stack):
    monitor, t = _monitor(stack)  # the endpoint's captures are encrypted with the platform key
    statements = statements_of_role(t, monitor.role)
    assert not [s for s in statements if s["Action"] == KEY_READ]


def test_captures_with_the_monitors_own_key_need_no_extra_statement(stack):
    key, net, bucket, _ = _setup(stack)
    capture_bucket = s3.Bucket.from_bucket_name(stack, "Captures", "team-capture-bucket")
    endpoint = RealtimeEndpoint.from_endpoint_attributes(
        stack, "Ep", endpoint_name="team-ep", role=iam.Role.from_role_arn(stack, "R", "arn:aws:iam::1:role/r"),
        encryption_key=key, data_capture=DataCapture(bucket=capture_bucket))
    monitor = ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                           output_bucket=bucket, encryption_key=key, features=FEATURES, vpc=net.vpc)
    statements = statements_of_role(template_of(stack), monitor.role)
    assert not [s for s in statements if s["Action"] == KEY_READ]


@pytest.mark.parametrize("argument", ["subnets", "endpoint_security_group"])
def test_network_settings_without_vpc_are_refused(stack, argument):
    key, net, bucket, endpoint = _setup(stack)
    value = (list(net.vpc.isolated_subnets) if argument == "subnets"
             else ec2.SecurityGroup.from_security_group_id(stack, "EndpointsSg", "sg-0123456789abcdef0"))
    with pytest.raises(ValidationError, match=f"{argument}.*pass vpc= together with {argument}"):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                     output_bucket=bucket, encryption_key=key, features=FEATURES, **{argument: value})

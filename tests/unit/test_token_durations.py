"""Durations from a parameter, and fractions of a second: our ValidationError naming the argument,
or the Token in the template, never CDK's raw ``RuntimeError`` from ``to_seconds()``.

CDK converts a Token Duration only as ``Duration.seconds(<parameter>)``; the checks skip Tokens, so
the code after them must convert through ``duration_to_seconds``."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import (
    CanvasSettings,
    ContainerImage,
    DeployOnApproval,
    Feature,
    FeatureGroup,
    InferenceComponentEndpoint,
    Model,
    DeploymentGuardrail,
    ModelPackageGroup,
    RealtimeEndpoint,
    StudioDomain,
    ValidationError,
)
from tests.harness.templates import only, resources, template_of

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture
def team(stack):
    key = kms.Key.from_key_arn(stack, "TeamKey", KEY_ARN)
    number = cdk.CfnParameter(stack, "Number", type="Number").value_as_number
    return stack, key, number


def _feature_group(stack, key, ttl):
    return FeatureGroup(stack, "Fg", record_identifier="id", event_time="t", encryption_key=key, ttl=ttl,
                        features=[Feature.string("id"), Feature.string("t")])


def _canvas(stack, key, idle_timeout):
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.20.0.0/16",
                                      availability_zones=["eu-west-1a", "eu-west-1b"],
                                      isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    workspace = s3.Bucket.from_bucket_attributes(stack, "Ws", bucket_name="team-ml-data", encryption_key=key)
    StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, teardown=False,
                 canvas=CanvasSettings(workspace_bucket=workspace, idle_timeout=idle_timeout))


def _deploy(stack, key, approval_age_alarm):
    role = iam.Role.from_role_arn(stack, "Hosting", "arn:aws:iam::111122223333:role/hosting", mutable=False)
    endpoint = RealtimeEndpoint.from_endpoint_attributes(stack, "Ep", endpoint_name="churn", role=role,
                                                         encryption_key=key)
    group = ModelPackageGroup.from_model_package_group_name(stack, "G", "churn")
    DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint,
                     approval_age_alarm=approval_age_alarm)


def _component(stack, key, **timeouts):
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    endpoint.add_component("C", model=model, number_of_cpu_cores_required=1, **timeouts)


def _guarded(stack, key, guardrail):
    model = Model(stack, "GuardedModel", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", deployment=guardrail)


@pytest.mark.parametrize("build, argument", [
    (lambda s, k, n: _guarded(s, k, DeploymentGuardrail.linear(wait=cdk.Duration.minutes(n))), "deployment wait"),
    (lambda s, k, n: _guarded(s, k, DeploymentGuardrail.canary(termination_wait=cdk.Duration.minutes(n))),
     "deployment termination_wait"),
    (lambda s, k, n: _guarded(s, k, DeploymentGuardrail.all_at_once(max_execution_timeout=cdk.Duration.hours(n))),
     "deployment max_execution_timeout"),
    (lambda s, k, n: _feature_group(s, k, cdk.Duration.days(n)), "ttl"),
    (lambda s, k, n: _feature_group(s, k, cdk.Duration.millis(1500)), "ttl"),
    (lambda s, k, n: _canvas(s, k, cdk.Duration.hours(n)), "idle_timeout"),
    (lambda s, k, n: _deploy(s, k, cdk.Duration.hours(n)), "approval_age_alarm"),
    (lambda s, k, n: _component(s, k, model_data_download_timeout=cdk.Duration.millis(90500)),
     "model_data_download_timeout"),
    (lambda s, k, n: _component(s, k, container_startup_health_check_timeout=cdk.Duration.minutes(n)),
     "container_startup_health_check_timeout"),
])
def test_a_duration_cdk_cannot_convert_is_a_validation_error(team, build, argument):
    stack, key, number = team
    with pytest.raises(ValidationError, match=argument):
        build(stack, key, number)


def test_a_parameter_in_seconds_reaches_the_template(team):
    stack, key, number = team
    _feature_group(stack, key, cdk.Duration.seconds(number))
    _deploy(stack, key, cdk.Duration.seconds(number))
    _component(stack, key, model_data_download_timeout=cdk.Duration.seconds(number))
    _guarded(stack, key, DeploymentGuardrail.linear(wait=cdk.Duration.seconds(number)))
    t = template_of(stack)
    (policy,) = [e["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
                 for e in resources(t, "AWS::SageMaker::Endpoint").values() if "DeploymentConfig" in e["Properties"]]
    assert policy["TrafficRoutingConfiguration"]["WaitIntervalInSeconds"] == {"Ref": "Number"}
    group = only(t, "AWS::SageMaker::FeatureGroup")
    assert group["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Seconds", "Value": {"Ref": "Number"}}
    alarms = [a for a in resources(t, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"]
    assert [a["Properties"]["Threshold"] for a in alarms] == [{"Ref": "Number"}]
    component = only(t, "AWS::SageMaker::InferenceComponent")
    assert component["Specification"]["StartupParameters"] == {"ModelDataDownloadTimeoutInSeconds": {"Ref": "Number"}}


def test_canvas_idle_timeout_from_a_parameter_in_seconds(team):
    stack, key, number = team
    _canvas(stack, key, cdk.Duration.seconds(number))
    functions = [f["Properties"] for f in resources(template_of(stack), "AWS::Lambda::Function").values()
                 if f["Properties"].get("Handler") == "canvas_idle_shutdown.handler"]
    assert [f["Environment"]["Variables"]["IDLE_TIMEOUT_SECONDS"] for f in functions] == [{"Ref": "Number"}]

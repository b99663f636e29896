"""AsyncEndpoint: encrypted results, topics, backlog autoscaling to and from zero, grants, validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from sagemaker_constructs import AsyncEndpoint, ValidationError
from tests.harness.templates import only, resources, template_of
from tests.unit.test_endpoints import Env


class AsyncEnv(Env):
    def endpoint(self, **kwargs):
        kwargs.setdefault("instance_type", "ml.m5.large")
        kwargs.setdefault("output_bucket", self.bucket)
        kwargs.setdefault("encryption_key", self.key)
        return AsyncEndpoint(self.stack, "Async", model=self.model(), **kwargs)


@pytest.fixture
def env(stack):
    return AsyncEnv(stack)


def _key_arn(stack):
    return {"Fn::GetAtt": [next(iter(resources(template_of(stack), "AWS::KMS::Key"))), "Arn"]}


def test_results_are_encrypted_under_the_endpoint_prefix(env, stack):
    endpoint = env.endpoint()
    config = only(template_of(stack), "AWS::SageMaker::EndpointConfig")
    output = config["AsyncInferenceConfig"]["OutputConfig"]
    assert output["KmsKeyId"] == _key_arn(stack)
    assert config["KmsKeyId"] == _key_arn(stack)  # the volume too
    assert json.dumps(output["S3OutputPath"]).endswith(f'/async-inference/{endpoint.endpoint_name}/output"]]}}')
    assert "failure" in json.dumps(output["S3FailurePath"])
    assert "NotificationConfig" not in output and "ClientConfig" not in config["AsyncInferenceConfig"]
    assert endpoint.input_prefix == f"async-inference/{endpoint.endpoint_name}/input/"


def test_topics_and_concurrency(env, stack):
    topic = sns.Topic(stack, "Done", master_key=env.key)
    errors = sns.Topic(stack, "Failed", master_key=env.key)
    env.endpoint(success_topic=topic, error_topic=errors, max_concurrent_invocations_per_instance=4)
    t = template_of(stack)
    config = only(t, "AWS::SageMaker::EndpointConfig")["AsyncInferenceConfig"]
    assert config["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    notification = config["OutputConfig"]["NotificationConfig"]
    assert notification["SuccessTopic"]["Ref"].startswith("Done") and notification["ErrorTopic"]["Ref"].startswith("Failed")
    policy = json.dumps(only(t, "AWS::IAM::ManagedPolicy"))
    assert "sns:Publish" in policy


def test_model_role_reads_input_and_writes_results_only(env, stack):
    endpoint = env.endpoint()
    statements = only(template_of(stack), "AWS::IAM::ManagedPolicy")["PolicyDocument"]["Statement"]
    text = json.dumps(statements)
    assert f"{endpoint.input_prefix}*" in text and f"{endpoint.output_prefix}*" in text
    put = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert put and all(endpoint.input_prefix not in json.dumps(s["Resource"]) for s in put)


def test_backlog_autoscaling_reaches_zero_and_wakes_up(env, stack):
    endpoint = env.endpoint(max_instance_count=3)
    t = template_of(stack)
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 3)
    assert target["ResourceId"] == f"endpoint/{endpoint.endpoint_name}/variant/AllTraffic"
    policies = {p["Properties"]["PolicyType"]: p["Properties"]
                for p in resources(t, "AWS::ApplicationAutoScaling::ScalingPolicy").values()}
    tracking = policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["TargetValue"] == 5
    assert policies["StepScaling"]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarm = only(t, "AWS::CloudWatch::Alarm")
    assert alarm["MetricName"] == "HasBacklogWithoutCapacity"
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": endpoint.endpoint_name}]
    assert only(t, "AWS::SageMaker::Endpoint")["RetainAllVariantProperties"] is True


def test_without_scale_to_zero(env, stack):
    env.endpoint(scale_to_zero=False, instance_count=2, max_instance_count=4)
    t = template_of(stack)
    assert only(t, "AWS::ApplicationAutoScaling::ScalableTarget")["MinCapacity"] == 2
    assert not resources(t, "AWS::CloudWatch::Alarm")


def test_grant_invoke_async_and_the_input_prefix(env, stack):
    endpoint = env.endpoint()
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    endpoint.grant_read_results(role)
    statements = only(template_of(stack), "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    by_action = {json.dumps(s["Action"]): json.dumps(s["Resource"]) for s in statements}
    assert endpoint.endpoint_name.lower() in by_action['"sagemaker:InvokeEndpointAsync"']
    put = next(v for k, v in by_action.items() if "s3:PutObject" in k)
    assert f"{endpoint.input_prefix}*" in put
    get = next(v for k, v in by_action.items() if "s3:GetObject" in k)
    assert endpoint.output_prefix in get and endpoint.input_prefix not in get


def test_grant_invoke_lets_the_caller_upload_a_large_payload_in_parts(env, stack):
    """The caller got the bucket key's GenerateDataKey/Encrypt only: the SDKs upload a payload of
    more than a few MB as a multipart upload, which needs kms:Decrypt too (AccessDenied)."""
    endpoint = env.endpoint()
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    t = template_of(stack)
    statements = only(t, "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    bucket_key = _key_arn(stack)
    (kms_statement,) = [s for s in statements if "kms:" in json.dumps(s["Action"])]
    assert kms_statement["Resource"] == bucket_key
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(kms_statement["Action"])


def test_schedule(env, stack):
    endpoint = env.endpoint(max_instance_count=3)
    endpoint.scale_on_schedule("Batch", schedule="cron(0 1 ? * * *)", min_capacity=2)
    endpoint.scale_on_schedule("AfterBatch", schedule="cron(0 3 ? * * *)", min_capacity=0)
    assert len(only(template_of(stack), "AWS::ApplicationAutoScaling::ScalableTarget")["ScheduledActions"]) == 2


def test_schedule_to_zero_without_scale_to_zero(env):
    endpoint = env.endpoint(scale_to_zero=False)
    with pytest.raises(ValidationError, match="scale_to_zero=False"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=0)


@pytest.mark.parametrize("concurrency", [0, 1001])
def test_concurrency_outside_1_to_1000(env, concurrency):
    with pytest.raises(ValidationError, match="max_concurrent_invocations_per_instance"):
        env.endpoint(max_concurrent_invocations_per_instance=concurrency)


@pytest.mark.parametrize("kwargs,match", [
    ({"max_instance_count": 0}, "max_instance_count=0"),
    ({"instance_count": 0}, "instance_count=0"),
    ({"instance_count": 3, "max_instance_count": 2}, "max_instance_count=2"),
    ({"instance_type": "ml.t2.medium"}, "burstable"),
    ({"target_backlog_per_instance": 0}, "target_backlog_per_instance"),
    ({"prefix": "/leading"}, "prefix"),
    ({"encryption_key": None}, "encryption_key"),
    ({"output_bucket": None}, "output_bucket"),
])
def test_arguments(env, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        env.endpoint(**kwargs)

"""Real-time, serverless and multi-model endpoints: defaults, autoscaling, guardrails, capture, validation."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeploymentGuardrail,
    IsolatedNetwork,
    Model,
    ModelData,
    MultiModelEndpoint,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ServerlessEndpoint,
    ValidationError,
)
from sagemaker_constructs.inference.endpoints import has_instance_storage
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


class Env:
    def __init__(self, stack):
        self.stack = stack
        self.key = PlatformKey(stack, "Key")
        self.bucket = SecureBucket(stack, "Data", encryption_key=self.key)

    def model(self, id="Model", **kwargs):
        kwargs.setdefault("model_data", ModelData.from_bucket(self.bucket, "iris/model.tar.gz"))
        return Model(self.stack, id, image=ContainerImage.from_uri(IMAGE), encryption_key=self.key, **kwargs)

    def realtime(self, **kwargs):
        kwargs.setdefault("instance_type", "ml.m5.large")
        return RealtimeEndpoint(self.stack, "Endpoint", model=self.model(), **kwargs)

    def serverless(self, model_kwargs=None, **kwargs):
        model = self.model(network_isolation=False, **(model_kwargs or {}))
        return ServerlessEndpoint(self.stack, "Serverless", model=model, **kwargs)


@pytest.fixture
def env(stack):
    return Env(stack)


def _config(t):
    return only(t, "AWS::SageMaker::EndpointConfig")


# ------------------------------------------------------------------ real-time


def test_realtime_defaults_two_instances_volume_key(env):
    endpoint = env.realtime(encryption_key=env.key)
    t = template_of(env.stack)
    config = _config(t)
    (variant,) = config["ProductionVariants"]
    assert variant["InitialInstanceCount"] == 2
    assert variant["InstanceType"] == "ml.m5.large"
    assert variant["VariantName"] == "AllTraffic"
    assert config["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    ep = only(t, "AWS::SageMaker::Endpoint")
    assert ep["EndpointName"] == endpoint.endpoint_name
    assert "RetainAllVariantProperties" not in ep
    assert resources(t, "AWS::ApplicationAutoScaling::ScalableTarget") == {}
    assert "EndpointConfigName" not in config  # replaced on change: CloudFormation names it


def test_realtime_endpoint_name_is_stable_and_valid(env):
    import re

    endpoint = env.realtime()
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", endpoint.endpoint_name)


def test_no_volume_key_on_nvme_instances(env):
    env.realtime(instance_type="ml.g5.xlarge", encryption_key=env.key)
    assert "KmsKeyId" not in _config(template_of(env.stack))


@pytest.mark.parametrize("instance_type,nvme", [("ml.m5.large", False), ("ml.m5d.large", True), ("ml.g4dn.xlarge", True),
                                                ("ml.g5.2xlarge", True), ("ml.p4d.24xlarge", True), ("ml.c7g.large", False),
                                                ("ml.inf2.xlarge", False)])
def test_instance_storage_detection(instance_type, nvme):
    assert has_instance_storage(instance_type) is nvme


def test_autoscaling_target_tracking_and_retained_count(env):
    endpoint = env.realtime(instance_count=2, max_instance_count=6, target_invocations_per_instance=250)
    t = template_of(env.stack)
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] == 2 and target["MaxCapacity"] == 6
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["ResourceId"] == f"endpoint/{endpoint.endpoint_name}/variant/AllTraffic"
    policy = only(t, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 250
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    ep = only(t, "AWS::SageMaker::Endpoint")
    assert ep["RetainAllVariantProperties"] is True
    # only the autoscaled instance count is retained: a changed A/B weight applies at the next update
    assert ep["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"},
                                                      {"VariantPropertyType": "DataCaptureConfig"}]
    (target_res,) = resources(t, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    (endpoint_id,) = resources(t, "AWS::SageMaker::Endpoint")
    assert endpoint_id in target_res["DependsOn"]


def test_data_capture_is_encrypted_and_granted(env):
    env.realtime(data_capture=DataCapture(env.bucket, sampling_percentage=20), encryption_key=env.key)
    t = template_of(env.stack)
    capture = _config(t)["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 20
    assert capture["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    statements = [s for p in resources(t, "AWS::IAM::ManagedPolicy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    writes = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert any("data-capture/*" in json.dumps(s["Resource"]) for s in writes)


def test_canary_guardrail_with_default_rollback_alarms(env):
    endpoint = env.realtime(deployment=DeploymentGuardrail.canary(percent=25, wait=Duration.minutes(15)))
    t = template_of(env.stack)
    config = only(t, "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    routing = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "CANARY", "WaitIntervalInSeconds": 900,
                       "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}}
    alarms = config["AutoRollbackConfiguration"]["Alarms"]
    assert len(alarms) == 2 == len(endpoint.rollback_alarms)
    metrics = {a["Properties"]["MetricName"] for a in resources(t, "AWS::CloudWatch::Alarm").values()}
    assert metrics == {"Invocation5XXErrors", "ModelLatency"}
    for alarm in resources(t, "AWS::CloudWatch::Alarm").values():
        dims = {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}
        assert dims == {"EndpointName": endpoint.endpoint_name, "VariantName": "AllTraffic"}


def test_linear_guardrail_with_own_alarms(env):
    alarm = cloudwatch.Alarm.from_alarm_arn(env.stack, "Own", "arn:aws:cloudwatch:us-east-1:111122223333:alarm:slo")
    env.realtime(deployment=DeploymentGuardrail.linear(step_instances=1, wait=Duration.minutes(5), alarms=[alarm]))
    config = only(template_of(env.stack), "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    routing = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["LinearStepSize"] == {"Type": "INSTANCE_COUNT", "Value": 1}
    assert config["AutoRollbackConfiguration"]["Alarms"] == [{"AlarmName": "slo"}]
    assert resources(template_of(env.stack), "AWS::CloudWatch::Alarm") == {}


@pytest.mark.parametrize("make, unit, divisor", [(Duration.seconds, "s", 1000000), (Duration.millis, "ms", 1000)])
def test_a_parameter_rollback_latency_is_compared_in_its_own_unit(env, make, unit, divisor):
    """rollback_latency from a CfnParameter: Python multiplied its number encoding by 1000, a threshold
    of -1.9e292 that put the alarm in ALARM at every data point, so every deployment rolled back."""
    latency = cdk.CfnParameter(env.stack, "Latency", type="Number", default=2)
    env.realtime(deployment=DeploymentGuardrail.canary(percent=25), rollback_latency=make(latency.value_as_number))
    (alarm,) = [a["Properties"] for a in resources(template_of(env.stack), "AWS::CloudWatch::Alarm").values()
                if "ModelLatency" in json.dumps(a)]
    assert alarm["Threshold"] == {"Ref": "Latency"}
    math, latency_metric = alarm["Metrics"]
    assert math["Expression"] == f"latency / {divisor}" and math["ReturnData"] is True
    assert latency_metric["MetricStat"]["Metric"]["MetricName"] == "ModelLatency"
    assert latency_metric["MetricStat"]["Stat"] == "p99"
    assert alarm["AlarmDescription"]["Fn::Join"][1][-1] == f" {unit}"


def test_a_parameter_rollback_latency_in_hours_is_refused(env):
    latency = cdk.CfnParameter(env.stack, "Latency", type="Number", default=2)
    with pytest.raises(ValidationError, match="rollback_latency"):
        env.realtime(deployment=DeploymentGuardrail.canary(percent=25),
                     rollback_latency=Duration.hours(latency.value_as_number))


def test_all_at_once_bakes(env):
    env.realtime(deployment=DeploymentGuardrail.all_at_once(bake=Duration.minutes(20)))
    config = only(template_of(env.stack), "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE",
                                                                             "WaitIntervalInSeconds": 1200}


def test_grant_invoke_is_scoped_to_the_endpoint(env):
    endpoint = env.realtime()
    role = iam.Role(env.stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    endpoint.grant_invoke(role)
    t = template_of(env.stack)
    doc = next(p for k, p in resources(t, "AWS::IAM::Policy").items() if k.startswith("Caller"))["Properties"]["PolicyDocument"]
    (statement,) = doc["Statement"]
    assert statement["Action"] == ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
    assert statement["Resource"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        f":endpoint/{endpoint.endpoint_name.lower()}"]]}


def test_metrics_state_statistic_and_period(env):
    endpoint = env.realtime()
    inv = endpoint.metric_invocations()
    lat = endpoint.metric_model_latency()
    err = endpoint.metric_invocation_5xx_errors()
    assert (inv.metric_name, inv.statistic, inv.period.to_minutes()) == ("Invocations", "Sum", 5)
    assert (lat.metric_name, lat.statistic, lat.period.to_minutes()) == ("ModelLatency", "Average", 5)
    assert (err.metric_name, err.statistic, err.period.to_minutes()) == ("Invocation5XXErrors", "Sum", 5)
    assert inv.namespace == "AWS/SageMaker"
    assert inv.dimensions == {"EndpointName": endpoint.endpoint_name, "VariantName": "AllTraffic"}


def test_from_endpoint_name_for_endpoints_the_stack_does_not_own(stack):
    imported = RealtimeEndpoint.from_endpoint_name(stack, "Imported", "Fraud-Detector")
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    imported.grant_invoke(role)
    doc = next(iter(resources(template_of(stack), "AWS::IAM::Policy").values()))["Properties"]["PolicyDocument"]
    assert "endpoint/fraud-detector" in json.dumps(doc)
    assert imported.metric_invocations().dimensions["EndpointName"] == "Fraud-Detector"


# ------------------------------------------------------------------ serverless


def test_serverless_defaults(env):
    env.serverless()
    t = template_of(env.stack)
    (variant,) = _config(t)["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 20}
    assert "InstanceType" not in variant and "KmsKeyId" not in _config(t)
    assert resources(t, "AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_serverless_provisioned_concurrency_autoscaling(env):
    env.serverless(provisioned_concurrency=2, max_provisioned_concurrency=10, max_concurrency=50)
    t = template_of(env.stack)
    (variant,) = _config(t)["ProductionVariants"]
    assert variant["ServerlessConfig"]["ProvisionedConcurrency"] == 2
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    tracking = only(t, "AWS::ApplicationAutoScaling::ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantProvisionedConcurrencyUtilization"
    assert tracking["TargetValue"] == 0.7


@pytest.mark.parametrize("memory", [512, 1000, 8192])
def test_rejects_serverless_memory(env, memory):
    with pytest.raises(ValidationError, match="memory_size_in_mb"):
        env.serverless(memory_size_in_mb=memory)


@pytest.mark.parametrize("concurrency", [0, 201])
def test_rejects_serverless_max_concurrency(env, concurrency):
    with pytest.raises(ValidationError, match="max_concurrency"):
        env.serverless(max_concurrency=concurrency)


@pytest.mark.parametrize("provisioned", [0, 201, 21])
def test_rejects_provisioned_concurrency_out_of_range_or_above_max(env, provisioned):
    with pytest.raises(ValidationError, match="provisioned_concurrency"):
        env.serverless(provisioned_concurrency=provisioned)  # max_concurrency 20


def test_rejects_max_provisioned_without_provisioned(env):
    with pytest.raises(ValidationError, match="max_provisioned_concurrency"):
        env.serverless(max_provisioned_concurrency=5)


def test_rejects_max_provisioned_below_provisioned(env):
    with pytest.raises(ValidationError, match="max_provisioned_concurrency"):
        env.serverless(provisioned_concurrency=5, max_provisioned_concurrency=3)


def test_rejects_serverless_with_vpc(env):
    net = IsolatedNetwork(env.stack, "Network", endpoints="none")
    with pytest.raises(ValidationError, match="does not support a VPC"):
        env.serverless(model_kwargs={"vpc": net.vpc})


def test_rejects_serverless_with_network_isolation(env):
    model = env.model()  # network isolation on by default
    with pytest.raises(ValidationError, match="network isolation"):
        ServerlessEndpoint(env.stack, "Serverless", model=model)


def test_rejects_serverless_with_data_capture(env):
    with pytest.raises(ValidationError, match="data capture"):
        env.serverless(data_capture=DataCapture(env.bucket))


# ------------------------------------------------------------------ multi-model


def test_multi_model_endpoint(env):
    endpoint = MultiModelEndpoint(
        env.stack, "Mme", image=ContainerImage.from_uri(IMAGE),
        model_data_prefix=ModelData.from_bucket(env.bucket, "models/"), instance_type="ml.m5.large",
        encryption_key=env.key, max_instance_count=4,
    )
    t = template_of(env.stack)
    model = only(t, "AWS::SageMaker::Model")
    assert model["PrimaryContainer"]["Mode"] == "MultiModel"
    assert model["PrimaryContainer"]["ModelDataUrl"]["Fn::Join"][1][-1] == "/models/"
    assert model["EnableNetworkIsolation"] is True
    (variant,) = _config(t)["ProductionVariants"]
    assert variant["InitialInstanceCount"] == 2
    assert endpoint.scalable_target is not None


def test_multi_model_resource_count_does_not_grow_with_models(env):
    MultiModelEndpoint(env.stack, "Mme", image=ContainerImage.from_uri(IMAGE),
                       model_data_prefix=ModelData.from_bucket(env.bucket, "models/"), instance_type="ml.m5.large")
    t = template_of(env.stack)
    assert len(resources(t, "AWS::SageMaker::Model")) == 1
    assert len(resources(t, "AWS::SageMaker::Endpoint")) == 1


def test_rejects_multi_model_without_prefix(env):
    with pytest.raises(ValidationError, match="prefix"):
        MultiModelEndpoint(env.stack, "Mme", image=ContainerImage.from_uri(IMAGE),
                           model_data_prefix=ModelData.from_bucket(env.bucket, "models/one.tar.gz"),
                           instance_type="ml.m5.large")


# ------------------------------------------------------------------ validation (instance endpoints)


@pytest.mark.parametrize("count", [0, -1])
def test_rejects_instance_count_below_one(env, count):
    with pytest.raises(ValidationError, match="instance_count"):
        env.realtime(instance_count=count)


def test_rejects_max_below_instance_count(env):
    with pytest.raises(ValidationError, match="max_instance_count"):
        env.realtime(instance_count=3, max_instance_count=2)


@pytest.mark.parametrize("instance_type", ["m5.large", "ml.m5", "ml.M5.large", "ml..large", "ml.m5.large.x", "t2.medium"])
def test_rejects_bad_instance_types(env, instance_type):
    with pytest.raises(ValidationError, match="instance_type"):
        env.realtime(instance_type=instance_type)


@pytest.mark.parametrize("instance_type", ["ml.t2.medium", "ml.t2.large"])
def test_rejects_autoscaling_on_burstable_instances(env, instance_type):
    with pytest.raises(ValidationError, match="burstable"):
        env.realtime(instance_type=instance_type, max_instance_count=4)


def test_burstable_without_autoscaling_is_fine(env):
    env.realtime(instance_type="ml.t2.medium", instance_count=1)


def test_rejects_target_without_autoscaling(env):
    with pytest.raises(ValidationError, match="target_invocations_per_instance"):
        env.realtime(target_invocations_per_instance=100)


@pytest.mark.parametrize("argument", ["endpoint_name", "endpoint_config_name"])
@pytest.mark.parametrize("name", ["-x", "x-", "a_b", "e" * 64])
def test_rejects_bad_endpoint_and_config_names(env, argument, name):
    with pytest.raises(ValidationError, match=argument):
        env.realtime(**{argument: name})


@pytest.mark.parametrize("name", ["-x", "e" * 64])
def test_rejects_bad_serverless_names(env, name):
    with pytest.raises(ValidationError, match="endpoint_name"):
        env.serverless(endpoint_name=name)


@pytest.mark.parametrize("percent", [-1, 101])
def test_rejects_sampling_outside_0_100(env, percent):
    with pytest.raises(ValidationError, match="sampling_percentage"):
        env.realtime(data_capture=DataCapture(env.bucket, sampling_percentage=percent))


@pytest.mark.parametrize("percent", [0, 51])
def test_rejects_canary_size_out_of_range(env, percent):
    with pytest.raises(ValidationError, match="canary percent"):
        env.realtime(deployment=DeploymentGuardrail.canary(percent=percent))


def test_rejects_canary_instances_above_half_the_fleet(env):
    with pytest.raises(ValidationError, match="canary instances"):
        env.realtime(instance_count=4, deployment=DeploymentGuardrail.canary(instances=3))


@pytest.mark.parametrize("percent", [9, 51])
def test_rejects_linear_step_out_of_range(env, percent):
    with pytest.raises(ValidationError, match="linear step_percent"):
        env.realtime(deployment=DeploymentGuardrail.linear(step_percent=percent))


def test_rejects_wait_over_an_hour(env):
    with pytest.raises(ValidationError, match="wait"):
        env.realtime(deployment=DeploymentGuardrail.canary(wait=Duration.minutes(61)))


def test_rejects_execution_timeout_out_of_range(env):
    with pytest.raises(ValidationError, match="max_execution_timeout"):
        env.realtime(deployment=DeploymentGuardrail.linear(max_execution_timeout=Duration.minutes(5)))


def test_rejects_more_than_ten_rollback_alarms(env):
    alarms = [cloudwatch.Alarm.from_alarm_arn(env.stack, f"A{i}", f"arn:aws:cloudwatch:us-east-1:1:alarm:a{i}")
              for i in range(11)]
    with pytest.raises(ValidationError, match="at most 10"):
        env.realtime(deployment=DeploymentGuardrail.canary(alarms=alarms))


# ------------------------------------------------------------------ whole numbers
def _async(env, **kwargs):
    from sagemaker_constructs import AsyncEndpoint

    return AsyncEndpoint(env.stack, "Async", model=env.model(), instance_type="ml.m5.large", output_bucket=env.bucket,
                         encryption_key=env.key, max_instance_count=3, **kwargs)


def _component(env, **kwargs):
    from sagemaker_constructs import InferenceComponentEndpoint

    endpoint = InferenceComponentEndpoint(env.stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key)
    endpoint.add_component("C", model=env.model(), max_copies=2, number_of_cpu_cores_required=1, **kwargs)


@pytest.mark.parametrize("build, argument", [
    (lambda env: env.realtime(instance_count=1.5), "instance_count"),
    (lambda env: env.realtime(instance_count=2, max_instance_count=3.5), "max_instance_count"),
    (lambda env: env.realtime(max_instance_count=float("inf")), "max_instance_count"),
    (lambda env: _async(env, instance_count=1.5, scale_to_zero=False), "instance_count"),
    (lambda env: _component(env, copies=1.5), "copies"),
    (lambda env: env.realtime(max_instance_count=4).scale_on_schedule(
        "Nights", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1.5), "min_capacity"),
    (lambda env: env.serverless(max_concurrency=2.5), "max_concurrency"),
])
def test_counts_must_be_whole_numbers(env, build, argument):
    """Instance, copy and concurrency counts are integers in the API and in the CloudFormation schemas
    (``InitialInstanceCount``, ``CopyCount``, ``MinCapacity``): 1.5 must fail at synth, not at deploy."""
    with pytest.raises(ValidationError, match=rf"{argument}.*whole number"):
        build(env)


def test_autoscaling_targets_need_autoscaling(env):
    """A target with nothing to scale is refused, not dropped."""
    with pytest.raises(ValidationError, match="target_provisioned_utilization.*max_provisioned_concurrency"):
        env.serverless(provisioned_concurrency=2, target_provisioned_utilization=0.5)


def test_a_variants_invocation_target_needs_its_autoscaling(env):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="target_invocations_per_instance.*max_instance_count"):
        endpoint.add_variant("B", model=env.model("ModelB"), instance_type="ml.m5.large",
                             target_invocations_per_instance=37)


def test_invocation_targets_may_be_fractional(env):
    """TargetTrackingScalingPolicyConfiguration.TargetValue is a double, not a count."""
    endpoint = env.realtime(max_instance_count=4, target_invocations_per_instance=37.5)
    endpoint.add_variant("B", model=env.model("ModelB"), instance_type="ml.m5.large", max_instance_count=2,
                         target_invocations_per_instance=12.5)
    values = sorted(p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
                    for p in resources(template_of(env.stack), "AWS::ApplicationAutoScaling::ScalingPolicy").values())
    assert values == [12.5, 37.5]


def test_serverless_parameter_max_concurrency_bounds_nothing_at_synth(env):
    """A CfnParameter max_concurrency: provisioned concurrency was compared with its number
    encoding (-1.9e289) and every value was refused."""
    from aws_cdk import CfnParameter

    limit = CfnParameter(env.stack, "MaxConcurrency", type="Number").value_as_number
    env.serverless(max_concurrency=limit, provisioned_concurrency=2, max_provisioned_concurrency=8)
    t = template_of(env.stack)
    (variant,) = _config(t)["ProductionVariants"]
    assert variant["ServerlessConfig"]["MaxConcurrency"] == {"Ref": "MaxConcurrency"}
    assert variant["ServerlessConfig"]["ProvisionedConcurrency"] == 2
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 8)
    with pytest.raises(ValidationError, match="provisioned_concurrency"):  # the API's own maximum stays
        ServerlessEndpoint(env.stack, "Other", model=env.model("OtherModel", network_isolation=False),
                           max_concurrency=limit, provisioned_concurrency=201)

"""InferenceComponentEndpoint and its components: defaults, scale to zero, LMI images, validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from sagemaker_constructs import ContainerImage, InferenceComponentEndpoint, IsolatedNetwork, Model, ValidationError
from sagemaker_constructs.inference.endpoints.components import accelerator_facts, cpu_memory
from sagemaker_constructs.inference.models import LMI_DEFAULT_TAG, LMI_IMAGE_ACCOUNTS
from tests.harness.templates import only, resources, template_of
from tests.unit.test_endpoints import Env


class IcEnv(Env):
    def endpoint(self, **kwargs):
        kwargs.setdefault("instance_type", "ml.m5.xlarge")
        kwargs.setdefault("max_instance_count", 2)
        kwargs.setdefault("encryption_key", self.key)
        return InferenceComponentEndpoint(self.stack, "IC", **kwargs)


@pytest.fixture
def env(stack):
    return IcEnv(stack)


def test_endpoint_defaults_scale_to_zero_instances(env, stack):
    env.endpoint()
    config = only(template_of(stack), "AWS::SageMaker::EndpointConfig")
    variant = config["ProductionVariants"][0]
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    assert variant["InitialInstanceCount"] == 1
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert "ModelName" not in variant  # the components name the models
    assert config["KmsKeyId"] == {"Fn::GetAtt": [next(iter(resources(template_of(stack), "AWS::KMS::Key"))), "Arn"]}
    assert config["EnableNetworkIsolation"] is True
    assert config["ExecutionRoleArn"]["Fn::GetAtt"][0].startswith("ICRole")


def test_endpoint_in_vpc_gets_its_own_security_group(env, stack):
    net = IsolatedNetwork(stack, "Net", encryption_key=env.key, endpoints="inference")
    endpoint = env.endpoint(vpc=net.vpc)
    config = only(template_of(stack), "AWS::SageMaker::EndpointConfig")
    assert len(config["VpcConfig"]["Subnets"]) == 2
    assert len(endpoint.security_groups) == 1
    group = template_of(stack)["Resources"][config["VpcConfig"]["SecurityGroupIds"][0]["Fn::GetAtt"][0]]
    assert "SecurityGroupIngress" not in group["Properties"]


def test_component_copies_autoscale_to_zero_and_wake_up(env, stack):
    endpoint = env.endpoint()
    component = endpoint.add_component("Iris", model=env.model(), copies=1, max_copies=4,
                                       number_of_cpu_cores_required=1, min_memory_required_in_mb=2048,
                                       model_data_download_timeout=Duration.minutes(10),
                                       container_startup_health_check_timeout=Duration.minutes(5))
    t = template_of(stack)
    ic = only(t, "AWS::SageMaker::InferenceComponent")
    assert ic["RuntimeConfig"] == {"CopyCount": 1}
    assert ic["Specification"]["ComputeResourceRequirements"] == {"NumberOfCpuCoresRequired": 1,
                                                                 "MinMemoryRequiredInMb": 2048}
    assert ic["Specification"]["StartupParameters"] == {"ModelDataDownloadTimeoutInSeconds": 600,
                                                        "ContainerStartupHealthCheckTimeoutInSeconds": 300}
    assert ic["InferenceComponentName"] == component.component_name
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ResourceId"] == f"inference-component/{component.component_name}"
    assert target["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 4)
    # Application Auto Scaling's SageMaker service-linked role: no role of our own.
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(target["RoleARN"])
    policies = {p["Properties"]["PolicyType"]: p["Properties"]
                for p in resources(t, "AWS::ApplicationAutoScaling::ScalingPolicy").values()}
    assert policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"}
    assert policies["StepScaling"]["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Maximum",
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}
    alarm = only(t, "AWS::CloudWatch::Alarm")
    assert alarm["MetricName"] == "NoCapacityInvocationFailures"
    assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": component.component_name}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Maximum", 30, 1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"][0]["Ref"].startswith("ICIrisWakeUp")


def test_component_without_scale_to_zero_keeps_a_copy(env, stack):
    env.endpoint().add_component("Iris", model=env.model(), scale_to_zero=False, max_copies=2,
                                 scaling_metric="invocations", target_value=50)
    t = template_of(stack)
    assert only(t, "AWS::ApplicationAutoScaling::ScalableTarget")["MinCapacity"] == 1
    assert not resources(t, "AWS::CloudWatch::Alarm")
    policy = only(t, "AWS::ApplicationAutoScaling::ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerInferenceComponentInvocationsPerCopy"
    assert policy["TargetValue"] == 50


def test_gpu_component_with_lmi_image(env, stack):
    endpoint = env.endpoint(instance_type="ml.g5.12xlarge", max_instance_count=1)
    model = Model(stack, "Llm", image=ContainerImage.from_lmi(), encryption_key=env.key)
    endpoint.add_component("Llm", model=model, number_of_accelerator_devices_required=4,
                           min_memory_required_in_mb=65536)
    t = template_of(stack)
    assert "NumberOfAcceleratorDevicesRequired" in json.dumps(only(t, "AWS::SageMaker::InferenceComponent"))
    # NVMe instance storage: no volume key
    assert "KmsKeyId" not in only(t, "AWS::SageMaker::EndpointConfig")
    image = json.dumps(only(t, "AWS::SageMaker::Model")["PrimaryContainer"]["Image"])
    assert f"djl-inference:{LMI_DEFAULT_TAG}" in image
    mapping = next(v for k, v in t["Mappings"].items() if k.startswith("ImageAccounts"))
    assert mapping["us-east-1"] == {"account": LMI_IMAGE_ACCOUNTS["us-east-1"]} == {"account": "763104351884"}


def test_lmi_tag_is_validated():
    with pytest.raises(ValidationError, match="tag"):
        ContainerImage.from_lmi("bad tag")


def test_schedule_on_every_component(env, stack):
    endpoint = env.endpoint()
    a = endpoint.add_component("A", model=env.model("MA"), max_copies=2)
    endpoint.add_component("B", model=env.model("MB"), max_copies=3)
    endpoint.scale_on_schedule("Nights", schedule="cron(0 20 ? * * *)", min_capacity=0, max_capacity=1)
    a.scale_on_schedule("Mornings", schedule="cron(0 8 ? * MON-FRI *)", min_capacity=1)
    targets = resources(template_of(stack), "AWS::ApplicationAutoScaling::ScalableTarget")
    names = sorted(sorted(x["ScheduledActionName"] for x in t["Properties"]["ScheduledActions"]) for t in targets.values())
    assert names == [["Mornings", "Nights"], ["Nights"]]


def test_invoke_grant_is_the_endpoint_only(env, stack):
    endpoint = env.endpoint()
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    doc = json.dumps(only(template_of(stack), "AWS::IAM::Policy"))
    assert "sagemaker:InvokeEndpoint" in doc and endpoint.endpoint_name.lower() in doc


def test_catalog_facts():
    assert accelerator_facts("ml.m5.xlarge")[0] is False
    assert accelerator_facts("ml.g5.12xlarge")[0] is True
    assert cpu_memory("ml.m5.xlarge") == (4, 16384)
    assert cpu_memory("ml.x9.large") is None


# --- validation -------------------------------------------------------------------------------

def test_zero_copies_at_creation(env):
    with pytest.raises(ValidationError, match="copies=0"):
        env.endpoint().add_component("C", model=env.model(), copies=0)


def test_max_copies_below_copies(env):
    with pytest.raises(ValidationError, match="max_copies=1"):
        env.endpoint().add_component("C", model=env.model(), copies=2, max_copies=1)


def test_accelerators_on_a_cpu_instance(env):
    with pytest.raises(ValidationError, match="has no accelerators"):
        env.endpoint().add_component("C", model=env.model(), number_of_accelerator_devices_required=1)


def test_more_accelerators_than_the_instance_has(env):
    endpoint = env.endpoint(instance_type="ml.g5.xlarge")
    with pytest.raises(ValidationError, match="at most 1"):
        endpoint.add_component("C", model=env.model(), number_of_accelerator_devices_required=2)


def test_memory_that_does_not_fit_the_instance(env):
    with pytest.raises(ValidationError, match="min_memory_required_in_mb=20000"):
        env.endpoint().add_component("C", model=env.model(), min_memory_required_in_mb=20000)


def test_cpus_that_do_not_fit_the_instance(env):
    with pytest.raises(ValidationError, match="number_of_cpu_cores_required=8"):
        env.endpoint().add_component("C", model=env.model(), number_of_cpu_cores_required=8)


def test_max_copies_that_do_not_fit_the_endpoint(env):
    # 2 CPUs per copy: 2 copies per ml.m5.xlarge, 2 instances at most -> 4 copies
    with pytest.raises(ValidationError, match="max_copies=5"):
        env.endpoint().add_component("C", model=env.model(), number_of_cpu_cores_required=2, max_copies=5)


@pytest.mark.parametrize("kwargs,match", [
    ({"number_of_cpu_cores_required": 0.1}, "0.25"),
    ({"min_memory_required_in_mb": 64}, "min_memory_required_in_mb"),
    ({"max_memory_required_in_mb": 512, "min_memory_required_in_mb": 1024}, "max_memory_required_in_mb"),
    ({"model_data_download_timeout": Duration.seconds(30)}, "model_data_download_timeout"),
    ({"container_startup_health_check_timeout": Duration.hours(2)}, "container_startup_health_check_timeout"),
    ({"scaling_metric": "cpu"}, "scaling_metric"),
    ({"target_value": 0}, "target_value"),
    ({"component_name": "bad_name"}, "component_name"),
])
def test_component_arguments(env, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        env.endpoint().add_component("C", model=env.model(), **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"max_instance_count": 0}, "max_instance_count=0"),
    ({"min_instance_count": 3, "max_instance_count": 2}, "max_instance_count=2"),
    ({"min_instance_count": -1}, "min_instance_count=-1"),
    ({"routing_strategy": "ROUND_ROBIN"}, "routing_strategy"),
    ({"instance_type": "m5.large"}, "instance_type"),
])
def test_endpoint_arguments(env, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        env.endpoint(**kwargs)


def test_subnets_without_vpc(env, stack):
    net = IsolatedNetwork(stack, "Net", encryption_key=env.key, endpoints="inference")
    with pytest.raises(ValidationError, match="subnets"):
        env.endpoint(subnets=net.vpc.isolated_subnets)


def test_schedule_needs_components(env):
    with pytest.raises(ValidationError, match="add_component first"):
        env.endpoint().scale_on_schedule("Nights", schedule="cron(0 20 ? * * *)", min_capacity=0)


def test_component_schedule_bounds(env):
    component = env.endpoint().add_component("C", model=env.model(), max_copies=2, scale_to_zero=False)
    with pytest.raises(ValidationError, match="scale_to_zero=False"):
        component.scale_on_schedule("Nights", schedule="cron(0 20 ? * * *)", min_capacity=0)
    with pytest.raises(ValidationError, match="max_capacity=3"):
        component.scale_on_schedule("Peak", schedule="cron(0 9 ? * * *)", max_capacity=3)


def _eni_actions(stack, prefix):
    from sagemaker_constructs.security.roles import VPC_NETWORK_INTERFACE_ACTIONS

    found = set()
    for logical_id, res in template_of(stack)["Resources"].items():
        if res["Type"] == "AWS::IAM::ManagedPolicy" and logical_id.startswith(prefix):
            for s in res["Properties"]["PolicyDocument"]["Statement"]:
                found.update(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    return found & set(VPC_NETWORK_INTERFACE_ACTIONS)


def test_roles_get_network_interface_calls_only_in_a_vpc(env, stack):
    """Outside a VPC neither the endpoint's role nor a component model's role may create ENIs;
    in a VPC both may (the model, made outside any VPC, gets them when it joins the endpoint)."""
    from sagemaker_constructs.security.roles import VPC_NETWORK_INTERFACE_ACTIONS

    endpoint = env.endpoint()
    endpoint.add_component("Iris", model=env.model(), copies=1, number_of_cpu_cores_required=1,
                           min_memory_required_in_mb=1024)
    assert not _eni_actions(stack, "ICRole") and not _eni_actions(stack, "ModelRole")

    import aws_cdk as cdk

    from tests.conftest import new_app

    other = cdk.Stack(new_app(), "InVpc")
    env2 = IcEnv(other)
    net = IsolatedNetwork(other, "Net", encryption_key=env2.key, endpoints="inference")
    in_vpc = env2.endpoint(vpc=net.vpc)
    model = env2.model()
    assert model.role.network_interfaces is False
    in_vpc.add_component("Iris", model=model, copies=1, number_of_cpu_cores_required=1, min_memory_required_in_mb=1024)
    assert _eni_actions(other, "ICRole") == set(VPC_NETWORK_INTERFACE_ACTIONS)
    assert _eni_actions(other, "ModelRole") == set(VPC_NETWORK_INTERFACE_ACTIONS)
    model.role.allow_network_interfaces()  # again: nothing added twice
    statements = [s for k, r in template_of(other)["Resources"].items() if k.startswith("ModelRole")
                  and r["Type"] == "AWS::IAM::ManagedPolicy" for s in r["Properties"]["PolicyDocument"]["Statement"]]
    assert sum("ec2:CreateNetworkInterface" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
               for s in statements) == 1


def test_min_instance_count_from_a_parameter_starts_with_at_least_one_instance(env, stack):
    """``max(1, min_instance_count)`` in the template: Python's max() of a Token's encoding gave a literal 1."""
    from aws_cdk import CfnParameter

    minimum = CfnParameter(stack, "MinInstances", type="Number", default=3).value_as_number
    env.endpoint(min_instance_count=minimum)
    t = template_of(stack)
    variant = only(t, "AWS::SageMaker::EndpointConfig")["ProductionVariants"][0]
    (condition_id,) = t["Conditions"]
    assert t["Conditions"][condition_id] == {"Fn::Equals": [{"Ref": "MinInstances"}, 0]}
    assert variant["InitialInstanceCount"] == {"Fn::If": [condition_id, 1, {"Ref": "MinInstances"}]}
    assert variant["ManagedInstanceScaling"]["MinInstanceCount"] == {"Ref": "MinInstances"}


def test_a_component_name_is_used_once_per_account_and_region(env, stack):
    # Inference component names are unique per account and Region (CreateInferenceComponent: "a unique name"):
    # a second component of the same name passed synth and CloudFormation refused it at deploy.
    endpoint = env.endpoint()
    model = env.model()
    endpoint.add_component("A", model=model, component_name="ranker")
    with pytest.raises(ValidationError, match="IC/A already creates 'ranker'"):
        endpoint.add_component("B", model=model, component_name="ranker")
    other = InferenceComponentEndpoint(stack, "IC2", instance_type="ml.m5.xlarge", max_instance_count=2,
                                       encryption_key=env.key)
    with pytest.raises(ValidationError, match="inference components are unique per account and Region"):
        other.add_component("C", model=model, component_name="ranker")
    other.add_component("D", model=model, component_name="ranker-2")


def test_the_same_component_name_in_another_region_is_accepted():
    from aws_cdk import App, Environment, Stack

    app = App()
    for region in ("us-east-1", "eu-west-1"):
        regional = IcEnv(Stack(app, f"S-{region}", env=Environment(account="111111111111", region=region)))
        regional.endpoint().add_component("A", model=regional.model(), component_name="ranker")
    same = IcEnv(Stack(app, "S-again", env=Environment(account="111111111111", region="eu-west-1")))
    with pytest.raises(ValidationError, match="already creates 'ranker'"):
        same.endpoint().add_component("A", model=same.model(), component_name="ranker")

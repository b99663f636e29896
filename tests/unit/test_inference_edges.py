"""Inference constructs used the way another team would: its own imported role and models,
instance types that one endpoint kind accepts and another must refuse, endpoints the invoker
cannot call. Each rule is checked on every endpoint kind it applies to."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (AsyncEndpoint, ContainerImage, EndpointInvoker, InferenceComponentEndpoint, Model,
                                  ModelData, MultiModelEndpoint, RealtimeEndpoint, ServerlessEndpoint, ValidationError)
from tests.harness.templates import only, resources, template_of
from tests.unit.test_endpoints import IMAGE, Env

ROLE_ARN = "arn:aws:iam::111122223333:role/team-b/model-role"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3"


@pytest.fixture
def env(stack):
    return Env(stack)


# --- the invoker calls InvokeEndpoint by name only ----------------------------------------------

def test_invoker_refuses_an_async_endpoint(env, stack):
    endpoint = AsyncEndpoint(stack, "Async", model=env.model(), instance_type="ml.m5.large", output_bucket=env.bucket,
                             encryption_key=env.key)
    with pytest.raises(ValidationError, match="InvokeEndpointAsync"):
        EndpointInvoker(stack, "Invoker", endpoint=endpoint)


def test_invoker_refuses_an_inference_component_endpoint(env, stack):
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key)
    with pytest.raises(ValidationError, match="InferenceComponentName"):
        EndpointInvoker(stack, "Invoker", endpoint=endpoint)


def test_invoker_still_takes_a_realtime_endpoint(env, stack):
    invoker = EndpointInvoker(stack, "Invoker", endpoint=env.realtime())
    assert invoker.function is not None


# --- a role passed to an inference component endpoint -------------------------------------------

def test_inference_component_endpoint_gives_a_supplied_role_the_default_statements(env, stack):
    role = iam.Role(stack, "TeamRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key, role=role)
    t = template_of(stack)
    assert endpoint.role is role
    config = only(t, "AWS::SageMaker::EndpointConfig")
    role_id = config["ExecutionRoleArn"]["Fn::GetAtt"][0]
    assert role_id.startswith("TeamRole")
    granted = {a for s in _policies_of(t, role_id) for a in s}
    default_actions = {"kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "ecr:BatchGetImage",
                       "ecr:GetAuthorizationToken", "logs:PutLogEvents", "cloudwatch:PutMetricData"}
    assert default_actions <= granted
    # No default role of ours is left behind, and the config waits for the role's permissions.
    assert not [k for k in resources(t, "AWS::IAM::Role") if k.startswith("IC")]
    depends = t["Resources"][next(iter(resources(t, "AWS::SageMaker::EndpointConfig")))].get("DependsOn", [])
    assert any(d.startswith("TeamRole") for d in depends)


def _policies_of(template, role_id):
    """The Allow actions of each policy (managed or inline) attached to ``role_id``."""
    out = []
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(template, kind).values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                actions = []
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if statement["Effect"] == "Allow":
                        a = statement["Action"]
                        actions.extend([a] if isinstance(a, str) else a)
                out.append(actions)
    return out


def test_inference_component_endpoint_refuses_an_immutable_role_unless_prepared(env, stack):
    role = iam.Role.from_role_arn(stack, "Locked", ROLE_ARN, mutable=False)
    with pytest.raises(ValidationError, match="role_is_prepared=True"):
        InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                   encryption_key=env.key, role=role)
    endpoint = InferenceComponentEndpoint(stack, "IC2", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key, role=role, role_is_prepared=True)
    config = only(template_of(stack), "AWS::SageMaker::EndpointConfig")
    assert config["ExecutionRoleArn"] == ROLE_ARN
    assert endpoint.role_is_prepared is True


# --- image architecture against every endpoint kind's instance type -----------------------------

def test_async_endpoint_checks_the_image_architecture(env, stack):
    with pytest.raises(ValidationError, match="arm64 \\(Graviton\\) instance type"):
        AsyncEndpoint(stack, "Async", model=env.model(), instance_type="ml.c7g.xlarge", output_bucket=env.bucket,
                      encryption_key=env.key)


def test_inference_component_checks_the_image_architecture(env, stack):
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.c7g.xlarge", max_instance_count=2,
                                          encryption_key=env.key)
    with pytest.raises(ValidationError, match="endpoint instance_type.*arm64 \\(Graviton\\)"):
        endpoint.add_component("C", model=env.model())
    arm = Model(stack, "Arm", image=ContainerImage.from_uri(IMAGE, architecture="arm64"), encryption_key=env.key,
                model_data=ModelData.from_bucket(env.bucket, "arm/model.tar.gz"))
    assert endpoint.add_component("A", model=arm) is not None


# --- autoscaling: only burstable types are refused ----------------------------------------------

@pytest.mark.parametrize("instance_type", ["ml.trn1.2xlarge", "ml.trn2.48xlarge"])
def test_async_endpoint_takes_trainium_types(env, stack, instance_type):
    endpoint = AsyncEndpoint(stack, "Async", model=env.model(), instance_type=instance_type,
                             output_bucket=env.bucket, encryption_key=env.key)
    variant = only(template_of(stack), "AWS::SageMaker::EndpointConfig")["ProductionVariants"][0]
    assert variant["InstanceType"] == instance_type == endpoint.instance_type


def test_async_endpoint_refuses_burstable_types(env, stack):
    with pytest.raises(ValidationError, match="burstable"):
        AsyncEndpoint(stack, "Async", model=env.model(), instance_type="ml.t2.medium", output_bucket=env.bucket,
                      encryption_key=env.key)


# --- models described by attributes, and model packages -----------------------------------------

def test_imported_model_with_a_prepared_immutable_role_serves_async(env, stack):
    role = iam.Role.from_role_arn(stack, "Locked", ROLE_ARN, mutable=False)
    with pytest.raises(ValidationError, match="role_is_prepared=True"):
        AsyncEndpoint(stack, "Refused", model=Model.from_model_attributes(stack, "M1", model_name="churn", role=role),
                      instance_type="ml.m5.large", output_bucket=env.bucket, encryption_key=env.key)
    model = Model.from_model_attributes(stack, "M2", model_name="churn", role=role, role_is_prepared=True)
    assert model.role_is_prepared is True
    AsyncEndpoint(stack, "Async", model=model, instance_type="ml.m5.large", output_bucket=env.bucket,
                  encryption_key=env.key)
    variant = only(template_of(stack), "AWS::SageMaker::EndpointConfig")["ProductionVariants"][0]
    assert variant["ModelName"] == "churn"


def test_model_package_marked_arm64_serves_on_graviton(env, stack):
    with pytest.raises(ValidationError, match="not marked arm64"):
        RealtimeEndpoint(stack, "E1", instance_type="ml.c7g.large",
                         model=Model.from_model_package(stack, "P1", model_package=PACKAGE_ARN, encryption_key=env.key))
    model = Model.from_model_package(stack, "P2", model_package=PACKAGE_ARN, encryption_key=env.key,
                                     architecture="arm64")
    assert model.architecture == "arm64"
    RealtimeEndpoint(stack, "E2", instance_type="ml.c7g.large", model=model)
    with pytest.raises(ValidationError, match="arm64-only"):
        RealtimeEndpoint(stack, "E3", instance_type="ml.m5.large", model=model)


def test_model_package_architecture_must_be_known(env, stack):
    with pytest.raises(ValidationError, match="architecture"):
        Model.from_model_package(stack, "P", model_package=PACKAGE_ARN, architecture="aarch64")


def test_serverless_endpoint_serves_a_model_described_by_attributes(stack):
    role = iam.Role.from_role_arn(stack, "Role", ROLE_ARN)
    model = Model.from_model_attributes(stack, "M", model_name="churn", role=role, network_isolation=False)
    ServerlessEndpoint(stack, "S", model=model)
    variant = only(template_of(stack), "AWS::SageMaker::EndpointConfig")["ProductionVariants"][0]
    assert variant["ModelName"] == "churn" and "ServerlessConfig" in variant


def test_serverless_endpoint_refuses_an_imported_model_in_a_vpc_or_isolated(stack):
    from aws_cdk import aws_ec2 as ec2

    role = iam.Role.from_role_arn(stack, "Role", ROLE_ARN)
    subnet = ec2.Subnet.from_subnet_attributes(stack, "Sub", subnet_id="subnet-1", availability_zone="us-east-1a")
    group = ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-1")
    in_vpc = Model.from_model_attributes(stack, "V", model_name="a", role=role, network_isolation=False,
                                         subnets=[subnet], security_groups=[group])
    with pytest.raises(ValidationError, match="does not support a VPC"):
        ServerlessEndpoint(stack, "S1", model=in_vpc)
    isolated = Model.from_model_attributes(stack, "I", model_name="b", role=role)
    with pytest.raises(ValidationError, match="does not support network isolation"):
        ServerlessEndpoint(stack, "S2", model=isolated)


# --- multi-model endpoints: CPU types and single-GPU types only ---------------------------------

@pytest.mark.parametrize("instance_type", ["ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.inf2.xlarge", "ml.trn1.2xlarge"])
def test_multi_model_endpoint_refuses_types_that_cannot_host_it(env, stack, instance_type):
    with pytest.raises(ValidationError, match="multi-model-support.html"):
        MultiModelEndpoint(stack, "MM", image=ContainerImage.from_uri(IMAGE), encryption_key=env.key,
                           model_data_prefix=ModelData.from_bucket(env.bucket, "models/"), instance_type=instance_type)


@pytest.mark.parametrize("instance_type", ["ml.m5.large", "ml.g5.xlarge", "ml.g4dn.2xlarge"])
def test_multi_model_endpoint_takes_cpu_and_single_gpu_types(env, stack, instance_type):
    MultiModelEndpoint(stack, "MM", image=ContainerImage.from_uri(IMAGE), encryption_key=env.key,
                       model_data_prefix=ModelData.from_bucket(env.bucket, "models/"), instance_type=instance_type)
    variant = only(template_of(stack), "AWS::SageMaker::EndpointConfig")["ProductionVariants"][0]
    assert variant["InstanceType"] == instance_type


def test_a_multi_model_variant_refuses_a_multi_gpu_type(env, stack):
    endpoint = env.realtime()
    multi = Model(stack, "Multi", image=ContainerImage.from_uri(IMAGE), encryption_key=env.key, multi_model=True,
                  model_data=ModelData.from_bucket(env.bucket, "models/"))
    with pytest.raises(ValidationError, match="add_variant instance_type.*multi-model endpoint"):
        endpoint.add_variant("Gpu", model=multi, instance_type="ml.g5.12xlarge", instance_count=1)


# --- shadow variants: what SageMaker cannot shadow-test -----------------------------------------

def test_shadow_variant_refuses_inf1_instances(env, stack):
    from sagemaker_constructs import ShadowVariant

    with pytest.raises(ValidationError, match="shadow instance_type.*Inf1.*shadow-tests-exclusions"):
        RealtimeEndpoint(stack, "E", model=env.model(), instance_type="ml.m5.large",
                         shadow=ShadowVariant(model=env.model("Candidate"), instance_type="ml.inf1.xlarge"))
    with pytest.raises(ValidationError, match="instance_type.*Inf1"):
        RealtimeEndpoint(stack, "E2", model=env.model("M2"), instance_type="ml.inf1.xlarge",
                         shadow=ShadowVariant(model=env.model("Candidate2"), instance_type="ml.m5.large"))


def test_shadow_variant_refuses_multi_model_models(env, stack):
    from sagemaker_constructs import ShadowVariant

    multi = Model(stack, "Multi", image=ContainerImage.from_uri(IMAGE), encryption_key=env.key, multi_model=True,
                  model_data=ModelData.from_bucket(env.bucket, "models/"))
    with pytest.raises(ValidationError, match="multi-model endpoints"):
        RealtimeEndpoint(stack, "E", model=env.model(), instance_type="ml.m5.large",
                         shadow=ShadowVariant(model=multi, instance_type="ml.m5.large"))
    assert not hasattr(MultiModelEndpoint, "add_shadow_variant")  # a multi-model endpoint offers none


_NOT_FINITE = [
    ("variant_weight", lambda env, w: env.realtime(variant_weight=w)),
    ("weight", lambda env, w: env.realtime().add_variant("B", model=env.model("B"), instance_type="ml.m5.large", weight=w)),
    ("target_invocations_per_instance", lambda env, w: env.realtime(max_instance_count=3,
                                                                     target_invocations_per_instance=w)),
    ("target_backlog_per_instance", lambda env, w: AsyncEndpoint(
        env.stack, "Async", model=env.model(), instance_type="ml.m5.large", output_bucket=env.bucket,
        encryption_key=env.key, target_backlog_per_instance=w)),
    ("target_value", lambda env, w: InferenceComponentEndpoint(
        env.stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2).add_component("C", model=env.model(),
                                                                                           target_value=w)),
    ("number_of_cpu_cores_required", lambda env, w: InferenceComponentEndpoint(
        env.stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2).add_component(
            "C", model=env.model(), number_of_cpu_cores_required=w)),
]


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
@pytest.mark.parametrize("argument, build", _NOT_FINITE, ids=[a for a, _ in _NOT_FINITE])
def test_a_number_without_a_json_form_is_a_validation_error(env, argument, build, value):
    """inf/nan weights and scaling targets reached jsii, whose kernel could not parse them (the synth
    died with a raw JSONDecodeError, or OverflowError for CPU cores)."""
    with pytest.raises(ValidationError, match=f"{argument}.*a finite number"):
        build(env, value)

"""Model roles get the EC2 network-interface calls exactly when their model runs in a VPC, and the
changes that keep synth fast (a held policy, names worked out in Python, one shared service-linked
role) leave what users pass and get as it was (issue 11 review)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Names
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (ContainerImage, InferenceComponentEndpoint, IsolatedNetwork, Model, ModelData,
                                  ModelHostingRole, PlatformKey, RealtimeEndpoint, SecureBucket, ValidationError)
from tests.conftest import new_app, new_stack

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:1"


def _env(stack):
    key = PlatformKey(stack, "Key")
    return key, SecureBucket(stack, "Data", encryption_key=key)


def _model(stack, key, bucket, id="M", **kw):
    return Model(stack, id, image=ContainerImage.from_uri(IMAGE), encryption_key=key,
                 model_data=ModelData.from_bucket(bucket, "iris/model.tar.gz"), **kw)


def _eni(doc):
    return any("ec2:CreateNetworkInterface" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
               for s in doc["Statement"])


def _ic_in_vpc(stack, key):
    net = IsolatedNetwork(stack, "Net", encryption_key=key, endpoints="inference")
    return InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                      encryption_key=key, vpc=net.vpc), net


def _add(endpoint, model):
    return endpoint.add_component("C", model=model, copies=1, number_of_cpu_cores_required=1,
                                  min_memory_required_in_mb=1024)


@pytest.mark.parametrize("id", ["team/iris", "team\niris", "plain"])
def test_default_endpoint_names_are_cdks_for_ids_the_constructs_library_sanitizes(id):
    stack = new_stack()
    key, bucket = _env(stack)
    endpoint = RealtimeEndpoint(stack, id, model=_model(stack, key, bucket), instance_type="ml.m5.large")
    assert endpoint.endpoint_name == Names.unique_resource_name(endpoint, max_length=63, separator="-")


def test_a_supplied_role_of_a_model_outside_any_vpc_gets_the_calls_on_a_component_endpoint_in_a_vpc():
    stack = new_stack()
    key, bucket = _env(stack)
    mine = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = _model(stack, key, bucket, role=mine)
    assert not _eni(stack.resolve(mine.node.find_child("DefaultPolicy").document))
    endpoint, _ = _ic_in_vpc(stack, key)
    _add(endpoint, model)
    assert _eni(stack.resolve(mine.node.find_child("DefaultPolicy").document))


def test_an_immutable_supplied_role_on_a_component_endpoint_in_a_vpc_is_refused_unless_prepared():
    """A role CDK cannot change: the network-interface calls are the caller's to grant. A prepared
    role (role_is_prepared=True on its Model) passes; otherwise the endpoint refuses it, naming them."""
    for prepared in (True, False):
        stack = new_stack()
        key, bucket = _env(stack)
        theirs = iam.Role.from_role_arn(stack, "Theirs", "arn:aws:iam::123456789012:role/theirs", mutable=False)
        model = _model(stack, key, bucket, role=theirs, role_is_prepared=True)  # its artifact grants: theirs
        model.role_is_prepared = prepared
        endpoint, _ = _ic_in_vpc(stack, key)
        if prepared:
            _add(endpoint, model)
        else:
            with pytest.raises(ValidationError, match="ec2:CreateNetworkInterface"):
                _add(endpoint, model)


def test_a_model_role_reused_by_a_model_imported_with_subnets_gets_the_calls():
    stack = new_stack()
    key, bucket = _env(stack)
    model = _model(stack, key, bucket)
    assert not _eni(stack.resolve(model.role.policy.document))
    net = IsolatedNetwork(stack, "Net", encryption_key=key, endpoints="inference")
    group = ec2.SecurityGroup(stack, "SG", vpc=net.vpc)
    imported = Model.from_model_attributes(stack, "Imp", model_name="m", role=model.role,
                                           subnets=net.vpc.isolated_subnets[:2], security_groups=[group])
    assert imported.vpc_config is not None  # deploy-on-approval creates models with it and this role
    assert _eni(stack.resolve(model.role.policy.document))


def test_a_role_made_without_the_calls_on_purpose_is_refused_in_a_vpc():
    stack = new_stack()
    key, bucket = _env(stack)
    chosen = ModelHostingRole(stack, "Chosen", encryption_key=key, network_interfaces=False)
    model = _model(stack, key, bucket, role=chosen)
    endpoint, _ = _ic_in_vpc(stack, key)
    with pytest.raises(ValidationError, match="network_interfaces=False"):
        _add(endpoint, model)


def test_the_shared_service_linked_role_does_not_take_an_id_an_app_would_use():
    stack = new_stack()
    key, bucket = _env(stack)
    iam.Role.from_role_arn(stack, "SageMakerAutoScalingServiceLinkedRole", "arn:aws:iam::123456789012:role/x")
    iam.Role.from_role_arn(stack, "AutoScalingServiceLinkedRole", "arn:aws:iam::123456789012:role/y")
    RealtimeEndpoint(stack, "E", model=_model(stack, key, bucket), instance_type="ml.m5.large", max_instance_count=2)
    RealtimeEndpoint(stack, "E2", model=_model(stack, key, bucket, id="M2"), instance_type="ml.m5.large",
                     max_instance_count=2)
    shared = [c for c in stack.node.children if "AutoScalingServiceLinkedRole" in c.node.id
              and c.node.id.startswith("sagemaker-constructs")]
    assert len(shared) == 1  # one import for both endpoints


def test_a_held_role_gets_its_policy_even_when_the_model_constructor_fails(monkeypatch):
    app = new_app()
    stack = cdk.Stack(app, "S")
    key, bucket = _env(stack)
    data = ModelData.from_bucket(bucket, "iris/model.tar.gz")

    def fail(self, scope, grantee):
        raise ValidationError(scope, "model_data", "x", "simulated")

    monkeypatch.setattr(type(data), "bind", fail)
    with pytest.raises(ValidationError):
        Model(stack, "M", image=ContainerImage.from_uri(IMAGE), encryption_key=key, model_data=data)
    template = app.synth().get_stack_by_name("S").template
    assert any(r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("MRole") for k, r in template["Resources"].items())


def test_the_hold_is_per_thread():
    import threading

    from sagemaker_constructs.security.roles import held_policy

    stack = new_stack()
    key = PlatformKey(stack, "Key")
    made = {}

    def other_thread():
        made["role"] = ModelHostingRole(stack, "Elsewhere", encryption_key=key)

    with held_policy():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert "_policy" in vars(made["role"])  # not held: written by its constructor


def test_a_supplied_role_gets_the_calls_once_for_two_components():
    stack = new_stack()
    key, bucket = _env(stack)
    mine = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = _model(stack, key, bucket, role=mine)
    endpoint, _ = _ic_in_vpc(stack, key)
    _add(endpoint, model)
    endpoint.add_component("D", model=model, copies=1, number_of_cpu_cores_required=1, min_memory_required_in_mb=1024)
    statements = stack.resolve(mine.node.find_child("DefaultPolicy").document)["Statement"]
    assert sum(_eni({"Statement": [s]}) for s in statements) == 1

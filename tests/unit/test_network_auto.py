"""IsolatedNetwork(endpoints="auto"): interface endpoints derived from the app's features at synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from sagemaker_constructs import (
    ContainerImage,
    EndpointInvoker,
    IsolatedNetwork,
    Model,
    ModelData,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    StudioDomain,
    ValidationError,
)
from sagemaker_constructs.network import FEATURE_ENDPOINTS, require_interface_endpoints
from tests.harness.templates import resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _services(template) -> set[str]:
    names = set()
    for resource in resources(template, "AWS::EC2::VPCEndpoint").values():
        props = resource["Properties"]
        if props.get("VpcEndpointType") == "Interface":
            names.add(props["ServiceName"]["Fn::Join"][1][-1].lstrip("."))
    return names


def _metadata(template) -> dict:
    (vpc,) = resources(template, "AWS::EC2::VPC").values()
    return vpc.get("Metadata", {}).get("sagemaker-constructs:interface-endpoints")


@pytest.fixture
def apps():
    app = cdk.App()
    platform, inference = cdk.Stack(app, "Platform"), cdk.Stack(app, "Inference")
    key = PlatformKey(platform, "Key")
    network = IsolatedNetwork(platform, "Network", encryption_key=key, endpoints="auto")
    data = SecureBucket(platform, "Data", encryption_key=key)
    return app, platform, inference, key, network, data


def test_auto_with_nothing_in_the_network_creates_no_interface_endpoint(apps):
    _, platform, _, _, _, _ = apps
    t = template_of(platform)
    assert _services(t) == set()
    assert _metadata(t) == {}
    assert len(resources(t, "AWS::EC2::VPCEndpoint")) == 1  # the S3 gateway stays


def test_studio_domain_needs_the_sagemaker_api_runtime_and_sts(apps):
    _, platform, _, key, network, data = apps
    StudioDomain(platform, "Studio", vpc=network.vpc, encryption_key=key, data_buckets=[data],
                 endpoint_security_group=network.endpoint_security_group)
    t = template_of(platform)
    assert _services(t) == {"sagemaker.api", "sagemaker.runtime", "sts"} == set(FEATURE_ENDPOINTS["StudioDomain"])
    assert _metadata(t)["sts"] == ["StudioDomain Platform/Studio"]
    assert set(network.interface_endpoints) == {"sagemaker.api", "sagemaker.runtime", "sts"}


def test_consumers_in_another_stack_count(apps):
    _, platform, inference, key, network, data = apps
    model = Model(inference, "Model", image=ContainerImage.from_uri(IMAGE), vpc=network.vpc, encryption_key=key,
                  model_data=ModelData.from_bucket(data, "m/model.tar.gz"))
    endpoint = RealtimeEndpoint(inference, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key)
    EndpointInvoker(inference, "Invoker", endpoint=endpoint, vpc=network.vpc, encryption_key=key,
                    endpoint_security_group=network.endpoint_security_group)
    t = template_of(platform)
    # the network-isolated model needs none; the invoker calls InvokeEndpoint only
    assert _services(t) == {"sagemaker.runtime"}
    assert _metadata(t) == {"sagemaker.runtime": ["EndpointInvoker Inference/Invoker"]}


def test_a_model_without_network_isolation_gets_the_minimal_set(apps):
    _, platform, inference, key, network, data = apps
    Model(inference, "Model", image=ContainerImage.from_uri(IMAGE), vpc=network.vpc, encryption_key=key,
          network_isolation=False, model_data=ModelData.from_bucket(data, "m/model.tar.gz"))
    assert _services(template_of(platform)) == set(FEATURE_ENDPOINTS["Model without network isolation"])


def test_require_adds_endpoints_in_auto_and_preset_modes(apps):
    _, platform, inference, _, network, _ = apps
    network.require("kms", reason="our own function decrypts with KMS")
    require_interface_endpoints(network.vpc, "sagemaker.featurestore-runtime", reason="online feature reads")
    t = template_of(platform)
    assert _services(t) == {"kms", "sagemaker.featurestore-runtime"}
    assert _metadata(t)["kms"] == ["our own function decrypts with KMS"]

    app2 = cdk.App()
    stack = cdk.Stack(app2, "S")
    preset = IsolatedNetwork(stack, "Network", endpoints="minimal")
    preset.require("ecr.api", "ecr.dkr", reason="custom images")
    assert _services(template_of(stack)) == {"sagemaker.api", "sagemaker.runtime", "sts", "logs", "kms",
                                             "ecr.api", "ecr.dkr"}


def test_auto_keeps_the_logical_ids_of_the_preset_endpoints():
    def ids(endpoints, add_studio):
        app = cdk.App()
        stack = cdk.Stack(app, "S")
        key = PlatformKey(stack, "Key")
        network = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints=endpoints)
        if add_studio:
            StudioDomain(stack, "Studio", vpc=network.vpc, encryption_key=key,
                         endpoint_security_group=network.endpoint_security_group)
        return {k for k, v in resources(template_of(stack), "AWS::EC2::VPCEndpoint").items()
                if v["Properties"].get("VpcEndpointType") == "Interface"}

    assert ids("auto", True) <= ids("all", False)
    assert len(ids("auto", True)) == 3


def test_an_unknown_function_in_the_network_gets_a_warning(apps):
    _, platform, inference, _, network, _ = apps
    lambda_.Function(inference, "Own", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
                     code=lambda_.Code.from_inline("def handler(e, c): pass"), vpc=network.vpc)
    cdk.assertions.Template.from_stack(platform)  # synthesizes the app
    warnings = cdk.assertions.Annotations.from_stack(inference).find_warning("*", cdk.assertions.Match.string_like_regexp(
        "network.require"))
    assert warnings
    assert _services(template_of(platform)) == set()


@pytest.mark.parametrize("services", [("kms", "s3"), ("sagemaker.everything",)])
def test_require_refuses_unknown_services(apps, services):
    _, _, _, _, network, _ = apps
    with pytest.raises(ValidationError, match="endpoints.*allowed service names"):
        network.require(*services, reason="x")


def test_unknown_preset_names_auto_in_the_message():
    app = cdk.App()
    with pytest.raises(ValidationError, match="endpoints.*'auto'"):
        IsolatedNetwork(cdk.Stack(app, "S"), "Network", endpoints="automatic")

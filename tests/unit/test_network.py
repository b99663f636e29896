"""IsolatedNetwork: no internet path, endpoints, flow logs, validation."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2

from sagemaker_constructs import ENDPOINT_PRESETS, ENDPOINT_SERVICES, IsolatedNetwork, PlatformKey, ValidationError
from sagemaker_constructs.network import ON_REQUEST_ONLY
from tests.harness.templates import only, resources, template_of

REQUIRED_FOR_SAGEMAKER = {
    "sagemaker.api", "sagemaker.runtime", "sagemaker.studio", "sagemaker.notebook", "sts", "logs", "monitoring",
    "ecr.api", "ecr.dkr", "kms",
}


@pytest.fixture
def network_template(stack):
    net = IsolatedNetwork(stack, "Network")
    return net, template_of(stack)


def test_exposes_an_ivpc(network_template):
    net, _ = network_template
    assert isinstance(net.vpc, ec2.Vpc)
    assert len(net.isolated_subnets.subnet_ids) == 2


def test_no_internet_path(network_template):
    _, t = network_template
    for type_ in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::VPCGatewayAttachment",
                  "AWS::EC2::EIP", "AWS::EC2::EgressOnlyInternetGateway"):
        assert resources(t, type_) == {}, type_
    subnets = resources(t, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert {s["Properties"]["MapPublicIpOnLaunch"] for s in subnets.values()} == {False}
    for route in resources(t, "AWS::EC2::Route").values():
        assert route["Properties"].get("DestinationCidrBlock") != "0.0.0.0/0"


def test_subnets_span_two_azs(network_template):
    _, t = network_template
    azs = [s["Properties"]["AvailabilityZone"] for s in resources(t, "AWS::EC2::Subnet").values()]
    assert len({str(a) for a in azs}) == 2


def test_default_security_group_is_closed(network_template):
    _, t = network_template
    assert len(resources(t, "Custom::VpcRestrictDefaultSG")) == 1


def test_flow_logs_to_encrypted_log_group(network_template):
    _, t = network_template
    flow = only(t, "AWS::EC2::FlowLog")
    assert flow["TrafficType"] == "ALL"
    assert flow["LogDestinationType"] == "cloud-watch-logs"
    group = only(t, "AWS::Logs::LogGroup")
    assert "Fn::GetAtt" in group["KmsKeyId"]
    assert group["RetentionInDays"] == 365
    (res,) = resources(t, "AWS::Logs::LogGroup").values()
    assert res["DeletionPolicy"] == "Retain"


def test_default_endpoints_cover_sagemaker_and_s3_gateway(network_template):
    net, t = network_template
    assert REQUIRED_FOR_SAGEMAKER <= set(net.interface_endpoints)
    endpoints = resources(t, "AWS::EC2::VPCEndpoint").values()
    gateway = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(gateway) == 1 and "s3" in str(gateway[0]["Properties"]["ServiceName"])
    # "all" (the default): every service but those created only on request (Canvas's Redshift source).
    assert ON_REQUEST_ONLY == ("redshift-data",)
    assert len(interface) == len(ENDPOINT_SERVICES) - len(ON_REQUEST_ONLY)
    assert "redshift-data" not in net.interface_endpoints
    assert all(e["Properties"]["PrivateDnsEnabled"] is True for e in interface)


def test_endpoint_security_group_admits_only_https_from_the_vpc(network_template):
    net, t = network_template
    sg_id = next(k for k in resources(t, "AWS::EC2::SecurityGroup") if "EndpointSecurityGroup" in k)
    sg = resources(t, "AWS::EC2::SecurityGroup")[sg_id]["Properties"]
    assert sg["SecurityGroupIngress"] == [
        {"CidrIp": "10.0.0.0/16", "Description": "HTTPS from the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    # allow_all_outbound=False: CDK's placeholder egress rule that matches no traffic.
    assert sg["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"
    for e in resources(t, "AWS::EC2::VPCEndpoint").values():
        if e["Properties"].get("VpcEndpointType") == "Interface":
            assert e["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [sg_id, "GroupId"]}]


def test_nothing_open_to_the_world(network_template):
    _, t = network_template
    for sg in resources(t, "AWS::EC2::SecurityGroup").values():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"
    assert resources(t, "AWS::EC2::SecurityGroupIngress") == {}


@pytest.mark.parametrize("preset", sorted(ENDPOINT_PRESETS))
def test_presets_create_exactly_their_endpoints(stack, preset):
    IsolatedNetwork(stack, "Network", endpoints=preset)
    t = template_of(stack)
    interface = [e for e in resources(t, "AWS::EC2::VPCEndpoint").values()
                 if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == len(ENDPOINT_PRESETS[preset])


def test_explicit_service_list(stack):
    net = IsolatedNetwork(stack, "Network", endpoints=["sagemaker.runtime", "kms"])
    assert sorted(net.interface_endpoints) == ["kms", "sagemaker.runtime"]


def test_uses_given_key_for_flow_logs(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key)
    assert net.encryption_key is key
    assert len(resources(template_of(stack), "AWS::KMS::Key")) == 1


def test_three_azs_in_an_environment(stack):
    import aws_cdk as cdk

    from tests.conftest import new_app

    app = new_app(context={"availability-zones:account=111122223333:region=us-east-1": ["us-east-1a", "us-east-1b", "us-east-1c"]})
    st = cdk.Stack(app, "Env", env=cdk.Environment(account="111122223333", region="us-east-1"))
    IsolatedNetwork(st, "Network", max_azs=3)
    assert len(resources(template_of(st), "AWS::EC2::Subnet")) == 3


@pytest.mark.parametrize("azs", [0, 1])
def test_rejects_fewer_than_two_azs(stack, azs):
    with pytest.raises(ValidationError, match="max_azs"):
        IsolatedNetwork(stack, "Network", max_azs=azs)


def test_rejects_unknown_preset(stack):
    with pytest.raises(ValidationError, match="allowed presets"):
        IsolatedNetwork(stack, "Network", endpoints="everything")


def test_rejects_unknown_service_name(stack):
    with pytest.raises(ValidationError, match="sagemaker.bogus"):
        IsolatedNetwork(stack, "Network", endpoints=["sagemaker.api", "sagemaker.bogus"])


@pytest.mark.parametrize("cidr", ["8.8.0.0/16", "100.64.0.0/16", "172.32.0.0/16", "fd00::/64"])
def test_rejects_cidr_outside_private_ranges(stack, cidr):
    with pytest.raises(ValidationError, match="cidr"):
        IsolatedNetwork(stack, "Network", cidr=cidr)


@pytest.mark.parametrize("cidr", ["10.0.0.1/16", "not-a-cidr", "10.0.0.0/33"])
def test_rejects_malformed_cidr(stack, cidr):
    with pytest.raises(ValidationError, match="cidr"):
        IsolatedNetwork(stack, "Network", cidr=cidr)


def test_rejects_cidr_too_small_for_the_subnets(stack):
    with pytest.raises(ValidationError, match="too small"):
        IsolatedNetwork(stack, "Network", cidr="10.0.0.0/20", subnet_cidr_mask=20)


def test_rejects_vpc_larger_than_slash_16(stack):
    with pytest.raises(ValidationError, match="/16 and /28"):
        IsolatedNetwork(stack, "Network", cidr="10.0.0.0/8")


@pytest.mark.parametrize("mask", [15, 29])
def test_rejects_subnet_mask_out_of_range(stack, mask):
    with pytest.raises(ValidationError, match="subnet_cidr_mask"):
        IsolatedNetwork(stack, "Network", subnet_cidr_mask=mask)


@pytest.mark.parametrize("argument, kind", [("max_azs", "Number"), ("subnet_cidr_mask", "Number"), ("cidr", "String")])
def test_layout_settings_from_a_parameter_are_refused_clearly(stack, argument, kind):
    """max_azs as a parameter failed in jsii ("no 'Isolated' subnet groups"), subnet_cidr_mask's and
    cidr's refusals quoted the Token's encoding: CDK lays the subnets out at synth."""
    from aws_cdk import CfnParameter

    parameter = CfnParameter(stack, "Value", type=kind)
    value = parameter.value_as_number if kind == "Number" else parameter.value_as_string
    with pytest.raises(ValidationError, match=f"invalid {argument}='a Token.*known at synth"):
        IsolatedNetwork(stack, "Network", **{argument: value})


def test_vpc_name_longer_than_an_ec2_tag_value_is_refused(stack):
    with pytest.raises(ValidationError, match="vpc_name"):
        IsolatedNetwork(stack, "Network", vpc_name="n" * 257)
    IsolatedNetwork(stack, "Fits", vpc_name="n" * 256)

"""Security group and network changes: ingress and egress rules, VPC endpoints, gateways, routes."""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass
from .jsondiff import deployable, is_intrinsic, render

_WORLD = ("0.0.0.0/0", "::/0")
_PEERS = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId",
          "DestinationPrefixListId", "SourceSecurityGroupName")
_RULE_TYPES = {"AWS::EC2::SecurityGroupIngress": "ingress", "AWS::EC2::SecurityGroupEgress": "egress"}
#: Network resources reported when added or removed, with the properties that describe them.
NETWORK_TYPES: dict[str, tuple[str, ...]] = {
    "AWS::EC2::VPCEndpoint": ("ServiceName", "VpcEndpointType"),
    "AWS::EC2::InternetGateway": (),
    "AWS::EC2::EgressOnlyInternetGateway": ("VpcId",),
    "AWS::EC2::NatGateway": ("SubnetId", "ConnectivityType"),
    "AWS::EC2::VPCPeeringConnection": ("VpcId", "PeerVpcId"),
    "AWS::EC2::TransitGatewayAttachment": ("TransitGatewayId", "VpcId"),
    "AWS::EC2::Route": ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "GatewayId", "NatGatewayId",
                        "TransitGatewayId", "VpcPeeringConnectionId"),
    "AWS::EC2::NetworkAclEntry": ("RuleNumber", "RuleAction", "Egress", "CidrBlock", "Protocol"),
    "AWS::EC2::Subnet": ("CidrBlock", "MapPublicIpOnLaunch"),
    "AWS::EC2::VPC": ("CidrBlock",),
}

#: Settings that decide what a resource can reach, reported when they change on a resource that
#: stays: ``{type: {property: values that open it to the internet}}``. SageMaker's: a domain's
#: ``AppNetworkAccessType`` (``PublicInternetOnly`` gives Studio apps SageMaker's internet access),
#: a notebook instance's ``DirectInternetAccess``, a model's or job's network isolation and VPC
#: (``AppNetworkAccessType`` in https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateDomain.html,
#: ``DirectInternetAccess`` in https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateNotebookInstance.html,
#: ``EnableNetworkIsolation`` in https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html).
NETWORK_SETTINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "AWS::SageMaker::Domain": {"AppNetworkAccessType": ("PublicInternetOnly",), "VpcId": (), "SubnetIds": ()},
    "AWS::SageMaker::NotebookInstance": {"DirectInternetAccess": ("Enabled",), "SubnetId": ()},
    "AWS::SageMaker::Model": {"EnableNetworkIsolation": ("false", "(not set)"), "VpcConfig": ("(not set)",)},
    "AWS::SageMaker::DataQualityJobDefinition": {"NetworkConfig": ()},
    "AWS::SageMaker::ModelQualityJobDefinition": {"NetworkConfig": ()},
    "AWS::SageMaker::ModelBiasJobDefinition": {"NetworkConfig": ()},
    "AWS::SageMaker::ModelExplainabilityJobDefinition": {"NetworkConfig": ()},
    "AWS::Lambda::Function": {"VpcConfig": ("(not set)",)},
    "AWS::EC2::Subnet": {"MapPublicIpOnLaunch": ("true",)},
    "AWS::EC2::VPCEndpoint": {"SubnetIds": (), "SecurityGroupIds": (), "PrivateDnsEnabled": ()},
}
_NOT_SET = "(not set)"


@dataclass(frozen=True)
class NetworkChange:
    """One network change. ``kind``: ``ingress added``, ``egress removed``, ``added``, ``removed``;
    ``open_to_world`` when a rule added is open to 0.0.0.0/0 or ::/0."""

    stack: str
    logical_id: str
    resource_type: str
    path: str
    kind: str
    detail: str
    open_to_world: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ports(rule: dict[str, Any]) -> str:
    proto = render(rule.get("IpProtocol", "-1"))
    if proto in ("-1", "all"):
        return "all traffic"
    lo, hi = rule.get("FromPort"), rule.get("ToPort")
    if lo is None and hi is None:
        return proto
    lo, hi = render(lo), render(hi if hi is not None else lo)
    return f"{proto} {lo}" if lo == hi else f"{proto} {lo}-{hi}"


def describe_rule(rule: dict[str, Any], direction: str) -> tuple[str, bool]:
    """``("tcp 443 from 10.0.0.0/16", open to world)``."""
    peers = [f"{render(rule[k])}" if k.startswith("Cidr") else f"{k.replace('Source', '').replace('Destination', '')} "
             f"{render(rule[k])}" for k in _PEERS if k in rule]
    word = "from" if direction == "ingress" else "to"
    text = f"{_ports(rule)} {word} {', '.join(peers) or '(no peer)'}"
    return text, any(render(rule.get(k)) in _WORLD for k in ("CidrIp", "CidrIpv6"))


def _rule_variants(props: dict[str, Any]) -> list[dict[str, Any]]:
    """A standalone rule's properties as each branch of its ``Fn::If`` peers would deploy them
    (``CidrIp: Fn::If [Open, 0.0.0.0/0, 10.0.0.0/16]`` is two rules that may be deployed)."""
    variants: list[dict[str, Any]] = [{}]
    for key, value in props.items():
        options = deployable(value) if key in _PEERS or key in ("FromPort", "ToPort", "IpProtocol") else [value]
        variants = [{**v, key: o} for v in variants for o in options] if options else variants
    return variants


def _rules(resource: dict[str, Any] | None) -> dict[tuple[str, str], bool]:
    """``{(direction, rule text): open to world}`` of a security group's inline rules, or of a
    standalone ingress/egress resource (its group named in the text)."""
    if not resource:
        return {}
    props = resource.get("Properties") or {}
    kind = resource.get("Type")
    found = {}
    if kind == "AWS::EC2::SecurityGroup":
        for prop, direction in (("SecurityGroupIngress", "ingress"), ("SecurityGroupEgress", "egress")):
            for rule in deployable(props.get(prop)):  # a rule under Fn::If: each branch may be deployed
                if isinstance(rule, dict) and not is_intrinsic(rule):
                    for variant in _rule_variants(rule):
                        text, world = describe_rule(variant, direction)
                        found[(direction, text)] = world
    elif kind in _RULE_TYPES:
        direction = _RULE_TYPES[kind]
        group = render(props.get('GroupId', props.get('GroupName')))
        for rule in _rule_variants(props):
            text, world = describe_rule(rule, direction)
            found[(direction, f"{text} (group {group})")] = world
    return found


def _describe(resource: dict[str, Any]) -> str:
    props = resource.get("Properties") or {}
    fields = NETWORK_TYPES.get(resource.get("Type", ""), ())
    return ", ".join(f"{k} {render(props[k])}" for k in fields if k in props)


def diff_resource(stack: str, logical_id: str, path: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[NetworkChange]:
    resource_type = (new or old or {}).get("Type", "")
    out = []
    before, after = _rules(old), _rules(new)
    for (direction, text), world in after.items():
        if (direction, text) not in before:
            out.append(NetworkChange(stack, logical_id, resource_type, path, f"{direction} added", text, world))
    for (direction, text), _ in before.items():
        if (direction, text) not in after:
            out.append(NetworkChange(stack, logical_id, resource_type, path, f"{direction} removed", text))
    if resource_type in NETWORK_TYPES and (old is None) != (new is None):
        present = new or old
        assert present is not None  # exactly one of old and new is None here
        out.append(NetworkChange(stack, logical_id, resource_type, path, "added" if new else "removed",
                                 _describe(present)))
    elif resource_type in NETWORK_TYPES and old and new and _describe(old) != _describe(new):
        out.append(NetworkChange(stack, logical_id, resource_type, path, "changed",
                                 f"{_describe(old)} -> {_describe(new)}"))
    if old and new:
        before_props, after_props = old.get("Properties") or {}, new.get("Properties") or {}
        for prop, opening in NETWORK_SETTINGS.get(resource_type, {}).items():
            was = render(before_props[prop]) if prop in before_props else _NOT_SET
            now = render(after_props[prop]) if prop in after_props else _NOT_SET
            if was != now:
                out.append(NetworkChange(stack, logical_id, resource_type, path, "changed", f"{prop}: {was} -> {now}",
                                         open_to_world=now in opening and was not in opening))
    return out

"""A private network for SageMaker: isolated subnets, VPC endpoints, flow logs, no internet path."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .compliance import INLINE_SERVICE_POLICY_REASON, acknowledge, across_packs
from .security.key import PlatformKey
from .errors import ValidationError, check_int_range

_PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class EndpointService:
    """An interface VPC endpoint the network can create: our short name and the CDK service."""

    name: str
    service: ec2.InterfaceVpcEndpointAwsService
    why: str

    @property
    def construct_id(self) -> str:
        return "".join(p.capitalize() for p in self.name.replace("-", ".").split(".")) + "Endpoint"


#: Every interface endpoint the network knows, by the service's short name.
ENDPOINT_SERVICES: Mapping[str, EndpointService] = {
    s.name: s
    for s in (
        EndpointService("sagemaker.api", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
                        "SageMaker control plane (Studio, SDK, pipelines)"),
        EndpointService("sagemaker.runtime", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
                        "InvokeEndpoint from Studio and Lambda"),
        EndpointService("sagemaker.studio", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
                        "Studio web UI in VpcOnly mode"),
        EndpointService("sagemaker.notebook", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,
                        "Studio Classic / notebook instances' presigned URLs"),
        EndpointService("sagemaker.featurestore-runtime",
                        ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_FEATURESTORE_RUNTIME,
                        "Feature Store online reads and writes"),
        EndpointService("sts", ec2.InterfaceVpcEndpointAwsService.STS, "role sessions from Studio apps and jobs"),
        EndpointService("logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, "CloudWatch Logs"),
        EndpointService("monitoring", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING, "CloudWatch metrics"),
        EndpointService("ecr.api", ec2.InterfaceVpcEndpointAwsService.ECR, "ECR API (custom images)"),
        EndpointService("ecr.dkr", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER, "ECR image layers"),
        EndpointService("kms", ec2.InterfaceVpcEndpointAwsService.KMS, "KMS for encrypted data and volumes"),
        # SageMaker managed MLflow tracking servers from a VPC (aws.sagemaker.<region>.experiments).
        EndpointService("sagemaker.experiments", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_EXPERIMENTS,
                        "SageMaker managed MLflow tracking servers"),
        # Canvas / Data Wrangler data sources and the Feature Store offline store's catalog, from
        # https://docs.aws.amazon.com/sagemaker/latest/dg/canvas-vpc.html
        EndpointService("athena", ec2.InterfaceVpcEndpointAwsService.ATHENA, "Athena queries (Canvas data sources)"),
        EndpointService("glue", ec2.InterfaceVpcEndpointAwsService.GLUE, "Glue Data Catalog (Canvas, offline store)"),
    )
}

_STUDIO = ("sagemaker.api", "sagemaker.runtime", "sagemaker.studio", "sagemaker.notebook", "sts", "logs",
           "monitoring", "ecr.api", "ecr.dkr", "kms")
_TRAINING = ("sagemaker.api", "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms")
_INFERENCE = ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms")

#: Named endpoint sets. Each interface endpoint is billed per AZ-hour, so pick the smallest
#: set that covers the features you use. ``"none"`` keeps only the (free) S3 gateway.
ENDPOINT_PRESETS: Mapping[str, tuple[str, ...]] = {
    "all": tuple(ENDPOINT_SERVICES),
    "studio": _STUDIO,
    "training": _TRAINING,
    "inference": _INFERENCE,
    "minimal": ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "kms"),
    # Studio with Canvas and Data Wrangler (https://docs.aws.amazon.com/sagemaker/latest/dg/canvas-vpc.html)
    # and managed MLflow.
    "canvas": (*_STUDIO, "sagemaker.experiments", "athena", "glue"),
    "none": (),
}


def resolve_endpoints(scope: Construct | str, endpoints: str | Sequence[str]) -> tuple[str, ...]:
    """Turn a preset name or a list of service names into service names, or raise ValidationError."""
    if isinstance(endpoints, str):
        if endpoints not in ENDPOINT_PRESETS:
            raise ValidationError(scope, "endpoints", endpoints, f"allowed presets: {', '.join(ENDPOINT_PRESETS)}")
        return ENDPOINT_PRESETS[endpoints]
    names = tuple(dict.fromkeys(endpoints))
    unknown = [n for n in names if n not in ENDPOINT_SERVICES]
    if unknown:
        raise ValidationError(
            scope, "endpoints", unknown[0] if len(unknown) == 1 else unknown,
            f"allowed service names: {', '.join(ENDPOINT_SERVICES)} (or a preset: {', '.join(ENDPOINT_PRESETS)})",
        )
    return names


def validate_cidr(scope: Construct | str, cidr: str, subnet_cidr_mask: int, subnet_count: int) -> None:
    """A private (RFC 1918) VPC CIDR of /16-/28 with room for ``subnet_count`` subnets of the mask."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ValidationError(scope, "cidr", cidr, f"an IPv4 network such as 10.0.0.0/16 ({exc})") from None
    if network.version != 4 or not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
        raise ValidationError(scope, "cidr", cidr, "must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    if not 16 <= network.prefixlen <= 28:
        raise ValidationError(scope, "cidr", cidr, "a VPC CIDR must be between /16 and /28")
    if not network.prefixlen <= subnet_cidr_mask <= 28:
        raise ValidationError(
            scope, "subnet_cidr_mask", subnet_cidr_mask, f"between the VPC prefix /{network.prefixlen} and /28"
        )
    fits = 2 ** (subnet_cidr_mask - network.prefixlen)
    if fits < subnet_count:
        raise ValidationError(
            scope, "cidr", cidr,
            f"too small: {subnet_count} subnets of /{subnet_cidr_mask} are needed, only {fits} fit; "
            "use a larger CIDR or a larger subnet_cidr_mask",
        )


#: SageMaker accepts 1-16 subnets in a VpcConfig (Studio, models, jobs); Lambda accepts up to 16.
MAX_SUBNETS = 16


def private_subnets(owner: Construct, vpc: ec2.IVpc, subnets: Sequence[ec2.ISubnet] | None) -> list[ec2.ISubnet]:
    """``subnets``, or the VPC's private and isolated subnets; 1-16 of them, else a
    :class:`ValidationError` of ``owner``'s ``subnets`` argument."""
    chosen = list(subnets) if subnets is not None else [*vpc.private_subnets, *vpc.isolated_subnets]
    if not 1 <= len(chosen) <= MAX_SUBNETS:
        raise ValidationError(
            owner, "subnets", f"{len(chosen)} subnets",
            "1-16 subnets; the VPC has no private or isolated subnets" if subnets is None and not chosen
            else "between 1 and 16 private or isolated subnets",
        )
    return chosen


def allow_https_to_endpoints(
    owner: Construct, security_group: ec2.SecurityGroup, vpc: ec2.IVpc, endpoint_security_group: ec2.ISecurityGroup | None
) -> None:
    """Let ``security_group`` send HTTPS to the VPC interface endpoints: to their security group
    (which is opened to it on 443) or, without one, to the VPC CIDR. An imported VPC without
    ``vpc_cidr_block`` and no endpoint security group is a :class:`ValidationError` of ``owner``."""
    if endpoint_security_group is not None:
        security_group.connections.allow_to(endpoint_security_group, ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")
        return
    try:
        cidr = vpc.vpc_cidr_block
    except Exception as exc:  # jsii error: an imported VPC without vpc_cidr_block
        raise ValidationError(
            owner, "vpc", vpc.node.path,
            "an imported VPC needs vpc_cidr_block in from_vpc_attributes, or pass endpoint_security_group",
        ) from exc
    security_group.add_egress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")


class IsolatedNetwork(Construct):
    """A VPC with no path to the internet, ready for SageMaker Studio, jobs and endpoints.

    Default settings:

    * private isolated subnets (``/20``) in ``max_azs`` (2) AZs of ``10.0.0.0/16``;
      no internet gateway, no NAT, no public IPs;
    * the VPC's default security group loses all rules;
    * VPC flow logs (ALL traffic) to a CloudWatch log group encrypted with the network's key,
      retained ``flow_log_retention`` (one year) and RETAINed on stack deletion;
    * an S3 gateway endpoint, and the interface endpoints of the ``endpoints`` preset
      (``"all"``) with private DNS, in every subnet, behind one security group that admits
      only HTTPS (443) from the VPC CIDR and allows no egress.

    Exposes ``vpc`` (``ec2.IVpc``), ``endpoint_security_group``, ``interface_endpoints`` (by
    service name), ``s3_endpoint``, ``flow_log_group`` and ``encryption_key``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        max_azs: int = 2,
        endpoints: str | Sequence[str] = "all",
        cidr: str = "10.0.0.0/16",
        subnet_cidr_mask: int = 20,
        encryption_key: kms.IKey | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        vpc_name: str | None = None,
    ) -> None:
        """
        :param max_azs: AZs to use, at least 2 (SageMaker spreads instances across AZs).
            Default: 2. An environment-agnostic stack can resolve at most 2.
        :param endpoints: a preset name from ``ENDPOINT_PRESETS`` or a list of service names
            from ``ENDPOINT_SERVICES``. Default: ``"all"``.
        :param cidr: the VPC CIDR, inside RFC 1918 space, /16-/28. Default: ``10.0.0.0/16``.
        :param subnet_cidr_mask: prefix length of each isolated subnet. Default: 20.
        :param encryption_key: key for the flow-log group. Default: a new ``PlatformKey``
            (child ``Key``).
        :param flow_log_retention: Default: one year.
        :param vpc_name: the VPC's Name tag. Default: the construct path.
        """
        super().__init__(scope, id)
        check_int_range(self, "max_azs", max_azs, minimum=2)
        validate_cidr(self, cidr, subnet_cidr_mask, max_azs)
        service_names = resolve_endpoints(self, endpoints)

        self.encryption_key: kms.IKey = encryption_key or PlatformKey(self, "Key", description="VPC flow logs")
        self.vpc: ec2.Vpc = ec2.Vpc(
            self,
            "Resource",
            vpc_name=vpc_name,
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            create_internet_gateway=False,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=subnet_cidr_mask
                )
            ],
        )
        self.flow_log_group: logs.LogGroup = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=self.encryption_key,
            retention=flow_log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.flow_log: ec2.FlowLog = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge(
            self.flow_log,
            reason=INLINE_SERVICE_POLICY_REASON,
            nag=across_packs("IAMNoInlinePolicy"),
        )
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.s3_endpoint: ec2.GatewayVpcEndpoint = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets]
        )
        self.endpoint_security_group: ec2.SecurityGroup = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name in service_names:
            spec = ENDPOINT_SERVICES[name]
            self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                spec.construct_id,
                service=spec.service,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
                subnets=subnets,
            )
        self._acknowledge_default_sg_provider()

    @property
    def isolated_subnets(self) -> ec2.SelectedSubnets:
        return self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def _acknowledge_default_sg_provider(self) -> None:
        """The CDK's stack-wide Lambda that strips the default security group's rules."""
        provider = Stack.of(self).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is None:
            return
        acknowledge(
            provider,
            reason=(
                "CDK-managed provider that runs once at deploy to remove the default security "
                "group's rules; it holds no data, runs outside the VPC by design (it must reach "
                "the EC2 API before endpoints exist) and is not invoked by users."
            ),
            checkov=["CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"],
            control_tower=["lambda_inside_vpc_check"],
        )

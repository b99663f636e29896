"""A private network for SageMaker: isolated subnets, VPC endpoints, flow logs, no internet path."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping, Sequence, cast

import jsii
from aws_cdk import Annotations, AspectPriority, Aspects, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from .compliance import INLINE_SERVICE_POLICY_REASON, acknowledge, across_packs
from .security.key import PlatformKey, check_key_not_alias
from .errors import ValidationError, check_int_range, is_unresolved
from .validation.checks import check_combination, check_count, check_length

_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


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
        EndpointService("redshift-data", ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA,
                        "Redshift Data API (Canvas Redshift data source)"),
    )
}

_STUDIO = ("sagemaker.api", "sagemaker.runtime", "sagemaker.studio", "sagemaker.notebook", "sts", "logs",
           "monitoring", "ecr.api", "ecr.dkr", "kms")
_TRAINING = ("sagemaker.api", "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms")
_INFERENCE = ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms")

#: Named endpoint sets. Each interface endpoint is billed per AZ-hour, so pick the smallest
#: set that covers the features you use. ``"none"`` keeps only the (free) S3 gateway.
#: Services no preset includes: created only when something asks for them (``CanvasSettings(redshift=True)``,
#: :meth:`IsolatedNetwork.require`), so that ``"all"`` (the default) does not grow for a niche data source.
ON_REQUEST_ONLY = ("redshift-data",)
ENDPOINT_PRESETS: Mapping[str, tuple[str, ...]] = {
    "all": tuple(n for n in ENDPOINT_SERVICES if n not in ON_REQUEST_ONLY),
    "studio": _STUDIO,
    "training": _TRAINING,
    "inference": _INFERENCE,
    "minimal": ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "kms"),
    # Studio with Canvas and Data Wrangler (https://docs.aws.amazon.com/sagemaker/latest/dg/canvas-vpc.html)
    # and managed MLflow.
    "canvas": (*_STUDIO, "sagemaker.experiments", "athena", "glue"),
    "none": (),
}


#: ``endpoints="auto"``: the interface endpoints are derived at synth from what uses the network.
AUTO = "auto"

#: What ``endpoints="auto"`` creates for each feature found in the app (any stack) using this
#: network's subnets. AWS sources:
#:
#: * a VPC-only Studio domain cannot run "unless your VPC has an interface endpoint to the
#:   SageMaker API and runtime" (https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html);
#:   STS for the SageMaker Python SDK's session in notebooks (it resolves the caller's identity);
#: * a network-isolated model or job ("the training container does not have network access";
#:   SageMaker moves its data and artifacts through the VPC, i.e. the S3 gateway endpoint:
#:   https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html#sagemaker-CreateTrainingJob-request-EnableNetworkIsolation)
#:   needs no interface endpoint; a model with network isolation off may call AWS from its
#:   container, so it gets the ``minimal`` preset;
#: * our Lambda functions in the VPC call exactly one API each (their handlers in ``handlers/``).
FEATURE_ENDPOINTS: Mapping[str, tuple[str, ...]] = {
    "StudioDomain": ("sagemaker.api", "sagemaker.runtime", "sts"),
    "Model without network isolation": ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "kms"),
    "EndpointInvoker": ("sagemaker.runtime",),
    "DeployOnApproval": ("sagemaker.api",),
    "InstanceRecommender": ("sagemaker.api",),
    # Used from Studio in this network (counted only with a Studio domain in it):
    "FeatureGroup online store": ("sagemaker.featurestore-runtime",),
    "MlflowTrackingServer": ("sagemaker.experiments",),
}
#: Features of the app that Studio users reach from the VPC: counted when a Studio domain uses it.
_STUDIO_REACHED = ("FeatureGroup online store", "MlflowTrackingServer")
#: The attribute on an ``ec2.Vpc`` object that holds :func:`require_interface_endpoints` records.
_REQUIREMENTS_ATTR = "_sagemaker_constructs_endpoint_requirements"


def require_interface_endpoints(vpc: ec2.IVpc, *services: str, reason: str) -> None:
    """Record that something using ``vpc`` needs the interface endpoints ``services`` (names from
    ``ENDPOINT_SERVICES``): the ``IsolatedNetwork`` that owns ``vpc`` creates them at synth, in
    any mode (``"auto"`` or a preset), and lists ``reason`` in the VPC's template metadata. A
    construct in another stack of the same app calls it on the network's ``vpc`` object; an
    imported VPC (``from_vpc_attributes``) is not the network's, so call
    :meth:`IsolatedNetwork.require` there instead. Unknown names are a ``ValidationError``."""
    resolve_endpoints("require_interface_endpoints", list(services))
    records: dict[str, list[str]] = getattr(vpc, _REQUIREMENTS_ATTR, None) or {}
    for service in services:
        records.setdefault(service, [])
        if reason not in records[service]:
            records[service].append(reason)
    setattr(vpc, _REQUIREMENTS_ATTR, records)


def resolve_endpoints(scope: Construct | str, endpoints: str | Sequence[str]) -> tuple[str, ...]:
    """Turn a preset name or a list of service names into service names, or raise ValidationError.
    ``"auto"`` resolves to none here: the network adds what the app needs at synth."""
    if isinstance(endpoints, str):
        if endpoints == AUTO:
            return ()
        if endpoints not in ENDPOINT_PRESETS:
            raise ValidationError(scope, "endpoints", endpoints,
                                  f"allowed presets: {', '.join(ENDPOINT_PRESETS)}, or {AUTO!r}")
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
    if not isinstance(network, ipaddress.IPv4Network) or not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
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


def check_vpc_settings(owner: IConstruct | str, vpc: ec2.IVpc | None, **settings: object) -> None:
    """Raise :class:`ValidationError` of ``owner`` for a network setting given without ``vpc``
    (``subnets=``, ``endpoint_security_group=``): it would be ignored, the resource running
    outside the network the caller meant."""
    if vpc is not None:
        return
    for argument, value in settings.items():
        if value is not None:
            raise ValidationError(owner, argument, "given without vpc", f"pass vpc= together with {argument}")


def private_subnets(owner: Construct, vpc: ec2.IVpc, subnets: Sequence[ec2.ISubnet] | None) -> list[ec2.ISubnet]:
    """``subnets``, or the VPC's private and isolated subnets; 1-16 of them, else a
    :class:`ValidationError` of ``owner``'s ``subnets`` argument."""
    chosen = list(subnets) if subnets is not None else [*vpc.private_subnets, *vpc.isolated_subnets]
    check_count(owner, "subnets", chosen, minimum=1, maximum=MAX_SUBNETS, what="subnets",
                note="(the VPC has no private or isolated subnets)" if subnets is None and not chosen
                else "(private or isolated)", limit="botocore sagemaker Subnets")
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
      only HTTPS (443) from the VPC CIDR and allows no egress;
    * with ``endpoints="auto"``, only the interface endpoints the app's features need
      (:data:`FEATURE_ENDPOINTS`, found at synth in every stack of the app that uses this
      network's subnets) plus what :meth:`require` or :func:`require_interface_endpoints` asked
      for; the VPC resource's template metadata (``sagemaker-constructs:interface-endpoints``)
      names each endpoint's reasons.

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
        :param endpoints: a preset name from ``ENDPOINT_PRESETS``, a list of service names
            from ``ENDPOINT_SERVICES``, or ``"auto"`` (derived from the app at synth). Default: ``"all"``.
        :param cidr: the VPC CIDR, inside RFC 1918 space, /16-/28. Default: ``10.0.0.0/16``.
        :param subnet_cidr_mask: prefix length of each isolated subnet. Default: 20.
        :param encryption_key: key for the flow-log group. Default: a new ``PlatformKey``
            (child ``Key``).
        :param flow_log_retention: Default: one year.
        :param vpc_name: the VPC's Name tag. Default: the construct path.
        """
        super().__init__(scope, id)
        # CDK lays out the subnets (how many, their CIDRs) at synth: a CloudFormation parameter
        # cannot be used for these (CDK fails on it, or our checks would quote its encoding).
        for argument, value in (("max_azs", max_azs), ("cidr", cidr), ("subnet_cidr_mask", subnet_cidr_mask)):
            if is_unresolved(value):
                raise ValidationError(self, argument, "a Token (deploy-time value)",
                                      "a value known at synth: the VPC's subnets and their CIDRs are laid out then")
        check_int_range(self, "max_azs", max_azs, minimum=2)
        validate_cidr(self, cidr, subnet_cidr_mask, max_azs)
        service_names = resolve_endpoints(self, endpoints)
        # The Name tag: EC2 tag values are at most 256 characters
        # (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions).
        check_length(self, "vpc_name", vpc_name, minimum=1, maximum=256, limit="EC2 tag value")
        check_key_not_alias(self, "encryption_key", encryption_key)

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
        resolved = self.vpc.availability_zones
        check_combination(
            self, "max_azs", max_azs, refused=len(resolved) < max_azs,
            because=f"at most the {len(resolved)} AZs this stack resolves ({', '.join(resolved)}): an "
                    "environment-agnostic stack knows 2; give the stack env=Environment(account=..., region=...) "
                    "(and the AZs in cdk.context.json) to use more",
            limit="https://docs.aws.amazon.com/cdk/v2/guide/environments.html",
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
        #: ``"auto"`` or the preset name / list given.
        self.endpoints_mode: str | tuple[str, ...] = endpoints if isinstance(endpoints, str) else tuple(endpoints)
        for name in service_names:
            self._add_interface_endpoint(name)
        # Runs before the templates are written (CDK's prepare phase), after the app is built.
        Aspects.of(self).add(_EndpointsAspect(self), priority=AspectPriority.MUTATING)
        self._acknowledge_default_sg_provider()

    def _add_interface_endpoint(self, name: str) -> ec2.InterfaceVpcEndpoint:
        spec = ENDPOINT_SERVICES[name]
        endpoint = self.vpc.add_interface_endpoint(
            spec.construct_id,
            service=spec.service,
            private_dns_enabled=True,
            open=False,
            security_groups=[self.endpoint_security_group],
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
        self.interface_endpoints[name] = endpoint
        return endpoint

    def require(self, *services: str, reason: str) -> None:
        """Make sure this network has the interface endpoints ``services`` (names from
        ``ENDPOINT_SERVICES``), for what ``"auto"`` cannot see (your own Lambda functions or
        containers in the VPC, Feature Store, Canvas...). Created at synth, in every mode."""
        require_interface_endpoints(self.vpc, *services, reason=reason)

    def required_endpoints(self) -> dict[str, list[str]]:
        """``{service name: [reasons]}``: what the app needs of this network, as ``"auto"`` sees it
        (features found in every stack of the app, plus :meth:`require` calls). Computed on call."""
        needs: dict[str, list[str]] = {}

        def add(services: Sequence[str], reason: str) -> None:
            for service in services:
                needs.setdefault(service, [])
                if reason not in needs[service]:
                    needs[service].append(reason)

        for service, reasons in (getattr(self.vpc, _REQUIREMENTS_ATTR, None) or {}).items():
            for reason in reasons:
                add([service], reason)
        subnet_ids = {s.subnet_id for s in self.vpc.isolated_subnets}
        reached: list[tuple[str, IConstruct]] = []
        studio = False
        for construct in self.node.root.node.find_all():
            found = _feature_of(construct, subnet_ids)
            if found is not None:
                feature, owner = found
                studio = studio or feature == "StudioDomain"
                add(FEATURE_ENDPOINTS[feature], f"{feature} {owner.node.path}")
            elif isinstance(construct, sagemaker.CfnFeatureGroup) and construct.online_store_config is not None:
                reached.append(("FeatureGroup online store", construct.node.scope or construct))
            elif isinstance(construct, sagemaker.CfnMlflowTrackingServer):
                reached.append(("MlflowTrackingServer", construct.node.scope or construct))
        if studio:
            for feature, owner in reached:
                add(FEATURE_ENDPOINTS[feature], f"{feature} {owner.node.path} (from Studio)")
        return needs

    def _synthesize_endpoints(self) -> None:
        """Add the endpoints the app requires (``"auto"``: all it needs) and record why in metadata."""
        needs = getattr(self.vpc, _REQUIREMENTS_ATTR, None) or {}
        if self.endpoints_mode == AUTO:
            needs = self.required_endpoints()
        for name in ENDPOINT_SERVICES:  # a stable order: the table's
            if name in needs and name not in self.interface_endpoints:
                self._add_interface_endpoint(name)
        if self.endpoints_mode == AUTO or needs:
            cfn_vpc = cast(ec2.CfnVPC, self.vpc.node.default_child)  # the ec2.Vpc this construct made
            cfn_vpc.add_metadata("sagemaker-constructs:interface-endpoints", {
                name: needs.get(name, [f"preset {self.endpoints_mode!r}"]) for name in self.interface_endpoints})

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


def _owner_kind(construct: IConstruct) -> tuple[str, IConstruct] | None:
    """The nearest enclosing construct whose class is one of FEATURE_ENDPOINTS' Lambda owners."""
    node: IConstruct | None = construct
    while node is not None:
        for cls in type(node).__mro__:
            if cls.__name__ in ("EndpointInvoker", "DeployOnApproval", "InstanceRecommender"):
                return cls.__name__, node
        node = node.node.scope
    return None


def _feature_of(construct: IConstruct, subnet_ids: set[str]) -> tuple[str, IConstruct] | None:
    """``(feature, owner)`` when ``construct`` is an L1 resource placed in one of ``subnet_ids``."""
    if isinstance(construct, sagemaker.CfnDomain):
        if set(construct.subnet_ids or ()) & subnet_ids:
            return "StudioDomain", construct.node.scope or construct
        return None
    if isinstance(construct, sagemaker.CfnModel):
        vpc_config = construct.vpc_config
        if vpc_config is not None and set(getattr(vpc_config, "subnets", ()) or ()) & subnet_ids:
            if construct.enable_network_isolation is not True:
                return "Model without network isolation", construct.node.scope or construct
        return None
    if isinstance(construct, lambda_.CfnFunction):
        vpc_config = construct.vpc_config
        if vpc_config is None or not set(getattr(vpc_config, "subnet_ids", ()) or ()) & subnet_ids:
            return None
        owner = _owner_kind(construct)
        if owner is None:
            Annotations.of(construct).add_warning_v2(
                "sagemaker-constructs:network-auto-unknown-function",
                "This Lambda function runs in an IsolatedNetwork with endpoints='auto', which cannot tell which AWS "
                "APIs it calls: call network.require('<service>', reason=...) for each interface endpoint it needs.",
            )
            return None
        return owner
    return None


@jsii.implements(IAspect)
class _EndpointsAspect:
    """Adds the required interface endpoints to its network when CDK prepares the app."""

    def __init__(self, network: IsolatedNetwork) -> None:
        self._network = network
        self._done = False

    def visit(self, node: IConstruct) -> None:
        if node is self._network and not self._done:
            self._done = True
            self._network._synthesize_endpoints()

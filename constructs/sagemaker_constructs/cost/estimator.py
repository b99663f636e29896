"""The monthly cost a synthesized stack commits to, whether or not anyone uses it.

``estimate_monthly_cost(source)`` reads CloudFormation templates (a CDK ``Stack``, a cloud
assembly directory such as ``cdk.out``, a template file or a template dict) and prices what runs
around the clock at its minimum: instance-backed SageMaker endpoints (real-time, multi-model,
asynchronous, inference-component) at their minimum instance count (autoscaling ``MinCapacity``
overrides the initial count; scheduled actions are time-weighted over a week), interface VPC
endpoints per Availability Zone, NAT gateways, customer-managed KMS keys, CloudWatch alarms,
Secrets Manager secrets, and managed MLflow tracking servers by their running hours (around the
clock unless EventBridge Scheduler schedules stop and start them). What is billed per use (S3, Lambda, SQS, SNS, logs, serverless
inference, data capture, pipeline and monitoring jobs, Studio apps) is listed as usage-based,
never guessed; an instance type, price or resource type the price table does not cover is listed
as unknown. Prices come from :mod:`sagemaker_constructs.cost.prices` (dated, with sources).

Money is ``decimal.Decimal`` USD, unrounded; ``to_dict``/``to_json`` round monthly figures to
cents and keep unit prices as published.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import ValidationError
from . import prices as P
from .schedules import ScheduledAction, UnsupportedSchedule, average_minimum, running_fraction

_CENT = Decimal("0.01")
_INSTANCE_TYPE = re.compile(r"\bml\.[a-z0-9-]+\.[a-z0-9]+\b")
_SAGEMAKER_VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: An EventBridge Scheduler universal target that starts or stops a managed MLflow tracking server
#: (``MlflowTrackingServer.add_running_schedule``, or any template that schedules those API calls).
_MLFLOW_TARGET = re.compile(
    r"arn:(\$\{AWS::Partition\}|aws[a-z-]*):scheduler:::aws-sdk:sagemaker:(?P<action>start|stop)MlflowTrackingServer")

#: Resource types with no charge of their own (their cost, if any, shows up on other resources).
FREE_TYPES = frozenset({
    "AWS::CDK::Metadata", "AWS::CloudFormation::CustomResource", "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle", "AWS::CloudFormation::Stack",
    "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress", "AWS::EC2::NetworkAcl", "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::SubnetNetworkAclAssociation", "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::DHCPOptions", "AWS::EC2::VPCDHCPOptionsAssociation", "AWS::EC2::PrefixList",
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile",
    "AWS::IAM::ServiceLinkedRole",
    "AWS::KMS::Alias", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping", "AWS::Lambda::LayerVersion", "AWS::Lambda::Version",
    "AWS::Logs::SubscriptionFilter", "AWS::Logs::MetricFilter", "AWS::Logs::ResourcePolicy",
    "AWS::Events::EventBus", "AWS::Scheduler::ScheduleGroup", "AWS::SSM::Parameter",
    "AWS::SageMaker::Model", "AWS::SageMaker::ModelPackageGroup", "AWS::SageMaker::ModelPackage",
    "AWS::SageMaker::EndpointConfig",  # priced through the endpoint that uses it
    "AWS::SageMaker::InferenceComponent",  # its copies run on the endpoint's priced instances
    "AWS::SageMaker::UserProfile", "AWS::SageMaker::Space", "AWS::SageMaker::AppImageConfig",
    "AWS::SageMaker::Image", "AWS::SageMaker::ImageVersion", "AWS::SageMaker::CodeRepository",
    "AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition", "AWS::SageMaker::ModelExplainabilityJobDefinition",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig", "AWS::SageMaker::Project",
})

#: Resource types billed only per use, with what they bill for.
USAGE_TYPES: Mapping[str, str] = {
    "AWS::S3::Bucket": "S3 storage, requests and data transfer",
    "AWS::Lambda::Function": "Lambda requests and duration",
    "AWS::SQS::Queue": "SQS requests",
    "AWS::SNS::Topic": "SNS publishes and deliveries",
    "AWS::Logs::LogGroup": "CloudWatch Logs ingestion and storage",
    "AWS::EC2::FlowLog": "flow-log delivery to CloudWatch Logs or S3",
    "AWS::CloudTrail::Trail": "first copy of management events free; data and Insights events billed per event",
    "AWS::StepFunctions::StateMachine": "Step Functions state transitions",
    "AWS::Scheduler::Schedule": "EventBridge Scheduler invocations",
    "AWS::Events::Rule": "EventBridge events",
    "AWS::EFS::FileSystem": "EFS storage and throughput",
    "AWS::ECR::Repository": "ECR image storage",
    "AWS::SageMaker::Domain": "Studio apps (instance-hours while running) and home-directory EFS storage",
    "AWS::SageMaker::FeatureGroup": "Feature Store reads, writes and storage",
    "AWS::SageMaker::Space": "Studio apps in the space (instance-hours while running) and its EBS storage",
    "AWS::SageMaker::Pipeline": "pipeline steps: training/processing instance-hours while a run executes",
    "AWS::SageMaker::MonitoringSchedule": "monitoring processing jobs: instance-hours per scheduled run",
    "AWS::DynamoDB::Table": "DynamoDB on-demand reads, writes and storage",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose data ingested",
    "AWS::ApiGateway::RestApi": "API Gateway requests",
}


@dataclass(frozen=True)
class CostLine:
    """One priced item: ``quantity`` ``unit`` at ``unit_price`` USD each is ``monthly`` USD."""

    stack: str
    logical_id: str
    path: str
    resource_type: str
    item: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    monthly: Decimal
    detail: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "logical_id": self.logical_id, "path": self.path,
            "resource_type": self.resource_type, "item": self.item, "quantity": _num(self.quantity),
            "unit": self.unit, "unit_price_usd": _num(self.unit_price), "monthly_usd": _cents(self.monthly),
            "detail": self.detail, "source": self.source,
        }


@dataclass(frozen=True)
class ListedItem:
    """An item listed but not priced: usage-based, or unknown (``note`` says why)."""

    stack: str
    logical_id: str
    path: str
    resource_type: str
    item: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "logical_id": self.logical_id, "path": self.path,
                "resource_type": self.resource_type, "item": self.item, "note": self.note}


@dataclass(frozen=True)
class CostReport:
    """The committed monthly cost of one or more stacks.

    ``total`` is the sum of ``lines`` in USD per month (``Decimal``, unrounded), pricing
    :data:`~sagemaker_constructs.cost.prices.HOURS_PER_MONTH` hours a month. ``usage_based``
    lists what bills per use (not included), ``unknown`` what could not be priced (not included:
    the true committed cost is at least ``total``).
    """

    region: str
    price_date: str
    lines: tuple[CostLine, ...]
    usage_based: tuple[ListedItem, ...] = ()
    unknown: tuple[ListedItem, ...] = ()
    stacks: tuple[str, ...] = ()
    hours_per_month: int = int(P.HOURS_PER_MONTH)

    @property
    def total(self) -> Decimal:
        return sum((line.monthly for line in self.lines), Decimal(0))

    def stack_totals(self) -> dict[str, Decimal]:
        """``{stack name: monthly USD}`` for every stack read, in reading order (0 where nothing is priced)."""
        totals = {name: Decimal(0) for name in self.stacks}
        for line in self.lines:
            totals[line.stack] = totals.get(line.stack, Decimal(0)) + line.monthly
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "price_date": self.price_date,
            "currency": "USD",
            "hours_per_month": self.hours_per_month,
            "total_monthly_usd": _cents(self.total),
            "stacks": {name: _cents(v) for name, v in self.stack_totals().items()},
            "lines": [line.to_dict() for line in self.lines],
            "usage_based": [item.to_dict() for item in self.usage_based],
            "unknown": [item.to_dict() for item in self.unknown],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self) -> str:
        """The table ``make synth`` prints: one row per priced item, stack subtotals, the total,
        then the usage-based and unknown items."""
        header = ("Stack", "Resource", "Item", "Quantity", "Unit price", "Monthly")
        rows = [(line.stack, line.path or line.logical_id, line.item,
                 f"{_fmt_qty(line.quantity)} {line.unit}", f"${line.unit_price}", f"${_cents(line.monthly):,.2f}")
                for line in self.lines]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

        def fmt(row: Iterable[str]) -> str:
            cells = list(row)
            return "  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        out = [f"Estimated committed monthly cost, {self.region}, on-demand prices of {self.price_date} "
               f"({self.hours_per_month} h/month)", fmt(header), fmt("-" * w for w in widths)]
        out += [fmt(r) for r in rows]
        out.append("")
        for name, value in self.stack_totals().items():
            out.append(f"{name}: ${_cents(value):,.2f}/month")
        out.append(f"Total: ${_cents(self.total):,.2f}/month")
        if self.usage_based:
            out += ["", "Usage-based (billed per use, not included):"]
            out += [f"  {i.stack}  {i.path or i.logical_id}  {i.item}: {i.note}" for i in self.usage_based]
        if self.unknown:
            out += ["", "Unknown (not priced, not included; the committed cost is at least the total):"]
            out += [f"  {i.stack}  {i.path or i.logical_id}  {i.item}: {i.note}" for i in self.unknown]
        out += ["", "Prices: sagemaker_constructs/cost/prices.py (each price names its AWS pricing page)."]
        return "\n".join(out)


def _cents(value: Decimal) -> float:
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _num(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _fmt_qty(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


# ---------------------------------------------------------------------------------------------
# Reading the source
# ---------------------------------------------------------------------------------------------


@dataclass
class _StackInput:
    name: str
    template: dict[str, Any]
    region: str | None
    paths: dict[str, str] = field(default_factory=dict)  # logical id -> construct path


def estimate_monthly_cost(source: Any, *, region: str | None = None,
                          hosting_prices: Mapping[str, "str | int | float | Decimal"] | None = None,
                          mlflow_prices: Mapping[str, "str | int | float | Decimal"] | None = None) -> CostReport:
    """Estimate the committed monthly cost of ``source``.

    :param source: a CDK ``Stack`` (its app is synthesized if it has not been), a cloud assembly
        directory (every stack in it, e.g. ``"cdk.out"``), a template file, or a template dict.
    :param region: the region to price an environment-agnostic stack in. Default: none; a stack
        pinned to a region (``env=``) is always priced in its own region.
    :param hosting_prices: your own USD per instance-hour for real-time/async hosting instance
        types (``{"ml.c7g.large": "0.0867"}``: from your price list, pricing calculator or
        agreement), used in every region priced, in place of the table's figure or where the table
        has none (Graviton types, for one). Lines priced from it name it as their source.
    :param mlflow_prices: the same for managed MLflow tracking servers, by size
        (``{"Small": "0.6"}``; the table confirms none).
    :raises ValidationError: when no region is known, the price table has no data for it, or an
        override is not a positive number (or names no instance type / size).
    """
    stacks = _read_source(source)
    label = _label(source)
    overrides = _overrides(label, hosting_prices, mlflow_prices)
    resolved: list[tuple[_StackInput, str]] = []
    for stack in stacks:
        stack_region = stack.region if _concrete_region(stack.region) else region
        if not stack_region:
            raise ValidationError(label, "region", None,
                                  f"stack {stack.name} is environment-agnostic; pass region= (price data for "
                                  f"{', '.join(P.regions())})")
        if stack_region not in P.PRICES:
            raise ValidationError(label, "region", stack_region,
                                  f"no price data for this region; price data covers {', '.join(P.regions())}")
        resolved.append((stack, stack_region))
    regions = sorted({r for _, r in resolved}) or ([region] if region else [])
    builder = _Builder({s.name: s for s, _ in resolved}, overrides)
    for stack, stack_region in resolved:
        builder.price_stack(stack, stack_region)
    return CostReport(
        region=", ".join(r for r in regions if r), price_date=P.PRICE_DATE, lines=tuple(builder.lines),
        usage_based=tuple(builder.usage), unknown=tuple(builder.unknown), stacks=tuple(s.name for s in stacks),
    )


#: Where a line priced from the caller's ``hosting_prices=``/``mlflow_prices=`` says its price came from.
CALLER_PRICE_SOURCE = "supplied by the caller ({argument}=)"
def _overrides(label: str, hosting: Mapping[str, Any] | None, mlflow: Mapping[str, Any] | None) -> dict[str, dict[str, P.Price]]:
    """``{price key: {instance type or size: Price}}`` of the caller's prices, checked."""
    from ..validation.catalog import check_instance_type
    from ..validation.checks import check_choice

    out: dict[str, dict[str, P.Price]] = {}
    for argument, key, unit, table in (("hosting_prices", P.SAGEMAKER_HOSTING, "instance-hour", hosting),
                                       ("mlflow_prices", P.SAGEMAKER_MLFLOW, "server-hour", mlflow)):
        for name, value in (table or {}).items():
            if argument == "hosting_prices":
                check_instance_type(label, argument, name, use="hosting")
            else:
                from ..mlops.mlflow import TRACKING_SERVER_SIZES

                check_choice(label, argument, name, TRACKING_SERVER_SIZES)
            try:
                usd = None if isinstance(value, bool) else Decimal(str(value))
            except ArithmeticError:
                usd = None
            if usd is None or not usd.is_finite() or usd <= 0:
                raise ValidationError(label, f"{argument}[{name!r}]", value, "a positive number of USD per hour")
            out.setdefault(key, {})[name] = P.Price(usd, unit, CALLER_PRICE_SOURCE.format(argument=argument))
    return out


def _label(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    node = getattr(source, "node", None)
    return node.path if node is not None else "estimate_monthly_cost"


def _concrete_region(value: str | None) -> bool:
    return bool(value) and value != "unknown-region" and "${" not in value and "Token[" not in value


def _read_source(source: Any) -> list[_StackInput]:
    if isinstance(source, Mapping):
        return [_StackInput("template", dict(source), None, {})]
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return _read_assembly(path)
        if path.is_file():
            return [_StackInput(path.name.removesuffix(".template.json").removesuffix(".json"),
                                json.loads(path.read_text()), None, {})]
        raise ValidationError(str(source), "source", str(source),
                              "a cloud assembly directory, a template file, a template dict or a CDK Stack")
    return [_read_stack(source)]


def _read_stack(stack: Any) -> _StackInput:
    import aws_cdk as cdk

    if not isinstance(stack, cdk.Stack):
        raise ValidationError("estimate_monthly_cost", "source", type(stack).__name__,
                              "a cloud assembly directory, a template file, a template dict or a CDK Stack")
    stage = cdk.Stage.of(stack)
    if stage is None:  # a Stack under a bare Construct root: nothing can synthesize it
        raise ValidationError("estimate_monthly_cost", "source", stack.node.path,
                              "a CDK Stack inside an App or a Stage")
    assembly = stage.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    paths = {}
    for entry in artifact.find_metadata_by_type("aws:cdk:logicalId"):
        paths.setdefault(str(entry.data), entry.path)
    return _StackInput(stack.stack_name, artifact.template, artifact.environment.region, paths)


def _read_assembly(directory: Path) -> list[_StackInput]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise ValidationError(str(directory), "source", str(directory),
                              "a cloud assembly directory (with manifest.json), e.g. cdk.out after `cdk synth`")
    manifest = json.loads(manifest_path.read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly" and props.get("directoryName"):
            stacks += _read_assembly(directory / props["directoryName"])
            continue
        if kind != "aws:cloudformation:stack":
            continue
        template = json.loads((directory / props["templateFile"]).read_text())
        metadata = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:
            metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
        paths = {}
        for path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId":
                    paths.setdefault(str(entry.get("data")), path)
        environment = artifact.get("environment", "")
        env_region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else None
        name = props.get("stackName") or artifact.get("displayName") or artifact_id
        stacks.append(_StackInput(name, template, env_region, paths))
    return stacks


# ---------------------------------------------------------------------------------------------
# Template helpers
# ---------------------------------------------------------------------------------------------


def _target(value: Any) -> str | None:
    """The logical ID a ``Ref``/``Fn::GetAtt`` points to, else ``None``."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            if isinstance(att, list) and att:
                return str(att[0])
            if isinstance(att, str):
                return att.split(".", 1)[0]
    return None


def _render(value: Any) -> str | None:
    """A string form of a property: literals as-is, ``Ref X`` as ``${X}``, ``GetAtt X.a`` as
    ``${X.a}``, ``Fn::Join`` joined; ``None`` for what cannot be rendered (imports, conditions)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value:
            return "${" + str(value["Ref"]) + "}"
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return "${" + (".".join(map(str, att)) if isinstance(att, list) else str(att)) + "}"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            rendered = [_render(p) for p in parts] if isinstance(parts, list) else [None]
            return None if any(r is None for r in rendered) else str(sep).join(rendered)  # type: ignore[arg-type]
    return None


def _refs(value: Any) -> set[str]:
    """Every logical ID a property refers to through ``Ref``/``Fn::GetAtt``, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        target = _target(value)
        if target is not None:
            found.add(target)
        for v in value.values():
            found |= _refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= _refs(v)
    return found


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _instance_types(value: Any) -> list[str]:
    return sorted(set(_INSTANCE_TYPE.findall(json.dumps(value))))


@dataclass(frozen=True)
class _RunningSchedule:
    """A schedule that starts or stops a tracking server: its expression and time zone."""

    action: str  # "start" or "stop"
    expression: str
    time_zone: str | None
    logical_id: str


def _mlflow_schedule(props: dict[str, Any]) -> tuple[str, str] | None:
    """``(action, tracking server name)`` of an enabled schedule whose target starts or stops a
    tracking server, else None."""
    if props.get("State") == "DISABLED":
        return None
    target = props.get("Target") or {}
    match = _MLFLOW_TARGET.fullmatch(_render(target.get("Arn")) or "")
    payload = _render(target.get("Input"))
    if match is None or payload is None:
        return None
    try:
        name = json.loads(payload).get("TrackingServerName")
    except (ValueError, AttributeError):
        return None
    return (match.group("action"), name) if isinstance(name, str) else None


@dataclass
class _ScalableTarget:
    min_capacity: int | None
    max_capacity: int | None
    actions: list[ScheduledAction]
    logical_id: str


class _Builder:
    def __init__(self, stacks: dict[str, _StackInput], overrides: dict[str, dict[str, P.Price]] | None = None) -> None:
        self.overrides = overrides or {}
        self.lines: list[CostLine] = []
        self.usage: list[ListedItem] = []
        self.unknown: list[ListedItem] = []
        # Scalable targets of every stack read, by rendered resource id: an endpoint and its
        # autoscaling may live in different stacks when the endpoint name is a literal.
        self.targets: dict[str, _ScalableTarget] = {}
        # Schedules that start/stop tracking servers, by the server name in their input (rendered).
        self.running_schedules: dict[str, list[_RunningSchedule]] = {}
        for stack in stacks.values():
            for logical_id, res in stack.template.get("Resources", {}).items():
                if res.get("Type") == "AWS::Scheduler::Schedule":
                    props = res.get("Properties", {}) or {}
                    found = _mlflow_schedule(props)
                    expression = props.get("ScheduleExpression")
                    if found is not None and isinstance(expression, str):
                        zone = props.get("ScheduleExpressionTimezone")
                        self.running_schedules.setdefault(found[1], []).append(_RunningSchedule(
                            found[0], expression, zone if isinstance(zone, str) else None, logical_id))
                    continue
                if res.get("Type") != "AWS::ApplicationAutoScaling::ScalableTarget":
                    continue
                props = res.get("Properties", {})
                if props.get("ScalableDimension") != _SAGEMAKER_VARIANT_DIMENSION:
                    continue
                resource_id = _render(props.get("ResourceId"))
                if resource_id is None:
                    continue
                actions = [
                    ScheduledAction(str(a.get("Schedule", "")), _int(a.get("ScalableTargetAction", {}).get("MinCapacity")),
                                    _int(a.get("ScalableTargetAction", {}).get("MaxCapacity")))
                    for a in props.get("ScheduledActions", []) or []
                ]
                self.targets[resource_id] = _ScalableTarget(
                    _int(props.get("MinCapacity")), _int(props.get("MaxCapacity")), actions, logical_id)

    def _rate(self, key: str, region: str, name: str) -> P.Price | None:
        """The price of ``name`` (an instance type, a server size) under ``key``: the caller's
        (``hosting_prices=``/``mlflow_prices=``), else the table's for ``region``, else None."""
        return self.overrides.get(key, {}).get(name) or P.PRICES.get(region, {}).get(key, {}).get(name)

    # -- recording ---------------------------------------------------------------------------

    def _path(self, stack: _StackInput, logical_id: str, res: dict[str, Any]) -> str:
        return res.get("Metadata", {}).get("aws:cdk:path") or stack.paths.get(logical_id, "")

    def _line(self, stack, logical_id, res, item, quantity, price: P.Price, detail="") -> None:
        quantity = Decimal(quantity)
        self.lines.append(CostLine(
            stack=stack.name, logical_id=logical_id, path=self._path(stack, logical_id, res),
            resource_type=res["Type"], item=item, quantity=quantity, unit=price.unit, unit_price=price.usd,
            monthly=quantity * price.usd, detail=detail, source=price.source))

    def _listed(self, bucket, stack, logical_id, res, item, note) -> None:
        bucket.append(ListedItem(stack.name, logical_id, self._path(stack, logical_id, res), res["Type"], item, note))

    def _usage(self, *args) -> None:
        self._listed(self.usage, *args)

    def _unknown(self, *args) -> None:
        self._listed(self.unknown, *args)

    # -- pricing -----------------------------------------------------------------------------

    def price_stack(self, stack: _StackInput, region: str) -> None:
        resources = stack.template.get("Resources", {})
        for logical_id, res in resources.items():
            kind = res.get("Type", "")
            props = res.get("Properties", {}) or {}
            handler = _HANDLERS.get(kind)
            if handler is not None:
                handler(self, stack, region, logical_id, res, props)
            elif kind in USAGE_TYPES:
                self._usage(stack, logical_id, res, kind, USAGE_TYPES[kind])
            elif kind in FREE_TYPES or kind.startswith("Custom::"):
                continue
            else:
                self._unknown(stack, logical_id, res, kind, "resource type not in the cost model")

    def _endpoint(self, stack, region, logical_id, res, props) -> None:
        resources = stack.template.get("Resources", {})
        config_ref = props.get("EndpointConfigName")
        config_id = _target(config_ref)
        if config_id is None and isinstance(config_ref, str):
            config_id = next((lid for lid, r in resources.items() if r.get("Type") == "AWS::SageMaker::EndpointConfig"
                              and r.get("Properties", {}).get("EndpointConfigName") == config_ref), None)
        config = resources.get(config_id or "", {})
        if config.get("Type") != "AWS::SageMaker::EndpointConfig":
            self._unknown(stack, logical_id, res, "endpoint", "its endpoint configuration is not in this template")
            return
        cprops = config.get("Properties", {}) or {}
        names = {f"${{{logical_id}.EndpointName}}", f"${{{logical_id}}}"}
        if isinstance(props.get("EndpointName"), str):
            names.add(props["EndpointName"])
        kind = "async " if cprops.get("AsyncInferenceConfig") else ""
        if cprops.get("DataCaptureConfig", {}).get("EnableCapture") in (True, "true"):
            pct = cprops["DataCaptureConfig"].get("InitialSamplingPercentage")
            self._usage(stack, logical_id, res, "data capture",
                        f"captured requests written to S3 ({pct}% sampling)" if pct is not None else
                        "captured requests written to S3")
        if kind:
            self._usage(stack, logical_id, res, "async inference",
                        "request payloads and results in S3, notifications in SNS")
        variants = [*(cprops.get("ProductionVariants") or []), *(cprops.get("ShadowProductionVariants") or [])]
        for variant in variants:
            self._variant(stack, region, logical_id, res, names, kind, variant)

    def _variant(self, stack, region, logical_id, res, names, kind, variant) -> None:
        variant_name = variant.get("VariantName", "")
        serverless = variant.get("ServerlessConfig")
        if serverless:
            memory = serverless.get("MemorySizeInMB")
            self._usage(stack, logical_id, res, f"serverless {variant_name}",
                        f"inference duration and data processed per request ({memory} MB)")
            provisioned = _int(serverless.get("ProvisionedConcurrency"))
            if provisioned:
                self._unknown(stack, logical_id, res, f"serverless {variant_name}",
                              f"provisioned concurrency {provisioned} x {memory} MB: no price for it in {region}")
            return
        instance_type = variant.get("InstanceType")
        if not isinstance(instance_type, str):
            self._unknown(stack, logical_id, res, f"variant {variant_name}", "instance type not known at synth")
            return
        initial = _int(variant.get("InitialInstanceCount"))
        scaling = variant.get("ManagedInstanceScaling") or {}
        detail_parts = []
        minimum = _int(scaling.get("MinInstanceCount")) if scaling else None
        if scaling and scaling.get("Status", "ENABLED") == "ENABLED" and minimum is not None:
            floor = Decimal(minimum)
            kind = kind or "inference-component "
            detail_parts.append(f"managed instance scaling minimum {floor}")
        else:
            floor = Decimal(initial if initial is not None else 1)
            detail_parts.append(f"initial count {floor}")
        target = next((self.targets[f"endpoint/{n}/variant/{variant_name}"] for n in names
                       if f"endpoint/{n}/variant/{variant_name}" in self.targets), None)
        if target is not None and target.min_capacity is not None:
            floor = Decimal(target.min_capacity)
            detail_parts = [f"autoscaling minimum {target.min_capacity}"]
            if target.actions:
                try:
                    floor = average_minimum(target.min_capacity, target.max_capacity or target.min_capacity,
                                            target.actions)
                    detail_parts.append(f"scheduled actions: time-weighted minimum {_fmt_qty(floor)}")
                except UnsupportedSchedule:
                    lowest = min([target.min_capacity, *(a.min_capacity for a in target.actions
                                                         if a.min_capacity is not None)])
                    floor = Decimal(lowest)
                    detail_parts.append(f"schedule not evaluated; priced at the lowest scheduled minimum {lowest}")
        price = self._rate(P.SAGEMAKER_HOSTING, region, instance_type)
        item = f"{kind}{instance_type} x{_fmt_qty(floor)}".strip()
        if price is None:
            self._unknown(stack, logical_id, res, item,
                          f"no hosting price for {instance_type} in {region} (variant {variant_name}: "
                          f"{'; '.join(detail_parts)}; pass hosting_prices= / --hosting-price to price it)")
            return
        if floor == 0:
            detail_parts.append("scales to zero: no committed instance cost")
        self._line(stack, logical_id, res, item, floor * P.HOURS_PER_MONTH, price,
                   f"variant {variant_name}: {'; '.join(detail_parts)}")

    def _vpc_endpoint(self, stack, region, logical_id, res, props) -> None:
        endpoint_type = props.get("VpcEndpointType", "Gateway")
        service = _render(props.get("ServiceName")) or "?"
        service = service.replace("${AWS::Region}", region)
        if endpoint_type == "Gateway":
            return  # gateway endpoints (S3, DynamoDB) have no hourly or data charge
        if endpoint_type != "Interface":
            self._unknown(stack, logical_id, res, f"{endpoint_type} endpoint {service}", "endpoint type not priced")
            return
        subnets = props.get("SubnetIds")
        if not isinstance(subnets, list):
            self._unknown(stack, logical_id, res, f"interface endpoint {service}",
                          "number of subnets (AZs) not known at synth")
            return
        price = P.price(region, P.INTERFACE_ENDPOINT_AZ_HOUR)
        if price is None:
            self._unknown(stack, logical_id, res, f"interface endpoint {service}", f"no price in {region}")
            return
        self._line(stack, logical_id, res, f"interface endpoint {service}",
                   Decimal(len(subnets)) * P.HOURS_PER_MONTH, price,
                   f"{len(subnets)} AZ(s) x {P.HOURS_PER_MONTH} h; data processed is usage-based")

    def _nat(self, stack, region, logical_id, res, props) -> None:
        self._simple(stack, region, logical_id, res, P.NAT_GATEWAY_HOUR, "NAT gateway", P.HOURS_PER_MONTH,
                     f"{P.HOURS_PER_MONTH} h; data processed is usage-based")

    def _kms(self, stack, region, logical_id, res, props) -> None:
        if props.get("Enabled") in (False, "false"):
            return
        detail = "customer managed key"
        if props.get("EnableKeyRotation") in (True, "true"):
            detail += "; with rotation, the first and second rotation each add $1/month (KMS pricing)"
        self._simple(stack, region, logical_id, res, P.KMS_KEY_MONTH, "KMS key", 1, detail)

    def _replica_key(self, stack, region, logical_id, res, props) -> None:
        if props.get("Enabled") in (False, "false"):
            return
        self._simple(stack, region, logical_id, res, P.KMS_KEY_MONTH, "KMS replica key", 1, "multi-Region replica")

    def _alarm(self, stack, region, logical_id, res, props) -> None:
        metrics = props.get("Metrics")
        if isinstance(metrics, list) and metrics:
            count = sum(1 for m in metrics if isinstance(m, dict) and "MetricStat" in m) or 1
            periods = [_int(m["MetricStat"].get("Period")) for m in metrics
                       if isinstance(m, dict) and isinstance(m.get("MetricStat"), dict)]
            if any("ANOMALY_DETECTION_BAND" in json.dumps(m) for m in metrics):
                self._usage(stack, logical_id, res, "anomaly detection", "anomaly detection model metrics")
        else:
            count, periods = 1, [_int(props.get("Period"))]
        high_res = any(p is not None and p < 60 for p in periods)
        key = P.ALARM_HIGH_RESOLUTION_METRIC_MONTH if high_res else P.ALARM_STANDARD_METRIC_MONTH
        label = "high-resolution alarm" if high_res else "alarm"
        self._simple(stack, region, logical_id, res, key, label, count,
                     f"{count} metric(s); before the CloudWatch free tier")

    def _composite_alarm(self, stack, region, logical_id, res, props) -> None:
        self._simple(stack, region, logical_id, res, P.COMPOSITE_ALARM_MONTH, "composite alarm", 1, "")

    def _secret(self, stack, region, logical_id, res, props) -> None:
        replicas = props.get("ReplicaRegions")
        count = 1 + (len(replicas) if isinstance(replicas, list) else 0)
        self._simple(stack, region, logical_id, res, P.SECRET_MONTH, "secret", count,
                     "API calls are usage-based")

    def _simple(self, stack, region, logical_id, res, key, item, quantity, detail) -> None:
        price = P.price(region, key)
        if price is None:
            self._unknown(stack, logical_id, res, item, f"no price in {region}")
            return
        self._line(stack, logical_id, res, item, quantity, price, detail)

    def _pipeline(self, stack, region, logical_id, res, props) -> None:
        types = _instance_types(props.get("PipelineDefinition", props))
        note = USAGE_TYPES["AWS::SageMaker::Pipeline"]
        self._usage(stack, logical_id, res, ", ".join(types) or "pipeline",
                    note + (f" ({', '.join(types)})" if types else ""))

    def _monitoring_schedule(self, stack, region, logical_id, res, props) -> None:
        resources = stack.template.get("Resources", {})
        config = props.get("MonitoringScheduleConfig", {}) or {}
        definitions = [resources[r].get("Properties", {}) for r in _refs(config.get("MonitoringJobDefinitionName"))
                       if r in resources]
        types = _instance_types([config, *definitions])
        expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
        note = USAGE_TYPES["AWS::SageMaker::MonitoringSchedule"]
        if types:
            note += f" ({', '.join(types)}"
            note += f", schedule {expression})" if isinstance(expression, str) else ")"
        self._usage(stack, logical_id, res, ", ".join(types) or "monitoring", note)

    def _lambda_alias(self, stack, region, logical_id, res, props) -> None:
        provisioned = (props.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions")
        if provisioned:
            self._unknown(stack, logical_id, res, "Lambda provisioned concurrency",
                          f"{provisioned} provisioned executions: no price for it in {region}")

    def _notebook(self, stack, region, logical_id, res, props) -> None:
        self._unknown(stack, logical_id, res, f"notebook instance {props.get('InstanceType', '?')}",
                      "notebook instances bill while InService; not priced")


def _mlflow_tracking_server(self, stack, region, logical_id, res, props) -> None:
    """A managed MLflow tracking server bills per hour while it runs, by size (Small by default;
    https://aws.amazon.com/sagemaker/pricing/): priced from the caller's ``mlflow_prices`` or the
    table's ``SAGEMAKER_MLFLOW`` entry of its size, unknown while neither has one (the table has none
    confirmed yet). It runs around the clock (730 h/month) unless EventBridge Scheduler schedules of
    any template read start and stop it (universal targets ``...:aws-sdk:sagemaker:startMlflowTrackingServer``
    / ``stopMlflowTrackingServer`` whose input names it): then for the hours its schedules leave it
    running, a week simulated minute by minute (:func:`.schedules.running_fraction`) x 730 h."""
    size = props.get("TrackingServerSize") or "Small"
    item = f"MLflow tracking server ({size if isinstance(size, str) else 'size'})"
    hours, running = _mlflow_running_hours(self.running_schedules.get(_render(props.get("TrackingServerName")) or "", []))
    price = self._rate(P.SAGEMAKER_MLFLOW, region, size) if isinstance(size, str) else None
    if price is None:
        self._unknown(stack, logical_id, res, item,
                      f"billed per hour by size (Small/Medium/Large) while running; {running}; no confirmed price "
                      f"in the table (pass mlflow_prices= / --mlflow-price to price it)")
        return
    self._line(stack, logical_id, res, item, hours, price, running)


def _mlflow_running_hours(schedules: list[_RunningSchedule]) -> tuple[Decimal, str]:
    """The monthly running hours of a tracking server under ``schedules`` and how they were found."""
    if not schedules:
        return P.HOURS_PER_MONTH, f"running around the clock ({P.HOURS_PER_MONTH} h/month)"
    starts = [s.expression for s in schedules if s.action == "start"]
    stops = [s.expression for s in schedules if s.action == "stop"]
    shown = "; ".join(f"{s.action} {s.expression}" for s in schedules)
    zones = sorted({s.time_zone or "UTC" for s in schedules})
    try:
        fraction = running_fraction(starts, stops)
    except UnsupportedSchedule:
        return P.HOURS_PER_MONTH, (f"schedule not evaluated ({shown}: only weekly cron() is); priced around the "
                                   f"clock ({P.HOURS_PER_MONTH} h/month)")
    hours = fraction * P.HOURS_PER_MONTH
    weekly = fraction * 168
    zone = f"in {zones[0]}" if len(zones) == 1 else f"in {' and '.join(zones)}, read as one zone (approximate)"
    if zones != ["UTC"] and len(zones) == 1:
        zone += ": the weekly hours are the same in any zone; daylight-saving weeks not modelled"
    return hours, (f"running {_fmt_qty(hours)} h/month on its schedule ({_fmt_qty(weekly)} of 168 h a week; "
                   f"{shown}; {zone})")


_HANDLERS = {
    "AWS::SageMaker::MlflowTrackingServer": _mlflow_tracking_server,
    "AWS::SageMaker::Endpoint": _Builder._endpoint,
    "AWS::EC2::VPCEndpoint": _Builder._vpc_endpoint,
    "AWS::EC2::NatGateway": _Builder._nat,
    "AWS::KMS::Key": _Builder._kms,
    "AWS::KMS::ReplicaKey": _Builder._replica_key,
    "AWS::CloudWatch::Alarm": _Builder._alarm,
    "AWS::CloudWatch::CompositeAlarm": _Builder._composite_alarm,
    "AWS::SecretsManager::Secret": _Builder._secret,
    "AWS::SageMaker::Pipeline": _Builder._pipeline,
    "AWS::SageMaker::MonitoringSchedule": _Builder._monitoring_schedule,
    "AWS::Lambda::Alias": _Builder._lambda_alias,
    "AWS::SageMaker::NotebookInstance": _Builder._notebook,
}

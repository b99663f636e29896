"""The monthly cost a synthesized stack commits to, whether or not anyone uses it.

``estimate_monthly_cost(source)`` reads CloudFormation templates (a CDK ``Stack``, a cloud
assembly directory such as ``cdk.out``, a template file or a template dict) and prices what runs
around the clock at its minimum: instance-backed SageMaker endpoints (real-time, multi-model,
asynchronous, inference-component) at their minimum instance count (autoscaling ``MinCapacity``
overrides the initial count; an inference-component endpoint keeps at least the instances its
components' minimum copies take; scheduled actions are time-weighted over a week; autoscaling and
components count only in their endpoint's account and region), interface VPC
endpoints per Availability Zone, NAT gateways, customer-managed KMS keys, CloudWatch alarms,
Secrets Manager secrets, and managed MLflow tracking servers by their running hours (around the
clock unless EventBridge Scheduler schedules stop and start them). What is billed per use (S3, Lambda, SQS, SNS, logs, serverless
inference, data capture, pipeline and monitoring jobs, Studio apps) is listed as usage-based,
never guessed; an instance type, price or resource type the price table does not cover, and an
instance or copy count that is not a literal (a parameter), is listed as unknown. Prices come from :mod:`sagemaker_constructs.cost.prices` (dated, with sources).

Money is ``decimal.Decimal`` USD, unrounded; ``to_dict``/``to_json`` round monthly figures to
cents and keep unit prices as published.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import ValidationError
from . import prices as P
from .schedules import (ScheduledAction, UnsupportedSchedule, average, running_fraction, weekly_minimums,
                        zones_converted)

_CENT = Decimal("0.01")
_INSTANCE_TYPE = re.compile(r"\bml\.[a-z0-9-]+\.[a-z0-9]+\b")
_SAGEMAKER_VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
_SAGEMAKER_COPY_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
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
    account: str | None = None  # the artifact's environment (with ``region``); None when agnostic

    @property
    def environment(self) -> tuple[str | None, str | None]:
        """``(account, region)`` of the stack's environment, None for what is not concrete: a
        scalable target in one account and region can only scale an endpoint in the same one."""
        return (self.account if _concrete(self.account) else None,
                self.region if _concrete_region(self.region) else None)


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
    builder = _Builder([s for s, _ in resolved], overrides)
    for stack, stack_region in resolved:
        builder.price_stack(stack, stack_region)
    builder.finish()
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
    return _concrete(value)


def _concrete(value: str | None) -> bool:
    """An environment field (account or region) that names one: not ``unknown-account``/``unknown-region``
    or a token."""
    if not value:
        return False
    return value not in ("unknown-account", "unknown-region") and "${" not in value and "Token[" not in value


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
    return _read_stack(source)


def _read_stack(stack: Any) -> list[_StackInput]:
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
    parent = _StackInput(stack.stack_name, artifact.template, artifact.environment.region, paths,
                         artifact.environment.account)
    directory = Path(assembly.directory)
    artifacts = json.loads((directory / "manifest.json").read_text()).get("artifacts", {})
    entry = artifacts.get(stack.artifact_id, {})
    metadata = _artifact_metadata(directory, entry)
    return [parent, *_nested_inputs(directory, artifact.template_file, metadata, parent,
                                    _asset_files(directory, artifacts, entry))]


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
        metadata = _artifact_metadata(directory, artifact)
        paths = {}
        for path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId":
                    paths.setdefault(str(entry.get("data")), path)
        environment = artifact.get("environment", "")
        env_account, env_region = None, None
        if environment.startswith("aws://"):
            env_account, _, env_region = environment.removeprefix("aws://").partition("/")
        name = props.get("stackName") or artifact.get("displayName") or artifact_id
        stacks.append(_StackInput(name, template, env_region or None, paths, env_account or None))
        stacks += _nested_inputs(directory, props["templateFile"], metadata, stacks[-1],
                                 _asset_files(directory, manifest.get("artifacts", {}), artifact))
    return stacks


#: How CDK names a ``NestedStack``'s template (a file asset beside its parent's template).
_NESTED_TEMPLATE_SUFFIX = ".nested.template.json"


def _artifact_metadata(directory: Path, artifact: Mapping[str, Any]) -> dict[str, Any]:
    """A stack artifact's metadata: in the manifest, and in its ``additionalMetadataFile``."""
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
    return metadata


def _asset_files(directory: Path, artifacts: Mapping[str, Any], artifact: Mapping[str, Any]) -> list[str]:
    """The source files of the file assets of the stack ``artifact`` (its asset manifests)."""
    names = []
    for dependency in artifact.get("dependencies") or []:
        manifest = (artifacts.get(dependency) or {})
        if manifest.get("type") == "cdk:asset-manifest" and (manifest.get("properties") or {}).get("file"):
            files = json.loads((directory / manifest["properties"]["file"]).read_text()).get("files") or {}
            names += [str((f.get("source") or {}).get("path")) for f in files.values()]
    return names


def _nested_inputs(directory: Path, template_file: str, metadata: Mapping[str, Any],
                   parent: _StackInput, asset_files: Sequence[str] = ()) -> list[_StackInput]:
    """The parent's ``NestedStack``s (at any depth), each priced as a stack of its own: their
    resources are in their own templates, which the parent names only through an
    ``AWS::CloudFormation::Stack``. CDK records every template of a top-level stack's tree in its
    artifact's metadata (``aws:cdk:templateFile`` at each stack's construct path)."""
    files = {path.lstrip("/"): entry.get("data") for path, entries in metadata.items() for entry in entries or []
             if entry.get("type") == "aws:cdk:templateFile" and isinstance(entry.get("data"), str)}
    root = next((path for path, name in files.items() if name == template_file), None)
    if root is None:  # aws-cdk-lib before the templateFile metadata: the stack's file assets name them
        out = []
        for name in sorted(n for n in asset_files if n.endswith(_NESTED_TEMPLATE_SUFFIX)):
            template = json.loads((directory / name).read_text())
            out.append(_StackInput(f"{parent.name}/{name.removesuffix(_NESTED_TEMPLATE_SUFFIX)}", template,
                                   parent.region, {}, parent.account))
        return out
    nested = [path for path, name in files.items()
              if root is not None and path.startswith(root + "/") and name.endswith(_NESTED_TEMPLATE_SUFFIX)]
    out = []
    for path in sorted(nested):
        template = json.loads((directory / files[path]).read_text())
        deeper = [other + "/" for other in nested if other.startswith(path + "/")]
        paths = {str(entry.get("data")): at for at, entries in metadata.items() for entry in entries or []
                 if entry.get("type") == "aws:cdk:logicalId" and at.lstrip("/").startswith(path + "/")
                 and not at.lstrip("/").startswith(tuple(deeper))}
        out.append(_StackInput(f"{parent.name}/{path[len(root) + 1:]}", template, parent.region, paths,
                               parent.account))
    return out


# ---------------------------------------------------------------------------------------------
# Template helpers
# ---------------------------------------------------------------------------------------------


def _intrinsic(value: Any) -> bool:
    """Whether ``value`` is an intrinsic function or a reference (``{"Fn::If": ...}``, ``{"Ref": ...}``):
    its value is decided at deploy time (a condition, a parameter), not in the template."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _shown(value: Any) -> str:
    """A template value as a note shows it: rendered where it can be, else its JSON."""
    rendered = _render(value)
    return rendered if rendered is not None else json.dumps(value, sort_keys=True, default=str)


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


class _NotLiteral(Exception):
    """A count the floor depends on is in the template but is not a whole-number literal (a
    parameter, an import, a condition, 1.5): the line is listed as unknown, never guessed."""

    def __init__(self, what: str, value: Any) -> None:
        super().__init__(what)
        rendered = _render(value)
        self.what = what
        self.shown = rendered if rendered is not None else json.dumps(value, sort_keys=True, default=str)
        self.literal = isinstance(value, (int, float)) and not isinstance(value, bool)

    def note(self, context: str) -> str:
        reason = "not a whole number" if self.literal else "not known at synth"
        return f"instance count {reason} ({context}: {self.what} {self.shown})"


def _count(value: Any, what: str) -> int | None:
    """A count property: None when absent, else its whole-number value; raises :class:`_NotLiteral`
    for anything else."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    number = _int(value)
    if number is None:
        raise _NotLiteral(what, value)
    return number


def _amount(value: Any) -> Fraction | None:
    """A positive literal resource requirement (CPU cores, MiB, devices) exactly, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        amount = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return amount if amount > 0 else None


def _scope(stack: _StackInput, kind: str, rendered: str) -> tuple[Any, ...]:
    """The key of a rendered resource id or endpoint name (``kind``: a scalable dimension, or
    ``"endpoint"``), where it names the same resource: a literal in every stack of the stack's
    environment (account and region; environment-agnostic stacks together), one with a template
    reference (``${...}``: a parameter, another resource) only in its own template. A target in one
    account or region never scales an endpoint in another."""
    where = ("stack", id(stack)) if "${" in rendered else ("environment", *stack.environment)
    return (*where, kind, rendered)


def _zone_note(zones: set[str] | frozenset[str]) -> str | None:
    """How scheduled actions in several time zones were combined (None for one zone: its weekly
    profile is the same in any zone, shifted)."""
    if len(zones) <= 1:
        return None
    shown = " and ".join(sorted(zones))
    if zones_converted([None if z == "UTC" else z for z in zones]):
        return (f"schedules in {shown} converted to UTC at their mid-January offsets "
                f"(daylight-saving changes not modelled)")
    return f"schedules in {shown} read as one zone (no time zone database here for all of them; approximate)"


def _mean(profile: int | list[int]) -> Decimal:
    return Decimal(profile) if isinstance(profile, int) else average(profile)


def _per_minute(fn: Callable[[tuple[int, ...]], int], profiles: list[int | list[int]]) -> int | list[int]:
    """``fn`` of the profiles' values, minute by minute (a constant when every profile is one)."""
    if all(isinstance(p, int) for p in profiles):
        return fn(tuple(p for p in profiles if isinstance(p, int)))
    length = max(len(p) for p in profiles if isinstance(p, list))
    memo: dict[tuple[int, ...], int] = {}
    out = []
    for minute in range(length):
        values = tuple(p if isinstance(p, int) else p[minute] for p in profiles)
        if values not in memo:
            memo[values] = fn(values)
        out.append(memo[values])
    return out


@dataclass(frozen=True)
class _TargetFloor:
    """What a scalable target commits to: ``profile`` (a constant, or its value at each minute of a
    steady-state week: :func:`.schedules.weekly_minimums`), its ``MinCapacity``,
    how its schedule was read (``None`` without scheduled actions) and the actions' time zones."""

    profile: int | list[int]
    minimum: int
    lowest: int | None = None  # set when the schedule was not evaluated: the lowest scheduled minimum
    zones: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()  # how the actions were read: suspended, ended

    @property
    def scheduled(self) -> bool:
        return isinstance(self.profile, list) or self.lowest is not None


@dataclass
class _ScalableTarget:
    """A scalable target's ``MinCapacity``/``MaxCapacity``/``ScheduledActions``/``SuspendedState``
    as the template has them (read as counts when a line is priced)."""

    min_capacity: Any
    max_capacity: Any
    actions: Any
    logical_id: str
    suspended: Any = None

    def floor(self) -> _TargetFloor:
        """The floor: ``MinCapacity``, time-weighted over weekly ``cron(...)`` scheduled actions
        (the lowest scheduled minimum when a schedule is not evaluated). Actions do not count while
        ``SuspendedState.ScheduledScalingSuspended`` is set, nor once their ``EndTime`` has passed.
        Raises :class:`_NotLiteral` for a count, an action, a suspension or an end that is not a
        literal (a condition or parameter decides it)."""
        minimum = _count(self.min_capacity, "autoscaling MinCapacity")
        assert minimum is not None  # only targets with a MinCapacity are kept
        raw = [] if self.actions is None else self.actions
        if not isinstance(raw, list):
            raise _NotLiteral("autoscaling ScheduledActions", raw)
        if not raw:
            return _TargetFloor(minimum, minimum)
        suspended = {} if self.suspended is None else self.suspended
        flag = suspended.get("ScheduledScalingSuspended") if isinstance(suspended, dict) and not _intrinsic(
            suspended) else suspended
        if flag in (True, "true"):
            return _TargetFloor(minimum, minimum, notes=(
                f"scheduled scaling suspended (SuspendedState): its {len(raw)} scheduled action(s) not counted",))
        if flag not in (None, False, "false"):
            raise _NotLiteral("autoscaling SuspendedState", self.suspended)
        maximum = _count(self.max_capacity, "autoscaling MaxCapacity")
        actions, notes = [], []
        zones_given = [a.get("Timezone") if isinstance(a, dict) else None for a in raw]
        one_zone = all(json.dumps(z, sort_keys=True) == json.dumps(zones_given[0], sort_keys=True) for z in zones_given)
        for action in raw:
            if not isinstance(action, dict) or _intrinsic(action):
                raise _NotLiteral("autoscaling scheduled action", action)
            bounds = action.get("ScalableTargetAction") or {}
            label = f"scheduled action {action.get('ScheduledActionName', '?')}"
            if not isinstance(bounds, dict) or _intrinsic(bounds):
                raise _NotLiteral(f"{label} ScalableTargetAction", bounds)
            if _ended(action.get("EndTime"), label):
                notes.append(f"{label} ended at {action['EndTime']}: not counted")
                continue
            zone = action.get("Timezone")
            if zone is not None and not isinstance(zone, str):
                if not one_zone:  # actions in zones a parameter or condition decides: not comparable
                    raise _NotLiteral(f"{label} Timezone", zone)
                zone = None  # every action in the same (unknown) zone: its weekly profile is the same shifted
            actions.append(ScheduledAction(str(action.get("Schedule", "")),
                                           _count(bounds.get("MinCapacity"), f"{label} MinCapacity"),
                                           _count(bounds.get("MaxCapacity"), f"{label} MaxCapacity"),
                                           zone))
        if not actions:
            return _TargetFloor(minimum, minimum, notes=tuple(notes))
        zones = frozenset(a.time_zone or "UTC" for a in actions)
        try:
            series = weekly_minimums(minimum, maximum if maximum is not None else minimum, actions)
        except UnsupportedSchedule:
            lowest = min([minimum, *(c for a in actions for c in (a.min_capacity, a.max_capacity) if c is not None)])
            return _TargetFloor(lowest, minimum, lowest, zones, tuple(notes))
        return _TargetFloor(series, minimum, None, zones, tuple(notes))


def _ended(value: Any, label: str) -> bool:
    """Whether a scheduled action's ``EndTime`` has passed (it fires no more); raises
    :class:`_NotLiteral` for an end that is not a date-time literal."""
    if value is None:
        return False
    import datetime

    try:
        end = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        end = None
    if end is None:
        raise _NotLiteral(f"{label} EndTime", value)
    if end.tzinfo is None:
        end = end.replace(tzinfo=datetime.timezone.utc)
    return end <= datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class _Component:
    """An inference component: the stack it is in, its rendered name, the variant it runs on, its
    ``CopyCount`` and what one copy reserves (``ComputeResourceRequirements``)."""

    stack: _StackInput
    logical_id: str
    name: str | None
    variant_name: Any
    copy_count: Any
    requirements: Mapping[str, Any]

    @property
    def label(self) -> str:
        return self.name if self.name and "${" not in self.name else self.logical_id


#: ``ComputeResourceRequirements`` fields, by what an instance has of them.
_REQUIREMENTS = {"CPU cores": "NumberOfCpuCoresRequired", "MiB": "MinMemoryRequiredInMb",
                 "accelerator devices": "NumberOfAcceleratorDevicesRequired"}


def _instance_capacity(instance_type: str) -> dict[str, int]:
    """What one ``instance_type`` instance offers a component's copies where the package knows it
    (vCPUs and MiB from the EC2 specifications, accelerator devices from the instance catalog:
    ``inference.endpoints.components``); empty for a type it does not know."""
    from ..inference.endpoints.components import accelerator_facts, cpu_memory

    capacity: dict[str, int] = {}
    shape = cpu_memory(instance_type)
    if shape is not None:
        capacity["CPU cores"], capacity["MiB"] = shape
    devices = accelerator_facts(instance_type)[1]
    if devices:
        capacity["accelerator devices"] = devices
    return capacity


def _instances_for(components: list[_Component], capacity: Mapping[str, int]) -> Callable[[tuple[int, ...]], int]:
    """``copies -> instances``: the fewest instances that can hold ``copies[i]`` copies of
    ``components[i]``: 0 without copies, else at least 1, and at least what the copies' total
    requirements and each component's copies per instance take (a lower bound of the packing:
    SageMaker may need more, never fewer)."""
    needs = [{dim: amount for dim, key in _REQUIREMENTS.items() if dim in capacity
              for amount in [_amount(c.requirements.get(key))] if amount is not None} for c in components]

    def instances(copies: tuple[int, ...]) -> int:
        if not any(k > 0 for k in copies):
            return 0
        count = 1
        for dim, has in capacity.items():
            total = sum((k * need[dim] for k, need in zip(copies, needs) if k > 0 and dim in need), Fraction(0))
            count = max(count, math.ceil(total / has))
        for k, need in zip(copies, needs):
            per_instance = min((int(capacity[dim] // amount) for dim, amount in need.items()), default=0)
            if k > 0 and per_instance > 0:
                count = max(count, math.ceil(Fraction(k, per_instance)))
        return count

    return instances


class _Builder:
    def __init__(self, stacks: list[_StackInput], overrides: dict[str, dict[str, P.Price]] | None = None) -> None:
        self.overrides = overrides or {}
        self.lines: list[CostLine] = []
        self.usage: list[ListedItem] = []
        self.unknown: list[ListedItem] = []
        # Scalable targets and inference components of every stack read, by where their rendered
        # resource id / endpoint name means the same endpoint (_scope): an endpoint and its
        # autoscaling or components may live in different stacks of one environment when the
        # endpoint name is a literal.
        self.targets: dict[tuple[Any, ...], _ScalableTarget] = {}
        self.components: dict[tuple[Any, ...], list[_Component]] = {}
        # Schedules that start/stop tracking servers, by the server name in their input (rendered).
        self.running_schedules: dict[str, list[_RunningSchedule]] = {}
        # Inference components no endpoint read has claimed (by their endpoint name), and those whose
        # endpoint name is not known at synth: listed as unknown at the end (their copies need instances).
        self.claimed: set[tuple[int, str]] = set()
        self.unresolved_components: list[tuple[_StackInput, str, dict[str, Any], Any]] = []
        for stack in stacks:
            for logical_id, res in stack.template.get("Resources", {}).items():
                kind = res.get("Type")
                props = res.get("Properties", {}) or {}
                if kind == "AWS::Scheduler::Schedule":
                    found = _mlflow_schedule(props)
                    expression = props.get("ScheduleExpression")
                    if found is not None and isinstance(expression, str):
                        zone = props.get("ScheduleExpressionTimezone")
                        self.running_schedules.setdefault(found[1], []).append(_RunningSchedule(
                            found[0], expression, zone if isinstance(zone, str) else None, logical_id))
                elif kind == "AWS::SageMaker::InferenceComponent":
                    endpoint = _render(props.get("EndpointName"))
                    if endpoint is None:
                        if props.get("EndpointName") is not None:
                            self.unresolved_components.append((stack, logical_id, res, props.get("EndpointName")))
                        continue
                    specification = props.get("Specification") or {}
                    self.components.setdefault(_scope(stack, "endpoint", endpoint), []).append(_Component(
                        stack, logical_id, _render(props.get("InferenceComponentName")), props.get("VariantName"),
                        (props.get("RuntimeConfig") or {}).get("CopyCount"),
                        specification.get("ComputeResourceRequirements") or {}))
                elif kind == "AWS::ApplicationAutoScaling::ScalableTarget":
                    dimension = props.get("ScalableDimension")
                    resource_id = _render(props.get("ResourceId"))
                    if (dimension not in (_SAGEMAKER_VARIANT_DIMENSION, _SAGEMAKER_COPY_DIMENSION)
                            or resource_id is None or props.get("MinCapacity") is None):
                        continue
                    self.targets[_scope(stack, dimension, resource_id)] = _ScalableTarget(
                        props.get("MinCapacity"), props.get("MaxCapacity"),
                        props.get("ScheduledActions"), logical_id, props.get("SuspendedState"))

    def _rate(self, key: str, region: str, name: str) -> P.Price | None:
        """The price of ``name`` (an instance type, a server size) under ``key``: the caller's
        (``hosting_prices=``/``mlflow_prices=``), else the table's for ``region``, else None."""
        return self.overrides.get(key, {}).get(name) or P.PRICES.get(region, {}).get(key, {}).get(name)

    # -- recording ---------------------------------------------------------------------------

    def _path(self, stack: _StackInput, logical_id: str, res: dict[str, Any]) -> str:
        return res.get("Metadata", {}).get("aws:cdk:path") or stack.paths.get(logical_id, "")

    def _line(self, stack, logical_id, res, item, quantity, price: P.Price, detail="") -> None:
        quantity = Decimal(quantity)
        if isinstance(res.get("Condition"), str):  # priced as if created: the committed cost at most
            detail = "; ".join(x for x in (detail, f"created only where condition {res['Condition']} holds") if x)
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

    def finish(self) -> None:
        """After every stack is priced: the inference components no endpoint read runs, listed as
        unknown (their copies take instances of an endpoint whose cost is not in the estimate)."""
        for components in self.components.values():
            for c in components:
                if (id(c.stack), c.logical_id) not in self.claimed:
                    res = c.stack.template["Resources"][c.logical_id]
                    endpoint = _render(res.get("Properties", {}).get("EndpointName"))
                    self._unknown(c.stack, c.logical_id, res, f"inference component {c.label}",
                                  f"runs on endpoint {endpoint}, which is not among the templates read in this "
                                  f"account and region: the instances its copies take are not priced")
        for stack, logical_id, res, value in self.unresolved_components:
            self._unknown(stack, logical_id, res, "inference component",
                          f"its endpoint is not known at synth ({_shown(value)}): the instances its copies take "
                          f"are not priced")

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
        names = {f"${{{logical_id}.EndpointName}}", f"${{{logical_id}}}"}
        rendered = _render(props.get("EndpointName"))  # a literal, or a parameter's ${Name}
        if rendered is not None:
            names.add(rendered)
        for name in names:  # this endpoint's components: priced with it, or unknown with it
            self.claimed |= {(id(c.stack), c.logical_id) for c in self.components.get(_scope(stack, "endpoint", name), [])}
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
        if not isinstance(cprops, dict) or _intrinsic(cprops):
            self._unknown(stack, logical_id, res, "endpoint",
                          f"its endpoint configuration {config_id} is not known at synth (a condition decides it)")
            return
        kind = "async " if cprops.get("AsyncInferenceConfig") else ""
        capture = cprops.get("DataCaptureConfig") or {}
        if _intrinsic(capture):
            self._usage(stack, logical_id, res, "data capture",
                        "captured requests written to S3 where a condition enables capture")
        elif isinstance(capture, dict) and capture.get("EnableCapture") in (True, "true"):
            pct = capture.get("InitialSamplingPercentage")
            self._usage(stack, logical_id, res, "data capture",
                        f"captured requests written to S3 ({pct}% sampling)" if pct is not None else
                        "captured requests written to S3")
        if kind:
            self._usage(stack, logical_id, res, "async inference",
                        "request payloads and results in S3, notifications in SNS")
        for key in ("ProductionVariants", "ShadowProductionVariants"):
            variants = cprops.get(key) or []
            if not isinstance(variants, list):  # a condition chooses the list
                self._unknown(stack, logical_id, res, f"endpoint {key}",
                              f"{key} not known at synth (a condition decides them): {_shown(variants)}")
                continue
            for variant in variants:
                if not isinstance(variant, dict) or _intrinsic(variant):
                    self._unknown(stack, logical_id, res, f"endpoint {key}",
                                  f"a variant not known at synth (a condition decides it): {_shown(variant)}")
                    continue
                self._variant(stack, region, logical_id, res, names, kind, variant)

    def _variant(self, stack, region, logical_id, res, names, kind, variant) -> None:
        variant_name = variant.get("VariantName", "")
        serverless = variant.get("ServerlessConfig")
        if _intrinsic(serverless):  # serverless, or (with AWS::NoValue) on instances: a condition decides
            self._unknown(stack, logical_id, res, f"variant {variant_name}",
                          f"serverless or instance-backed not known at synth (ServerlessConfig {_shown(serverless)})")
            return
        if serverless:
            memory = serverless.get("MemorySizeInMB")
            self._usage(stack, logical_id, res, f"serverless {variant_name}",
                        f"inference duration and data processed per request ({memory} MB)")
            value = serverless.get("ProvisionedConcurrency")
            provisioned = _int(value)
            if provisioned:
                self._unknown(stack, logical_id, res, f"serverless {variant_name}",
                              f"provisioned concurrency {provisioned} x {memory} MB: no price for it in {region}")
            elif provisioned is None and value is not None:  # a parameter: warm capacity billed by the hour
                self._unknown(stack, logical_id, res, f"serverless {variant_name}",
                              f"provisioned concurrency not known at synth ({_shown(value)}) x {memory} MB: "
                              f"billed while provisioned; no price for it in {region}")
            return
        instance_type = variant.get("InstanceType")
        pools = variant.get("InstancePools")
        if instance_type is None and isinstance(pools, list) and pools:
            shown = ", ".join(_shown(p.get("InstanceType")) if isinstance(p, dict) else _shown(p) for p in pools)
            self._unknown(stack, logical_id, res, f"variant {variant_name}",
                          f"instance pools ({shown}): SageMaker provisions them by priority as capacity allows, "
                          f"so the instance type is not known at synth")
            return
        if not isinstance(instance_type, str):
            self._unknown(stack, logical_id, res, f"variant {variant_name}", "instance type not known at synth")
            return
        scaling = variant.get("ManagedInstanceScaling") or {}
        if _intrinsic(scaling) or not isinstance(scaling, dict) or _intrinsic(scaling.get("Status")):
            self._unknown(stack, logical_id, res, f"{kind}{instance_type}".strip(),
                          f"instance count not known at synth (variant {variant_name}: ManagedInstanceScaling "
                          f"{_shown(scaling)})")
            return
        managed = scaling if scaling and scaling.get("Status", "ENABLED") == "ENABLED" else None
        components = self._components_of(stack, names, variant_name) if managed is not None else []
        if managed is not None and (managed.get("MinInstanceCount") is not None or components):
            kind = kind or "inference-component "
        try:
            floor, detail_parts = self._floor(stack, names, variant_name, variant, instance_type, managed, components)
        except _NotLiteral as exc:
            self._unknown(stack, logical_id, res, f"{kind}{instance_type}".strip(), exc.note(f"variant {variant_name}"))
            return
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

    def _floor(self, stack, names, variant_name, variant, instance_type, managed, components) -> tuple[Decimal, list[str]]:
        """The variant's committed instances (time-weighted) and how they were found: its
        autoscaling ``MinCapacity`` (over scheduled actions), else its managed instance scaling
        minimum, else its initial count; with managed instance scaling, at least the instances its
        inference components' minimum copies take. Raises :class:`_NotLiteral`."""
        target = next((self.targets[key] for key in (
            _scope(stack, _SAGEMAKER_VARIANT_DIMENSION, f"endpoint/{n}/variant/{variant_name}") for n in sorted(names))
            if key in self.targets), None)
        if target is not None:
            found = target.floor()
            base: int | list[int] = found.profile
            parts = [f"autoscaling minimum {found.minimum}"]
            if found.lowest is not None:
                parts.append(f"schedule not evaluated; priced at the lowest scheduled minimum {found.lowest}")
            elif found.scheduled:
                parts.append(f"scheduled actions: time-weighted minimum {_fmt_qty(_mean(base))}")
            parts += found.notes
            zones = set(found.zones)
            if not components and (note := _zone_note(zones)):
                parts.append(note)
        elif managed is not None and managed.get("MinInstanceCount") is not None:
            base = _count(managed.get("MinInstanceCount"), "ManagedInstanceScaling.MinInstanceCount") or 0
            parts, zones = [f"managed instance scaling minimum {base}"], set()
        else:
            initial = _count(variant.get("InitialInstanceCount"), "InitialInstanceCount")
            base = 1 if initial is None else initial
            parts, zones = [f"initial count {base}"], set()
        if components:
            base, more, component_zones = self._component_floor(components, instance_type, base, managed)
            parts += more
            zones |= component_zones
            if note := _zone_note(zones):
                parts.append(note)
        return _mean(base), parts

    def _components_of(self, stack, names, variant_name) -> list[_Component]:
        """The inference components that run on variant ``variant_name`` of the endpoint ``names`` name."""
        found: list[_Component] = []
        for name in sorted(names):
            for component in self.components.get(_scope(stack, "endpoint", name), []):
                # a VariantName a parameter or condition decides may be this variant
                if (not isinstance(component.variant_name, str) or component.variant_name == variant_name) \
                        and component not in found:
                    found.append(component)
        return found

    def _component_floor(self, components, instance_type, base, managed) -> tuple[int | list[int], list[str], set[str]]:
        """``base`` raised, minute by minute, to the instances the components' minimum copies take
        (their copy-count autoscaling ``MinCapacity`` over its scheduled actions, else their
        ``CopyCount``), up to ``ManagedInstanceScaling.MaxInstanceCount``."""
        copies: list[int | list[int]] = []
        shown: list[str] = []
        zones: set[str] = set()
        for component in components:
            target = (self.targets.get(_scope(component.stack, _SAGEMAKER_COPY_DIMENSION,
                                              f"inference-component/{component.name}"))
                      if component.name is not None else None)
            try:
                if target is not None:
                    found = target.floor()
                    copies.append(found.profile)
                    zones |= found.zones
                    if found.lowest is not None:
                        shown.append(f"{component.label} {found.lowest} (lowest scheduled; schedule not evaluated)")
                    elif found.scheduled:
                        shown.append(f"{component.label} {_fmt_qty(_mean(found.profile))} time-weighted")
                    else:
                        shown.append(f"{component.label} {found.minimum}")
                    if found.notes:
                        shown[-1] += f" ({'; '.join(found.notes)})"
                else:
                    count = _count(component.copy_count, "RuntimeConfig.CopyCount")
                    copies.append(1 if count is None else count)
                    shown.append(f"{component.label} {copies[-1]} (no copy-count autoscaling)")
            except _NotLiteral as exc:
                exc.what = f"component {component.label} {exc.what}"
                raise
        try:
            maximum = _count(managed.get("MaxInstanceCount"), "ManagedInstanceScaling.MaxInstanceCount")
        except _NotLiteral:
            maximum = None  # not known: the copies' instances are not capped
        capacity = _instance_capacity(instance_type)
        instances = _instances_for(components, capacity)

        def floor(values: tuple[int, ...]) -> int:
            needed = instances(values[1:])
            return max(values[0], needed if maximum is None else min(needed, maximum))

        result = _per_minute(floor, [base, *copies])
        parts = [f"inference components' minimum copies: {', '.join(shown)}"]
        if capacity:
            has = ", ".join(f"{v} {dim}" for dim, v in capacity.items())
            parts.append(f"copies fitted to {instance_type} ({has} each; at least 1 instance while any copy runs)")
        else:
            parts.append(f"copies per instance not computed (no CPU and memory figures for {instance_type}): "
                         f"at least 1 instance while any copy runs")
        if isinstance(result, list):
            parts.append(f"with the copies' schedules: time-weighted minimum {_fmt_qty(_mean(result))}")
        else:
            parts.append(f"committed instances {result}")
        return result, parts, zones

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
    starts = [(s.expression, s.time_zone) for s in schedules if s.action == "start"]
    stops = [(s.expression, s.time_zone) for s in schedules if s.action == "stop"]
    shown = "; ".join(f"{s.action} {s.expression}" for s in schedules)
    zones = sorted({s.time_zone or "UTC" for s in schedules})
    try:
        fraction = running_fraction(starts, stops)
    except UnsupportedSchedule:
        return P.HOURS_PER_MONTH, (f"schedule not evaluated ({shown}: only weekly cron() is); priced around the "
                                   f"clock ({P.HOURS_PER_MONTH} h/month)")
    hours = fraction * P.HOURS_PER_MONTH
    weekly = fraction * 168
    zone = f"in {zones[0]}" if len(zones) == 1 else str(_zone_note(set(zones)))
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

"""SageMakerChecks: our own SageMaker rules, run as a CDK validation plugin next to the cdk-nag packs.

Each rule is one function over one CloudFormation resource that answers COMPLIANT,
NON_COMPLIANT or NOT_APPLICABLE (as cdk-nag rules do). Findings are acknowledged like any
other: ``acknowledge(construct, reason=..., nag=["SageMaker-ModelNetworkIsolation"])``.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import jsii
from aws_cdk import IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolatingResource, PolicyViolation

from ..validation.instances import has_instance_storage

PACK = "SageMaker"


class Compliance(enum.Enum):
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


C, N, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE
Check = Callable[[Mapping[str, Any]], Compliance]


@dataclass(frozen=True)
class Rule:
    """One rule: the resource type it reads, what it checks, and how to fix a finding."""

    id: str
    resource_type: str
    description: str
    fix: str
    check: Check


def _props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def _flat(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _ok(condition: bool) -> Compliance:
    return C if condition else N


def model_network_isolation(resource: Mapping[str, Any]) -> Compliance:
    return _ok(_props(resource).get("EnableNetworkIsolation") is True)


def model_in_vpc(resource: Mapping[str, Any]) -> Compliance:
    vpc = _props(resource).get("VpcConfig") or {}
    return _ok(bool(vpc.get("Subnets")) and bool(vpc.get("SecurityGroupIds")))


def _instance_store(instance_type: Any) -> bool:
    return isinstance(instance_type, str) and has_instance_storage(instance_type)


def endpoint_config_volume_key(resource: Mapping[str, Any]) -> Compliance:
    variants = _props(resource).get("ProductionVariants") or []
    with_volume = [v for v in variants if isinstance(v, dict) and "ServerlessConfig" not in v
                   and not _instance_store(v.get("InstanceType"))]
    if not with_volume:
        return NA  # serverless or instance-store-only: SageMaker rejects a volume key
    return _ok(bool(_props(resource).get("KmsKeyId")))


def data_capture_encrypted(resource: Mapping[str, Any]) -> Compliance:
    capture = _props(resource).get("DataCaptureConfig")
    if not capture or capture.get("EnableCapture") is False:
        return NA
    return _ok(bool(capture.get("KmsKeyId")))


def endpoint_multi_instance(resource: Mapping[str, Any]) -> Compliance:
    variants = [v for v in _props(resource).get("ProductionVariants") or []
                if isinstance(v, dict) and "ServerlessConfig" not in v]
    if not variants:
        return NA
    counts = [v.get("InitialInstanceCount") for v in variants]
    return _ok(all(not isinstance(c, int) or c >= 2 for c in counts))


def domain_vpc_only(resource: Mapping[str, Any]) -> Compliance:
    return _ok(_props(resource).get("AppNetworkAccessType") == "VpcOnly")


def domain_encrypted(resource: Mapping[str, Any]) -> Compliance:
    return _ok(bool(_props(resource).get("KmsKeyId")))


def domain_notebook_sharing(resource: Mapping[str, Any]) -> Compliance:
    sharing = ((_props(resource).get("DefaultUserSettings") or {}).get("SharingSettings")) or {}
    if sharing.get("NotebookOutputOption", "Allowed") == "Disabled":
        return C
    return _ok(bool(sharing.get("S3KmsKeyId")))


def notebook_instance_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = _props(resource)
    return _ok(p.get("DirectInternetAccess") == "Disabled" and p.get("RootAccess") == "Disabled"
               and bool(p.get("KmsKeyId")) and bool(p.get("SubnetId")))


def no_full_access_policy(resource: Mapping[str, Any]) -> Compliance:
    arns = _props(resource).get("ManagedPolicyArns")
    if not arns:
        return NA
    return _ok("AmazonSageMakerFullAccess" not in _flat(arns))


def pipeline_definition(resource: Mapping[str, Any]) -> dict | None:
    """The inline definition of an ``AWS::SageMaker::Pipeline`` resource, references rendered as
    ``TOKEN``; None when it lives in S3 or cannot be read at synth."""
    body = (_props(resource).get("PipelineDefinition") or {}).get("PipelineDefinitionBody")
    if isinstance(body, dict) and "Fn::Join" in body:
        body = "".join(p if isinstance(p, str) else "TOKEN" for p in body["Fn::Join"][1])
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def pipeline_steps(steps: list) -> list[dict]:
    """Every step of a definition's ``Steps``, including those inside condition steps."""
    found = []
    for step in steps or []:
        found.append(step)
        if step.get("Type") == "Condition":
            args = step.get("Arguments") or {}
            found.extend(pipeline_steps(args.get("IfSteps", []) + args.get("ElseSteps", [])))
    return found


def pipeline_jobs_hardened(resource: Mapping[str, Any]) -> Compliance:
    definition = pipeline_definition(resource)
    if definition is None:
        return NA  # the definition lives in S3 or cannot be read at synth
    jobs = [s for s in pipeline_steps(definition.get("Steps", [])) if s.get("Type") in ("Training", "Processing")]
    if not jobs:
        return NA
    for step in jobs:
        a = step.get("Arguments") or {}
        if step["Type"] == "Training":
            ok = (a.get("EnableNetworkIsolation") is True and (a.get("ResourceConfig") or {}).get("VolumeKmsKeyId")
                  and (a.get("OutputDataConfig") or {}).get("KmsKeyId") and a.get("VpcConfig"))
        else:
            net = a.get("NetworkConfig") or {}
            cluster = (a.get("ProcessingResources") or {}).get("ClusterConfig") or {}
            ok = net.get("EnableNetworkIsolation") is True and cluster.get("VolumeKmsKeyId") and net.get("VpcConfig")
        if not ok:
            return N
    return C


def monitoring_job_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = _props(resource)
    net = p.get("NetworkConfig") or {}
    cluster = (p.get("JobResources") or {}).get("ClusterConfig") or {}
    output = p.get("DataQualityJobOutputConfig") or {}
    return _ok(net.get("EnableNetworkIsolation") is True and bool(cluster.get("VolumeKmsKeyId"))
               and bool(output.get("KmsKeyId")))


RULES: tuple[Rule, ...] = (
    Rule("SageMaker-ModelNetworkIsolation", "AWS::SageMaker::Model",
         "The model's containers have network access (EnableNetworkIsolation is not true).",
         "Model(network_isolation=True) (the default), unless served serverless.", model_network_isolation),
    Rule("SageMaker-ModelInVpc", "AWS::SageMaker::Model",
         "The model's containers do not run in a VPC (no VpcConfig).",
         "Model(vpc=network.vpc), unless served serverless.", model_in_vpc),
    Rule("SageMaker-EndpointConfigVolumeKey", "AWS::SageMaker::EndpointConfig",
         "The endpoint's ML storage volumes are not encrypted with a customer-managed key (no KmsKeyId).",
         "RealtimeEndpoint(encryption_key=key).", endpoint_config_volume_key),
    Rule("SageMaker-DataCaptureEncrypted", "AWS::SageMaker::EndpointConfig",
         "Captured requests and responses are not encrypted with a customer-managed key.",
         "DataCapture(bucket, encryption_key=key), or a bucket with a KMS key.", data_capture_encrypted),
    Rule("SageMaker-EndpointMultiInstance", "AWS::SageMaker::EndpointConfig",
         "A real-time variant starts with one instance: one AZ failure takes the endpoint down.",
         "RealtimeEndpoint(instance_count=2) (the default).", endpoint_multi_instance),
    Rule("SageMaker-DomainVpcOnly", "AWS::SageMaker::Domain",
         "The Studio domain sends traffic through SageMaker's internet path (AppNetworkAccessType not VpcOnly).",
         "StudioDomain (always VpcOnly).", domain_vpc_only),
    Rule("SageMaker-DomainEncrypted", "AWS::SageMaker::Domain",
         "The Studio domain's home EFS and volumes are not encrypted with a customer-managed key.",
         "StudioDomain(encryption_key=key).", domain_encrypted),
    Rule("SageMaker-DomainNotebookSharing", "AWS::SageMaker::Domain",
         "Shared notebook output is allowed without a KMS key.",
         "Disable sharing, or share to a bucket with S3KmsKeyId.", domain_notebook_sharing),
    Rule("SageMaker-NotebookInstanceHardened", "AWS::SageMaker::NotebookInstance",
         "The notebook instance has direct internet access, root access, no KMS key or no VPC subnet.",
         "Use a Studio domain, or set DirectInternetAccess/RootAccess Disabled, KmsKeyId and SubnetId.",
         notebook_instance_hardened),
    Rule("SageMaker-NoFullAccessPolicy", "AWS::IAM::Role",
         "The role has the AWS-managed AmazonSageMakerFullAccess policy.",
         "Use StudioUserRole, JobExecutionRole or ModelHostingRole.", no_full_access_policy),
    Rule("SageMaker-PipelineJobsHardened", "AWS::SageMaker::Pipeline",
         "A training or processing step runs without network isolation, a volume/output KMS key or a VPC.",
         "TrainingPipeline builds every job isolated, encrypted and in the VPC.", pipeline_jobs_hardened),
    Rule("SageMaker-MonitoringJobHardened", "AWS::SageMaker::DataQualityJobDefinition",
         "The monitoring job runs without network isolation or customer-managed keys.",
         "ModelMonitor (isolated, encrypted).", monitoring_job_hardened),
)


def evaluate(template: Mapping[str, Any], rules: tuple[Rule, ...] = RULES) -> dict[str, list[str]]:
    """``{rule id: [logical ids]}`` of the non-compliant resources of a template."""
    findings: dict[str, list[str]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        for rule in rules:
            if resource.get("Type") == rule.resource_type and rule.check(resource) is N:
                findings.setdefault(rule.id, []).append(logical_id)
    return findings


@jsii.implements(IPolicyValidationPlugin)
class SageMakerChecks:
    """Our SageMaker rules as a CDK validation plugin: ``Validations.of(app).add_plugins(SageMakerChecks())``
    (``add_compliance_checks`` registers it with the cdk-nag packs). A finding fails synth unless
    acknowledged as ``SageMaker::<rule id>`` on the resource or one of its parents."""

    def __init__(self, rules: tuple[Rule, ...] = RULES) -> None:
        self._rules = rules

    @property
    def name(self) -> str:
        return PACK

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self._rules]

    @property
    def version(self) -> str:
        return "0.1.0"

    def validate(self, context) -> PolicyValidationPluginReport:  # noqa: ANN001 - jsii context
        by_rule: dict[str, list[PolicyViolatingResource]] = {}
        for path in context.template_paths:
            with open(path, encoding="utf-8") as f:
                template = json.load(f)
            for rule_id, logical_ids in evaluate(template, self._rules).items():
                by_rule.setdefault(rule_id, []).extend(
                    PolicyViolatingResource(locations=[f"/Resources/{lid}"], resource_logical_id=lid,
                                            template_path=path)
                    for lid in logical_ids
                )
        rules = {r.id: r for r in self._rules}
        violations = [
            PolicyViolation(rule_name=rule_id, description=rules[rule_id].description, fix=rules[rule_id].fix,
                            violating_resources=resources, severity="error")
            for rule_id, resources in sorted(by_rule.items())
        ]
        return PolicyValidationPluginReport(success=not violations, violations=violations)

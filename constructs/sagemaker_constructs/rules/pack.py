"""SageMakerChecks: our own SageMaker rules, run as a CDK validation plugin next to the cdk-nag packs.

Each rule lives in its own module of this package (``rules/<rule>.py``, one function over one
CloudFormation resource that answers COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE, as cdk-nag rules
do) and this module lists them. Findings are acknowledged like any other:
``acknowledge(construct, reason=..., nag=["SageMaker-ModelNetworkIsolation"])``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator, Mapping, Sequence

import jsii
from aws_cdk import (
    IPolicyValidationContextBeta1,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)
from constructs import IConstruct

from . import (
    async_output_encrypted,
    canvas_direct_deploy_off,
    component_endpoint_isolated,
    data_capture_encrypted,
    domain_encrypted,
    domain_notebook_sharing,
    domain_vpc_only,
    endpoint_config_volume_key,
    endpoint_multi_instance,
    feature_group_encrypted,
    mlflow_artifacts_encrypted,
    model_bias_job_hardened,
    model_explainability_job_hardened,
    model_in_vpc,
    model_network_isolation,
    model_quality_job_hardened,
    monitoring_job_hardened,
    no_full_access_policy,
    notebook_instance_hardened,
    pipeline_jobs_hardened,
    shadow_variant_encrypted,
)
from ._base import N, Compliance, Rule
from .pipeline_definitions import pipeline_definition, pipeline_steps

PACK = "SageMaker"

#: Every rule of the pack, in the order findings are reported.
RULES: tuple[Rule, ...] = tuple(m.RULE for m in (
    model_network_isolation,
    model_in_vpc,
    endpoint_config_volume_key,
    data_capture_encrypted,
    endpoint_multi_instance,
    async_output_encrypted,
    component_endpoint_isolated,
    domain_vpc_only,
    domain_encrypted,
    domain_notebook_sharing,
    notebook_instance_hardened,
    no_full_access_policy,
    pipeline_jobs_hardened,
    monitoring_job_hardened,
    model_quality_job_hardened,
    model_bias_job_hardened,
    model_explainability_job_hardened,
    feature_group_encrypted,
    canvas_direct_deploy_off,
    shadow_variant_encrypted,
    mlflow_artifacts_encrypted,
))

__all__ = ["PACK", "RULES", "Compliance", "Rule", "SageMakerChecks", "evaluate", "pipeline_definition",
           "pipeline_steps"]


def evaluate(template: Mapping[str, Any], rules: Sequence[Rule] = RULES) -> dict[str, list[str]]:
    """``{rule id: [logical ids]}`` of the non-compliant resources of a template."""
    findings: dict[str, list[str]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        for rule in rules:
            if resource.get("Type") == rule.resource_type and rule.answer(resource, template) is N:
                findings.setdefault(rule.id, []).append(logical_id)
    return findings


NESTED_STACK = "AWS::CloudFormation::Stack"
#: How CDK names a nested stack's template in the cloud assembly (``NestedStack.templateFile``).
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"


def templates_with_nested(template_paths: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, template)`` of each template CDK hands a plugin, then of the nested stacks' templates.

    CDK hands validation plugins the templates of the top-level stacks only; a ``NestedStack``'s
    resources are in its own template (``<id>.nested.template.json``, a file asset written beside
    its parent's), which the parent names only through an ``AWS::CloudFormation::Stack`` with an
    asset URL. So the nested templates in the directory of a template that declares nested stacks
    are read too (nested stacks of nested stacks are written there as well). CDK finds each
    finding's construct by the template's file name and the logical id
    (``ConstructTree.getConstructByLogicalId``), so acknowledgements apply as on any other resource.
    """
    seen: set[str] = set()
    directories: list[str] = []
    for path in template_paths:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        with open(path, encoding="utf-8") as f:
            template = json.load(f)
        yield path, template
        resources = (template.get("Resources") or {}).values()
        if any(isinstance(r, dict) and r.get("Type") == NESTED_STACK for r in resources):
            directory = os.path.dirname(path)
            if directory not in directories:
                directories.append(directory)
    for directory in directories:
        for name in sorted(os.listdir(directory or ".")):
            path = os.path.join(directory, name)
            if not name.endswith(NESTED_TEMPLATE_SUFFIX) or os.path.realpath(path) in seen:
                continue
            seen.add(os.path.realpath(path))
            with open(path, encoding="utf-8") as f:
                yield path, json.load(f)


@jsii.implements(IPolicyValidationPlugin)
class SageMakerChecks:
    """Our SageMaker rules as a CDK validation plugin, built like the cdk-nag packs:
    ``Validations.of(app).add_plugins(SageMakerChecks(app))`` (``SageMakerChecks()`` works too;
    ``add_compliance_checks`` registers it with the cdk-nag packs). A finding fails synth unless
    acknowledged as ``SageMaker::<rule id>`` on the resource or one of its parents.
    """

    def __init__(self, scope: IConstruct | None = None, *, rules: Sequence[Rule] = RULES,
                 verbose: bool = False) -> None:
        """
        :param scope: the app or stage the plugin is registered on, as cdk-nag packs take it
            (``AwsSolutionsChecks(app)``). The checks read every template CDK hands the plugin.
            Default: none.
        :param rules: the rules to run. Default: every rule of the pack (``RULES``).
        :param verbose: append each rule's fix to its finding's description, as cdk-nag's
            ``verbose`` adds explanations (the report's ``fix`` field has it either way). Default: false.
        """
        from ..compliance import note_pack_created

        note_pack_created()  # acknowledgements are written from now on (compliance.when_checked)
        if isinstance(scope, (tuple, list)):  # SageMakerChecks(rules) from before scope came first
            scope, rules = None, scope
        if scope is not None and not hasattr(scope, "node"):  # IConstruct is a protocol
            raise TypeError(f"SageMakerChecks: scope must be a construct (the app), got {type(scope).__name__}; "
                            "pass rules with rules=...")
        if scope is not None:
            from ..compliance import flush_postponed

            flush_postponed(scope)  # nested stages synthesized before the pack existed
        rules = tuple(rules)
        for rule in rules:
            if not isinstance(rule, Rule):
                raise TypeError(f"SageMakerChecks: rules must be Rule objects (see RULES), got {rule!r}")
        self.scope: IConstruct | None = scope
        self._rules = rules
        self._verbose = verbose

    @property
    def name(self) -> str:
        return PACK

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self._rules]

    @property
    def version(self) -> str:
        return "0.1.0"

    def validate(self, context: IPolicyValidationContextBeta1) -> PolicyValidationPluginReport:
        """Run every rule on the templates CDK hands over (``context.template_paths``) and on the
        templates of their nested stacks (:func:`templates_with_nested`)."""
        by_rule: dict[str, list[PolicyViolatingResource]] = {}
        for path, template in templates_with_nested(context.template_paths):
            for rule_id, logical_ids in evaluate(template, self._rules).items():
                by_rule.setdefault(rule_id, []).extend(
                    PolicyViolatingResource(locations=[f"/Resources/{lid}"], resource_logical_id=lid,
                                            template_path=path)
                    for lid in logical_ids
                )
        rules = {r.id: r for r in self._rules}
        violations = [
            PolicyViolation(rule_name=rule_id, description=self._describe(rules[rule_id]), fix=rules[rule_id].fix,
                            violating_resources=resources, severity="error")
            for rule_id, resources in sorted(by_rule.items())
        ]
        return PolicyValidationPluginReport(success=not violations, violations=violations)

    def _describe(self, rule: Rule) -> str:
        return f"{rule.description} Fix: {rule.fix}" if self._verbose else rule.description

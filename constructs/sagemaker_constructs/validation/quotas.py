"""CloudFormation's per-template quotas, checked at synth instead of at deploy.

CloudFormation rejects a template with more than 500 resources, 200 outputs or 200 parameters,
or a body over 1 MB (the limit for a template uploaded to S3, as CDK does), when the stack is
created or updated (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
:func:`add_quota_checks` registers one validation plugin on the app that reads each synthesized
template once, in Python, after synthesis: it costs no call into the CDK's Node process per
resource, and it measures the template CloudFormation would receive. The resource count is also
checked before synthesis (aws-cdk-lib stops a stack over 500 resources there, without saying how
to split it): one ``find_all`` per stack. A stack over a quota fails
``app.synth()`` / ``cdk synth`` with a :class:`~sagemaker_constructs.ValidationError` message
naming the stack, the count, the quota and how to split the stack.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jsii
from aws_cdk import (
    CfnResource,
    IPolicyValidationContextBeta1,
    IPolicyValidationPluginBeta1,
    PolicyValidationPluginReportBeta1,
    PolicyViolatingResourceBeta1,
    PolicyViolationBeta1,
    Stack,
    Stage,
    Validations,
)
from constructs import IValidation

from .checks import ValidationError

#: CloudFormation's template quotas (cloudformation-limits.html): resources, outputs and
#: parameters per template, and the body size of a template uploaded to S3 (bytes).
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_TEMPLATE_BYTES = 1024 * 1024

_LIMITS_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
_SPLIT = (
    "split the stack: move independent parts (e.g. groups of endpoints, a pipeline) into their own "
    "Stack in the same app and pass references between them, or into a NestedStack"
)
#: The plugin's name in validation-report.json.
PLUGIN_NAME = "sagemaker-constructs-cloudformation-quotas"


def quota_violations(stack_name: str, template: dict[str, Any], size: int) -> list[ValidationError]:
    """The quotas ``template`` (``size`` bytes as written) exceeds, as ValidationErrors naming
    ``stack_name``, the count, the quota and how to split the stack."""
    found = []
    for section, limit in (("Resources", MAX_RESOURCES), ("Outputs", MAX_OUTPUTS), ("Parameters", MAX_PARAMETERS)):
        count = len(template.get(section) or ())
        if count > limit:
            found.append(ValidationError(
                stack_name, section.lower(), count,
                f"CloudFormation allows at most {limit} {section.lower()} per template ({_LIMITS_PAGE}); {_SPLIT}",
            ))
    if size > MAX_TEMPLATE_BYTES:
        found.append(ValidationError(
            stack_name, "template size", f"{size} bytes",
            f"CloudFormation accepts a template body of at most 1 MB ({MAX_TEMPLATE_BYTES} bytes) from S3 "
            f"({_LIMITS_PAGE}); {_SPLIT}",
        ))
    return found


@jsii.implements(IPolicyValidationPluginBeta1)
class CloudFormationQuotas:
    """A validation plugin that fails synth for a template over a CloudFormation quota."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str | None:
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        return ["resources", "outputs", "parameters", "template-size"]

    def validate(self, context: IPolicyValidationContextBeta1) -> PolicyValidationPluginReportBeta1:
        violations = []
        for path in context.template_paths:
            size = os.path.getsize(path)
            with open(path, encoding="utf-8") as handle:
                template = json.load(handle)
            stack_name = os.path.basename(path).removesuffix(".template.json")
            for error in quota_violations(stack_name, template, size):
                violations.append(PolicyViolationBeta1(
                    rule_name=f"CloudFormationQuota-{error.argument.replace(' ', '-')}",
                    description=str(error),
                    fix=_SPLIT,
                    violating_resources=[PolicyViolatingResourceBeta1(
                        resource_logical_id=stack_name, template_path=path, locations=[error.argument],
                    )],
                ))
        return PolicyValidationPluginReportBeta1(success=not violations, violations=violations)


@jsii.implements(IValidation)
class _ResourceQuota:
    # aws-cdk-lib itself stops synthesis of a stack over 500 resources (TooManyResourcesInStack,
    # without saying how to split); this runs first, in the validation phase: one find_all per
    # stack, the rest in Python.
    def __init__(self, app: Stage) -> None:
        self._app = app

    def validate(self) -> list[str]:
        stacks = [c for c in self._app.node.find_all() if isinstance(c, Stack)]
        owned = {id(s): [c for c in s.node.find_all() if isinstance(c, CfnResource)] for s in stacks}
        errors = []
        nested_stacks = [s for s in stacks if s.nested_stack_parent is not None]
        for stack in stacks:
            # A nested stack's resources are in its own template, not its parent's.
            nested = {id(r) for other in nested_stacks if _under(other, stack) for r in owned[id(other)]}
            count = len([r for r in owned[id(stack)] if id(r) not in nested])
            if count > MAX_RESOURCES:
                errors.extend(str(e) for e in quota_violations(stack.stack_name, {"Resources": range(count)}, 0))
        return errors


def _under(inner: Stack, outer: Stack) -> bool:
    return inner.node.path.startswith(outer.node.path + "/")


_MARK = "_sagemaker_constructs_quota_checks"


def add_quota_checks(app: Stage) -> None:
    """Check every stack of ``app`` against CloudFormation's template quotas at synth (one
    plugin per app; a second call does nothing). :func:`~sagemaker_constructs.add_compliance_checks`
    calls it."""
    if getattr(app, _MARK, False):
        return
    Validations.of(app).add_plugins(CloudFormationQuotas())
    app.node.add_validation(_ResourceQuota(app))
    setattr(app, _MARK, True)

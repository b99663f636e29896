"""The pull-request review report: ``compare_assemblies(base, head) -> ReviewReport``.

Compares two cloud assembly directories (``cdk.out`` of the base branch and of the head) and
reports, stack by stack, the resources added, removed and modified, and first the stateful
resources CloudFormation would replace (a changed logical ID, or a changed create-only property
read from the resource schemas cfn-lint ships); property changes as paths (an inline pipeline
definition or any other JSON-in-string property compared as structure:
``Steps.Train.ResourceConfig.InstanceType: ml.m5.xlarge -> ml.m5.2xlarge``); IAM changes
(statements, new actions, widened resources, wildcards, trust); security group and network
changes; compliance findings added or resolved per pack; and the fixed monthly cost delta.

Command line: ``python -m sagemaker_constructs.review BASE HEAD [--json] [--fail-on ...]``
(see :mod:`sagemaker_constructs.review.__main__`). cfn-lint is optional: without it the report
says replacements by create-only property were not checked.
"""

from .assembly import Assembly, StackInput, read_assembly
from .compare import DEFAULT_REGION, STATEFUL_TYPES, compare_assemblies
from .findings import FindingChange
from .iam import IamChange
from .jsondiff import Change
from .network import NetworkChange
from .report import (FAIL_ON_CONDITIONS, CostDelta, Removal, Replacement, ResourceChange, ReviewReport, StackDiff,
                     parse_fail_on)

__all__ = ["Assembly", "Change", "CostDelta", "DEFAULT_REGION", "FAIL_ON_CONDITIONS", "FindingChange", "IamChange",
           "NetworkChange", "Removal", "Replacement", "ResourceChange", "ReviewReport", "STATEFUL_TYPES", "StackDiff",
           "StackInput", "compare_assemblies", "parse_fail_on", "read_assembly"]

"""SageMaker-NoFullAccessPolicy: no role carries the AWS-managed AmazonSageMakerFullAccess policy."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, flat, ok, props


def no_full_access_policy(resource: Mapping[str, Any]) -> Compliance:
    arns = props(resource).get("ManagedPolicyArns")
    if not arns:
        return NA
    return ok("AmazonSageMakerFullAccess" not in flat(arns))


RULE = Rule("SageMaker-NoFullAccessPolicy", "AWS::IAM::Role",
            "The role has the AWS-managed AmazonSageMakerFullAccess policy.",
            "Use StudioUserRole, JobExecutionRole or ModelHostingRole.", no_full_access_policy)

"""SageMaker-DomainVpcOnly: a Studio domain sends its traffic through the VPC only."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, ok, props


def domain_vpc_only(resource: Mapping[str, Any]) -> Compliance:
    return ok(props(resource).get("AppNetworkAccessType") == "VpcOnly")


RULE = Rule("SageMaker-DomainVpcOnly", "AWS::SageMaker::Domain",
            "The Studio domain sends traffic through SageMaker's internet path (AppNetworkAccessType not VpcOnly).",
            "StudioDomain (always VpcOnly).", domain_vpc_only)

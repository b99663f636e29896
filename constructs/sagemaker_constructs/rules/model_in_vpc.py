"""SageMaker-ModelInVpc: a model's containers run in a VPC."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, ok, props


def model_in_vpc(resource: Mapping[str, Any]) -> Compliance:
    vpc = props(resource).get("VpcConfig") or {}
    return ok(bool(vpc.get("Subnets")) and bool(vpc.get("SecurityGroupIds")))


RULE = Rule("SageMaker-ModelInVpc", "AWS::SageMaker::Model",
            "The model's containers do not run in a VPC (no VpcConfig).",
            "Model(vpc=network.vpc), unless served serverless.", model_in_vpc)

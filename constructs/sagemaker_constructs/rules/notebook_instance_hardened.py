"""SageMaker-NotebookInstanceHardened: no internet, no root, a KMS key and a VPC subnet."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, ok, props


def notebook_instance_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = props(resource)
    return ok(p.get("DirectInternetAccess") == "Disabled" and p.get("RootAccess") == "Disabled"
              and bool(p.get("KmsKeyId")) and bool(p.get("SubnetId")))


RULE = Rule("SageMaker-NotebookInstanceHardened", "AWS::SageMaker::NotebookInstance",
            "The notebook instance has direct internet access, root access, no KMS key or no VPC subnet.",
            "Use a Studio domain, or set DirectInternetAccess/RootAccess Disabled, KmsKeyId and SubnetId.",
            notebook_instance_hardened)

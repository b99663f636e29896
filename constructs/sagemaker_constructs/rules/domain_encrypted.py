"""SageMaker-DomainEncrypted: a Studio domain's home EFS and volumes use a customer-managed key."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, ok, props


def domain_encrypted(resource: Mapping[str, Any]) -> Compliance:
    return ok(bool(props(resource).get("KmsKeyId")))


RULE = Rule("SageMaker-DomainEncrypted", "AWS::SageMaker::Domain",
            "The Studio domain's home EFS and volumes are not encrypted with a customer-managed key.",
            "StudioDomain(encryption_key=key).", domain_encrypted)

"""SageMaker-DomainNotebookSharing: shared notebook output is disabled or encrypted."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import C, Compliance, Rule, ok, props


def domain_notebook_sharing(resource: Mapping[str, Any]) -> Compliance:
    sharing = ((props(resource).get("DefaultUserSettings") or {}).get("SharingSettings")) or {}
    if sharing.get("NotebookOutputOption", "Allowed") == "Disabled":
        return C
    return ok(bool(sharing.get("S3KmsKeyId")))


RULE = Rule("SageMaker-DomainNotebookSharing", "AWS::SageMaker::Domain",
            "Shared notebook output is allowed without a KMS key.",
            "Disable sharing, or share to a bucket with S3KmsKeyId.", domain_notebook_sharing)

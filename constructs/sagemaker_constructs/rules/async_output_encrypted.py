"""SageMaker-AsyncOutputEncrypted: asynchronous inference results use a customer-managed key."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, ok, props


def async_output_encrypted(resource: Mapping[str, Any]) -> Compliance:
    config = props(resource).get("AsyncInferenceConfig")
    if not isinstance(config, dict):
        return NA
    output = config.get("OutputConfig") or {}
    return ok(isinstance(output, dict) and bool(output.get("KmsKeyId")))


RULE = Rule("SageMaker-AsyncOutputEncrypted", "AWS::SageMaker::EndpointConfig",
            "Asynchronous inference results (and failures) are written to S3 without a customer-managed key "
            "(no AsyncInferenceConfig.OutputConfig.KmsKeyId).",
            "AsyncEndpoint(encryption_key=key).", async_output_encrypted)

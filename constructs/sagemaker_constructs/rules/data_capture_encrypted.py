"""SageMaker-DataCaptureEncrypted: captured requests and responses use a customer-managed key."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, is_false, ok, props


def data_capture_encrypted(resource: Mapping[str, Any]) -> Compliance:
    capture = props(resource).get("DataCaptureConfig")
    if not capture or is_false(capture.get("EnableCapture")):
        return NA
    return ok(bool(capture.get("KmsKeyId")))


RULE = Rule("SageMaker-DataCaptureEncrypted", "AWS::SageMaker::EndpointConfig",
            "Captured requests and responses are not encrypted with a customer-managed key.",
            "DataCapture(bucket, encryption_key=key), or a bucket with a KMS key.", data_capture_encrypted)

"""SageMaker-ShadowVariantEncrypted: a shadow variant's volume and the captures of its responses use a
customer-managed key.

A shadow variant (``ShadowProductionVariants``) receives copies of production requests; data capture
on its endpoint records the shadow's requests and responses too
(https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-create.html: "You can also optionally
turn on Data Capture to log requests and responses of your production and shadow variants"). The
endpoint config's ``KmsKeyId`` encrypts every variant's ML storage volume, so a shadow on an EBS-backed
instance type needs it even where the production variant (on NVMe instance storage) takes none.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..validation.instances import has_instance_storage
from ._base import NA, Compliance, Rule, is_false, ok, props


def shadow_variant_encrypted(resource: Mapping[str, Any]) -> Compliance:
    properties = props(resource)
    shadows = [v for v in properties.get("ShadowProductionVariants") or [] if isinstance(v, dict)]
    if not shadows:
        return NA
    with_volume = [v for v in shadows if "ServerlessConfig" not in v and not (
        isinstance(v.get("InstanceType"), str) and has_instance_storage(v["InstanceType"]))]
    volume_ok = not with_volume or bool(properties.get("KmsKeyId"))
    capture = properties.get("DataCaptureConfig")
    capture_ok = not capture or is_false(capture.get("EnableCapture")) or bool(capture.get("KmsKeyId"))
    return ok(volume_ok and capture_ok)


RULE = Rule("SageMaker-ShadowVariantEncrypted", "AWS::SageMaker::EndpointConfig",
            "A shadow variant's ML storage volume (KmsKeyId) or the data capture recording its responses "
            "(DataCaptureConfig.KmsKeyId) is not encrypted with a customer-managed key.",
            "RealtimeEndpoint(encryption_key=key, data_capture=DataCapture(bucket, encryption_key=key), "
            "shadow=ShadowVariant(...)).", shadow_variant_encrypted)

"""SageMaker-EndpointConfigVolumeKey: endpoint ML storage volumes use a customer-managed key."""

from __future__ import annotations

from typing import Any, Mapping

from ..validation.instances import has_instance_storage
from ._base import NA, Compliance, Rule, ok, props


def _instance_store(instance_type: Any) -> bool:
    return isinstance(instance_type, str) and has_instance_storage(instance_type)


def endpoint_config_volume_key(resource: Mapping[str, Any]) -> Compliance:
    variants = props(resource).get("ProductionVariants") or []
    with_volume = [v for v in variants if isinstance(v, dict) and "ServerlessConfig" not in v
                   and not _instance_store(v.get("InstanceType"))]
    if not with_volume:
        return NA  # serverless or instance-store-only: SageMaker rejects a volume key
    return ok(bool(props(resource).get("KmsKeyId")))


RULE = Rule("SageMaker-EndpointConfigVolumeKey", "AWS::SageMaker::EndpointConfig",
            "The endpoint's ML storage volumes are not encrypted with a customer-managed key (no KmsKeyId).",
            "RealtimeEndpoint(encryption_key=key).", endpoint_config_volume_key)

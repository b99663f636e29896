"""SageMaker-FeatureGroupEncrypted: a feature group's online store and offline store use a customer-managed key."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, is_false, ok, props


def feature_group_encrypted(resource: Mapping[str, Any]) -> Compliance:
    p = props(resource)
    online = p.get("OnlineStoreConfig") or {}
    offline = p.get("OfflineStoreConfig") or {}
    enabled = online.get("EnableOnlineStore")
    online_ok = not enabled or is_false(enabled) or bool((online.get("SecurityConfig") or {}).get("KmsKeyId"))
    offline_ok = not offline or bool((offline.get("S3StorageConfig") or {}).get("KmsKeyId"))
    return ok(online_ok and offline_ok)


RULE = Rule("SageMaker-FeatureGroupEncrypted", "AWS::SageMaker::FeatureGroup",
            "The feature group's online store or offline store is not encrypted with a customer-managed key.",
            "FeatureGroup(encryption_key=key) sets OnlineStoreConfig.SecurityConfig.KmsKeyId and "
            "OfflineStoreConfig.S3StorageConfig.KmsKeyId.", feature_group_encrypted)

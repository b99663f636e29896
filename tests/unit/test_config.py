"""Reference-app configuration read from cdk.json context."""

from __future__ import annotations

import pytest

from sagemaker_constructs import ValidationError
from stacks.config import CONTEXT_KEY, PlatformConfig
from tests.conftest import cdk_context


def test_cdk_json_config_is_valid_and_complete():
    raw = cdk_context()[CONTEXT_KEY]
    config = PlatformConfig.from_context(raw)
    assert config.max_azs == 2
    assert config.endpoints == "auto"
    assert set(raw) == set(PlatformConfig.__dataclass_fields__)


def test_missing_context_gives_defaults():
    assert PlatformConfig.from_context(None) == PlatformConfig()


def test_endpoint_list_becomes_a_tuple():
    assert PlatformConfig.from_context({"endpoints": ["kms", "sts"]}).endpoints == ("kms", "sts")


def test_rejects_unknown_key():
    with pytest.raises(ValidationError, match="maxAzs"):
        PlatformConfig.from_context({"maxAzs": 2})


@pytest.mark.parametrize("key,value", [("max_azs", "2"), ("max_azs", True), ("vpc_cidr", 10), ("endpoints", 3)])
def test_rejects_wrong_types(key, value):
    with pytest.raises(ValidationError, match=key):
        PlatformConfig.from_context({key: value})


def test_rejects_retention_cloudwatch_does_not_offer():
    with pytest.raises(ValidationError, match="log_retention_days"):
        PlatformConfig.from_context({"log_retention_days": 100})


def test_rejects_non_object_context():
    with pytest.raises(ValidationError, match="JSON object"):
        PlatformConfig.from_context(["not", "an", "object"])

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


def test_compliance_context_selects_packs():
    from app import compliance_packs
    from sagemaker_constructs import COMPLIANCE_PACKS, ValidationError, add_compliance_checks
    from tests.conftest import new_app

    assert compliance_packs(True) == compliance_packs("true") == COMPLIANCE_PACKS
    assert compliance_packs(False) == compliance_packs("false") == compliance_packs(None) == ()
    assert compliance_packs("AwsSolutions, SageMaker") == ("AwsSolutions", "SageMaker")
    with pytest.raises(ValidationError, match="packs"):  # a misspelt pack is refused, not skipped
        add_compliance_checks(new_app(), packs=compliance_packs("AwsSolution"))


def test_build_through_a_stack_stops_there():
    import app as reference_app
    from tests.conftest import new_app

    app = new_app()
    assert list(reference_app.build(app, through="inference")) == ["platform", "inference"]
    assert sorted(c.node.id for c in app.node.children if hasattr(c, "template_file")) == sorted(
        [PlatformConfig().stack_name, PlatformConfig().inference_stack_name])
    with pytest.raises(ValueError, match="through='serving': one of platform, inference, mlops, delivery"):
        reference_app.build(new_app(), through="serving")

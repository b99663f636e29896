"""What the platform deploys carries the tag StudioUserRole's guardrails read, in templates and in
the models and endpoint configs deploy-on-approval creates at run time."""

from __future__ import annotations

from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, RealtimeEndpoint, SecureBucket
from sagemaker_constructs.security.roles import PLATFORM_RESOURCE_TAG_KEY, PLATFORM_RESOURCE_TAG_VALUE
from tests.handlers.conftest import load_handler
from tests.harness.templates import resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _tags(props):
    return {t["Key"]: t["Value"] for t in props.get("Tags", [])}


def test_models_endpoint_configs_and_endpoints_are_tagged(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Models", encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key,
                  model_data=ModelData.from_bucket(bucket, "iris/model.tar.gz"))
    RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key)
    t = template_of(stack)
    for kind in ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"):
        found = resources(t, kind)
        assert found, kind
        for logical_id, r in found.items():
            assert _tags(r["Properties"]).get(PLATFORM_RESOURCE_TAG_KEY) == PLATFORM_RESOURCE_TAG_VALUE, logical_id
    # Only SageMaker's deployable resources: the bucket and key are not marked.
    assert PLATFORM_RESOURCE_TAG_KEY not in _tags(next(iter(resources(t, "AWS::S3::Bucket").values()))["Properties"])


def test_deploy_on_approval_handler_tags_with_the_same_key_and_value():
    handler = load_handler("deploy_on_approval")
    assert handler.PLATFORM_TAG == {"Key": PLATFORM_RESOURCE_TAG_KEY, "Value": PLATFORM_RESOURCE_TAG_VALUE}

"""A/B (weighted production) and shadow variants of RealtimeEndpoint: rendering, autoscaling, metrics, rules."""

from __future__ import annotations

import json

import pytest

from sagemaker_constructs import DataCapture, DeploymentGuardrail, RealtimeEndpoint, ShadowVariant, ValidationError
from sagemaker_constructs.inference.endpoints import MAX_PRODUCTION_VARIANTS, Variant
from tests.harness.templates import only, resources, template_of
from tests.unit.test_endpoints import Env


@pytest.fixture
def env(stack):
    return Env(stack)


def _config(t):
    return only(t, "AWS::SageMaker::EndpointConfig")


def test_add_variant_weights_and_own_model(env):
    endpoint = env.realtime(encryption_key=env.key, variant_weight=3)
    challenger = env.model("Challenger")
    variant = endpoint.add_variant("Challenger", model=challenger, instance_type="ml.c5.large", weight=1)
    assert isinstance(variant, Variant) and variant.variant_name == "Challenger"
    t = template_of(env.stack)
    primary, second = _config(t)["ProductionVariants"]
    assert primary["VariantName"] == "AllTraffic" and primary["InitialVariantWeight"] == 3
    assert second == {"VariantName": "Challenger", "ModelName": {"Fn::GetAtt": [second["ModelName"]["Fn::GetAtt"][0],
                                                                                "ModelName"]},
                      "InitialInstanceCount": 1, "InstanceType": "ml.c5.large", "InitialVariantWeight": 1}
    assert second["ModelName"]["Fn::GetAtt"][0].startswith("Challenger")
    assert "ShadowProductionVariants" not in _config(t)


def test_variant_autoscales_on_its_own_target_and_schedule(env):
    endpoint = env.realtime()
    variant = endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", instance_count=1,
                                   max_instance_count=3, target_invocations_per_instance=150)
    variant.scale_on_schedule("Nights", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1)
    t = template_of(env.stack)
    (target,) = resources(t, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert props["ResourceId"] == f"endpoint/{endpoint.endpoint_name}/variant/B"
    assert props["MinCapacity"] == 1 and props["MaxCapacity"] == 3
    assert props["ScheduledActions"][0]["ScheduledActionName"] == "Nights"
    policy = only(t, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 150
    ep = only(t, "AWS::SageMaker::Endpoint")
    assert ep["RetainAllVariantProperties"] is True


@pytest.mark.parametrize("primary_autoscales", [False, True])
def test_an_autoscaled_variant_keeps_weights_following_the_config(env, primary_autoscales):
    """A variant's own autoscaling (add_variant(max_instance_count=...)) retained every variant
    property but data capture, so a changed A/B weight was silently kept at the deployed one."""
    endpoint = env.realtime(**({"max_instance_count": 4} if primary_autoscales else {}))
    endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", weight=0.1, max_instance_count=3)
    ep = only(template_of(env.stack), "AWS::SageMaker::Endpoint")
    assert ep["RetainAllVariantProperties"] is True
    assert ep["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"},
                                                      {"VariantPropertyType": "DataCaptureConfig"}]


def test_shadow_sampling_from_a_parameter_keeps_the_ratio(env):
    """A CfnParameter sampling_percentage was the shadow's weight against the production weight 1:
    a sample of 50 was rendered as 50 times the production traffic, not half of it."""
    from aws_cdk import CfnParameter

    sampling = CfnParameter(env.stack, "Sampling", type="Number", min_value=0, max_value=100).value_as_number
    env.realtime(shadow=ShadowVariant(env.model("Candidate"), "ml.c5.large", sampling_percentage=sampling))
    config = _config(template_of(env.stack))
    (primary,), (shadow,) = config["ProductionVariants"], config["ShadowProductionVariants"]
    assert (primary["InitialVariantWeight"], shadow["InitialVariantWeight"]) == (100, {"Ref": "Sampling"})


def test_a_parameter_variant_weight_with_a_shadow_is_refused(env):
    """variant_weight from a CfnParameter with a shadow: Python multiplied its number encoding and
    wrote InitialVariantWeight -9.4e288 (SageMaker's minimum is 0)."""
    from aws_cdk import CfnParameter

    weight = CfnParameter(env.stack, "Weight", type="Number").value_as_number
    with pytest.raises(ValidationError, match="variant_weight.*a number with a shadow variant"):
        env.realtime(variant_weight=weight, shadow=ShadowVariant(env.model("Candidate"), "ml.c5.large",
                                                                 sampling_percentage=50))


def test_variant_schedule_needs_autoscaling(env):
    variant = env.realtime().add_variant("B", model=env.model("B"), instance_type="ml.m5.large")
    with pytest.raises(ValidationError, match="scale_instances"):
        variant.scale_on_schedule("Nights", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1)


def test_variant_metrics_carry_its_name(env):
    endpoint = env.realtime()
    variant = endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large")
    assert variant.metric_invocations().dimensions == {"EndpointName": endpoint.endpoint_name, "VariantName": "B"}
    assert endpoint.metric_invocations().dimensions["VariantName"] == "AllTraffic"


def test_shadow_variant_renders_shadow_production_variants(env):
    endpoint = env.realtime(shadow=ShadowVariant(env.model("Candidate"), "ml.c5.large", sampling_percentage=25))
    t = template_of(env.stack)
    config = _config(t)
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert production["InitialVariantWeight"] == 1
    assert shadow["VariantName"] == "Shadow" and shadow["InstanceType"] == "ml.c5.large"
    assert shadow["InitialInstanceCount"] == 1 and shadow["InitialVariantWeight"] == 0.25
    assert endpoint.shadow_variant.sampling_percentage == 25
    assert endpoint.shadow_variant.metric_model_latency().dimensions["VariantName"] == "Shadow"


def test_shadow_weight_is_relative_to_production_weight(env):
    endpoint = env.realtime(variant_weight=2)
    endpoint.add_shadow_variant(ShadowVariant(env.model("Candidate"), "ml.c5.large", sampling_percentage=50))
    (shadow,) = _config(template_of(env.stack))["ShadowProductionVariants"]
    assert shadow["InitialVariantWeight"] == 1


def test_variants_share_capture_and_their_models_get_grants(env):
    endpoint = env.realtime(data_capture=DataCapture(env.bucket), encryption_key=env.key)
    endpoint.add_shadow_variant(ShadowVariant(env.model("Candidate"), "ml.c5.large"))
    t = template_of(env.stack)
    config = _config(t)
    assert config["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert config["DataCaptureConfig"]["EnableCapture"] is True
    writers = set()
    for policy in resources(t, "AWS::IAM::ManagedPolicy").values():
        if any("s3:PutObject" in json.dumps(s["Action"]) and "data-capture/*" in json.dumps(s["Resource"])
               for s in policy["Properties"]["PolicyDocument"]["Statement"]):
            writers.update(r["Ref"] for r in policy["Properties"].get("Roles", []))
    assert len(writers) == 2  # the production model's role and the shadow model's role


# ------------------------------------------------------------------ rules


def test_rejects_more_than_ten_production_variants(env):
    endpoint = env.realtime()
    model = env.model("B")
    for i in range(MAX_PRODUCTION_VARIANTS - 1):
        endpoint.add_variant(f"V{i}", model=model, instance_type="ml.m5.large")
    with pytest.raises(ValidationError, match="at most 10 production variants"):
        endpoint.add_variant("Eleventh", model=model, instance_type="ml.m5.large")


def test_rejects_duplicate_variant_names(env):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="unique"):
        endpoint.add_variant("AllTraffic", model=env.model("B"), instance_type="ml.m5.large")


def test_rejects_duplicate_shadow_name(env):
    with pytest.raises(ValidationError, match="unique"):
        env.realtime(shadow=ShadowVariant(env.model("B"), "ml.m5.large", variant_name="AllTraffic"))


@pytest.mark.parametrize("weight", [-1, -0.5, "1"])
def test_rejects_negative_or_non_numeric_weight(env, weight):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="non-negative"):
        endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", weight=weight)


def test_rejects_negative_primary_weight(env):
    with pytest.raises(ValidationError, match="variant_weight"):
        env.realtime(variant_weight=-1)


def test_rejects_all_zero_weights_when_adding(env):
    endpoint = env.realtime(variant_weight=0)
    with pytest.raises(ValidationError, match="weight 0"):
        endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", weight=0)


def test_a_zero_weight_beside_a_positive_one_is_fine(env):
    endpoint = env.realtime(variant_weight=0)
    endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", weight=1)
    weights = [v["InitialVariantWeight"] for v in _config(template_of(env.stack))["ProductionVariants"]]
    assert weights == [0, 1]


def test_all_zero_weights_without_other_variants_fail_synth(env):
    env.realtime(variant_weight=0)
    # A construct validation (variants may still be added): CDK reports it when synthesizing.
    with pytest.raises(RuntimeError, match="weights are all zero"):
        template_of(env.stack)


@pytest.mark.parametrize("percentage", [-1, 101])
def test_rejects_shadow_sampling_outside_0_100(env, percentage):
    with pytest.raises(ValidationError, match="sampling_percentage"):
        env.realtime(shadow=ShadowVariant(env.model("B"), "ml.m5.large", sampling_percentage=percentage))


def test_rejects_second_shadow(env):
    endpoint = env.realtime(shadow=ShadowVariant(env.model("B"), "ml.m5.large"))
    with pytest.raises(ValidationError, match="at most one shadow"):
        endpoint.add_shadow_variant(ShadowVariant(env.model("C"), "ml.m5.large", variant_name="Other"), id="Other")


def test_rejects_shadow_beside_several_production_variants(env):
    endpoint = env.realtime()
    endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large")
    with pytest.raises(ValidationError, match="at most one production variant"):
        endpoint.add_shadow_variant(ShadowVariant(env.model("C"), "ml.m5.large"))


def test_rejects_production_variant_beside_a_shadow(env):
    endpoint = env.realtime(shadow=ShadowVariant(env.model("B"), "ml.m5.large"))
    with pytest.raises(ValidationError, match="shadow variant"):
        endpoint.add_variant("C", model=env.model("C"), instance_type="ml.m5.large")


def test_rejects_shadow_on_zero_weight_production(env):
    with pytest.raises(ValidationError, match="variant_weight"):
        env.realtime(variant_weight=0, shadow=ShadowVariant(env.model("B"), "ml.m5.large"))


def test_rejects_shadow_on_serverless_endpoint(env):
    serverless = env.serverless()
    with pytest.raises(ValidationError, match="RealtimeEndpoint"):
        serverless.add_shadow_variant(ShadowVariant(env.model("B"), "ml.m5.large"))
    with pytest.raises(ValidationError, match="RealtimeEndpoint"):
        serverless.add_variant("B", model=env.model("C"), instance_type="ml.m5.large")


def test_rejects_shadow_keyword_on_serverless_endpoint(stack):
    """The contract's keyword form, ``shadow=ShadowVariant(...)``, is refused the same way."""
    from tests.unit.test_endpoints import Env

    env = Env(stack)
    with pytest.raises(ValidationError, match="shadow.*RealtimeEndpoint"):
        env.serverless(shadow=ShadowVariant(env.model("B"), "ml.m5.large"))


def test_rejects_nvme_variant_with_volume_key(env):
    endpoint = env.realtime(encryption_key=env.key)
    with pytest.raises(ValidationError, match="NVMe"):
        endpoint.add_variant("Gpu", model=env.model("B"), instance_type="ml.g5.xlarge")


def test_rejects_unknown_variant_instance_type_and_count(env):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="instance_type"):
        endpoint.add_variant("B", model=env.model("B"), instance_type="m5.large")
    with pytest.raises(ValidationError, match="instance_count"):
        endpoint.add_variant("C", model=env.model("C"), instance_type="ml.m5.large", instance_count=0)


def test_rejects_bad_variant_name(env):
    with pytest.raises(ValidationError, match="variant_name"):
        env.realtime().add_variant("B", model=env.model("B"), instance_type="ml.m5.large", variant_name="bad_name")


def test_rejects_shadow_autoscaling(env):
    endpoint = env.realtime(shadow=ShadowVariant(env.model("B"), "ml.m5.large"))
    with pytest.raises(ValidationError, match="shadow"):
        endpoint.shadow_variant.scale_instances(max_instance_count=2)


def test_rejects_burstable_variant_autoscaling(env):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="burstable"):
        endpoint.add_variant("B", model=env.model("B"), instance_type="ml.t2.medium", max_instance_count=2)


def test_guardrail_checked_against_each_variant(env):
    endpoint = env.realtime(instance_count=4, deployment=DeploymentGuardrail.canary(instances=2))
    with pytest.raises(ValidationError, match="canary instances"):
        endpoint.add_variant("B", model=env.model("B"), instance_type="ml.m5.large", instance_count=2)


def test_rejects_non_shadow_variant_object(env):
    with pytest.raises(ValidationError, match="ShadowVariant"):
        RealtimeEndpoint(env.stack, "E2", model=env.model("B"), instance_type="ml.m5.large", shadow="ml.c5.large")


def test_shadow_rule_passes_the_secure_setup_and_flags_a_missing_key(env):
    from sagemaker_constructs.rules.pack import RULES, evaluate

    rule = [r for r in RULES if r.id == "SageMaker-ShadowVariantEncrypted"]
    env.realtime(encryption_key=env.key, data_capture=DataCapture(env.bucket),
                 shadow=ShadowVariant(env.model("Candidate"), "ml.c5.large"))
    RealtimeEndpoint(env.stack, "NoKey", model=env.model("Other"), instance_type="ml.m5.large",
                     shadow=ShadowVariant(env.model("Candidate2"), "ml.c5.large"))
    findings = evaluate(template_of(env.stack), rule)
    (flagged,) = findings["SageMaker-ShadowVariantEncrypted"]
    assert flagged.startswith("NoKeyConfig")


def test_guardrail_step_is_not_checked_against_a_shadow(env):
    endpoint = env.realtime(instance_count=2, deployment=DeploymentGuardrail.canary(instances=1),
                            shadow=ShadowVariant(env.model("B"), "ml.m5.large", instance_count=1))
    assert endpoint.shadow_variant.instance_count == 1

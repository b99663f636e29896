"""The reference app's test-stage shadow variant: off by default (the fixed budget has no room for an
always-on instance), and with ``inference_shadow_instance_type`` set, a compliant shadow variant of the
real-time endpoint that the cost estimate prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sagemaker_constructs import estimate_monthly_cost
from stacks.config import CONTEXT_KEY
from stacks.inference import SHADOW_SAMPLING_PERCENTAGE
from tests.conftest import cdk_context, new_app
from tests.harness.reference import synth_checked

import app as reference_app


def test_default_reference_has_no_shadow(reference):
    configs = [r for r in reference.template("inference")["Resources"].values()
               if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    assert configs and not any("ShadowProductionVariants" in c["Properties"] for c in configs)


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("shadow") / "cdk.out"
    platform = {**cdk_context()[CONTEXT_KEY], "inference_shadow_instance_type": "ml.t2.medium"}
    app = new_app(outdir=str(outdir), context={CONTEXT_KEY: platform})
    # Only the stacks the shadow touches: the inference stack and the platform it imports from.
    stacks = reference_app.build(app, through="inference")
    result = synth_checked(app, outdir)
    result.stacks = stacks
    return result


def test_shadow_stage_is_compliant(shadowed):
    """The inference stack with its shadow keeps 0 unacknowledged findings (cdk-nag packs and ours)."""
    inference = shadowed.stacks["inference"].stack_name
    assert [f for f in shadowed.unacknowledged_findings() if f[1].startswith(f"{inference}/")] == []


def test_shadow_stage_renders_the_shadow(shadowed):
    configs = [r["Properties"] for r in shadowed.template("inference")["Resources"].values()
               if r["Type"] == "AWS::SageMaker::EndpointConfig" and "ShadowProductionVariants" in r["Properties"]]
    (config,) = configs
    (shadow,) = config["ShadowProductionVariants"]
    (production,) = config["ProductionVariants"]
    assert shadow["InstanceType"] == "ml.t2.medium" and shadow["InitialInstanceCount"] == 1
    assert shadow["InitialVariantWeight"] == production["InitialVariantWeight"] * SHADOW_SAMPLING_PERCENTAGE / 100
    assert config["KmsKeyId"] and config["DataCaptureConfig"]["KmsKeyId"]


def test_shadow_is_priced(shadowed):
    report = estimate_monthly_cost(shadowed.outdir, region="us-east-1")
    lines = [line for line in report.lines if "variant Shadow" in line.detail]
    (line,) = lines
    assert line.monthly == Decimal("0.056") * 730


def test_a_graviton_shadow_gets_the_arm64_image(tmp_path):
    """``inference_shadow_instance_type`` of a Graviton type: the same artifact on the arm64 image."""
    import json

    import aws_cdk as cdk

    from stacks.inference import SKLEARN_GRAVITON_IMAGE

    platform = {**cdk_context()[CONTEXT_KEY], "inference_shadow_instance_type": "ml.c7g.large"}
    stacks = reference_app.build(new_app(outdir=str(tmp_path), context={CONTEXT_KEY: platform}), through="inference")
    resources = cdk.assertions.Template.from_stack(stacks["inference"]).to_json()["Resources"]
    (config,) = [r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::SageMaker::EndpointConfig" and "ShadowProductionVariants" in r["Properties"]]
    (shadow,) = config["ShadowProductionVariants"]
    model = resources[shadow["ModelName"]["Fn::GetAtt"][0]]["Properties"]
    production = resources[config["ProductionVariants"][0]["ModelName"]["Fn::GetAtt"][0]]["Properties"]
    assert shadow["InstanceType"] == "ml.c7g.large"
    assert SKLEARN_GRAVITON_IMAGE in json.dumps(model["PrimaryContainer"]["Image"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == production["PrimaryContainer"]["ModelDataUrl"]
    assert model["VpcConfig"]["Subnets"] == production["VpcConfig"]["Subnets"] and model["EnableNetworkIsolation"] is True

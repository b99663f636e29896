"""The reference app's test stage: the delivery pipeline's dev ``ServingStack`` runs a Graviton
shadow variant of its real-time endpoint (the approved version on the arm64 scikit-learn image);
prod runs none. The cost estimate lists the Graviton instance as unpriced (no AWS-confirmed rate
in the table) unless the caller supplies a rate."""

from __future__ import annotations

import json
from decimal import Decimal

import aws_cdk as cdk
import pytest

from sagemaker_constructs import ValidationError, estimate_monthly_cost
from stacks.delivery import CONTEXT_KEY, DeliveryConfig, ServingStack
from stacks.inference import SHADOW_SAMPLING_PERCENTAGE, SKLEARN_GRAVITON_IMAGE
from tests.conftest import new_app


def _serving_template(reference, stage):
    delivery = reference.stacks["delivery"]
    (stack,) = [s for s in delivery.delivery.stages[stage].node.children if hasattr(s, "template_file")]
    path = reference.outdir / f"assembly-{delivery.node.id}-Delivery-{stage}" / stack.template_file
    return json.loads(path.read_text())


def _of_type(template, kind):
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == kind}


def test_dev_runs_a_graviton_shadow_of_the_approved_version(reference):
    template = _serving_template(reference, "Dev")
    (config,) = _of_type(template, "AWS::SageMaker::EndpointConfig").values()
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert shadow["InstanceType"] == DeliveryConfig.dev_shadow_instance_type == "ml.c7g.large"
    assert shadow["InitialInstanceCount"] == 1
    assert shadow["InitialVariantWeight"] == production["InitialVariantWeight"] * SHADOW_SAMPLING_PERCENTAGE / 100
    assert config["KmsKeyId"], "the shadow's volume is encrypted with the stage key like the production variant's"
    models = _of_type(template, "AWS::SageMaker::Model")
    graviton = models[shadow["ModelName"]["Fn::GetAtt"][0]]
    assert SKLEARN_GRAVITON_IMAGE in json.dumps(graviton["PrimaryContainer"]["Image"])
    assert graviton["EnableNetworkIsolation"] is True and graviton["VpcConfig"]["Subnets"]
    # The same approved artifact as the production variant's package (placeholder offline).
    assert graviton["PrimaryContainer"]["ModelDataUrl"] == DeliveryConfig.placeholder_model_artifacts
    production_model = models[production["ModelName"]["Fn::GetAtt"][0]]
    assert "ModelPackageName" in production_model["PrimaryContainer"]


def test_the_graviton_model_may_decrypt_the_tooling_artifacts_through_s3_only(reference):
    template = _serving_template(reference, "Dev")
    policies = {**_of_type(template, "AWS::IAM::Policy"), **_of_type(template, "AWS::IAM::ManagedPolicy")}
    statements = [s for p in policies.values()
                  for s in p["PolicyDocument"]["Statement"] if s.get("Sid") == "DecryptToolingArtifacts"]
    assert len(statements) == 2  # the package model's role and the Graviton model's role
    for statement in statements:
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_prod_runs_no_shadow(reference):
    (config,) = _of_type(_serving_template(reference, "Prod"), "AWS::SageMaker::EndpointConfig").values()
    assert "ShadowProductionVariants" not in config


def test_the_dev_shadow_is_listed_unpriced_and_priced_at_the_callers_rate(reference):
    report = estimate_monthly_cost(reference.outdir, region="us-east-1")
    (unpriced,) = [u for u in report.unknown if u.stack == "Dev-Serving"]
    assert unpriced.item == "ml.c7g.large x1" and "no hosting price" in unpriced.note
    assert "variant Shadow" in unpriced.note and "hosting_prices=" in unpriced.note
    assert report.stack_totals()["Dev-Serving"] == report.stack_totals()["Prod-Serving"]
    priced = estimate_monthly_cost(reference.outdir, region="us-east-1", hosting_prices={"ml.c7g.large": "0.1"})
    (line,) = [line for line in priced.lines if line.item == "ml.c7g.large x1"]
    assert line.monthly == Decimal("0.1") * 730 and line.source == "supplied by the caller (hosting_prices=)"
    assert "variant Shadow" in line.detail
    assert not [u for u in priced.unknown if u.stack == "Dev-Serving"]
    assert priced.stack_totals()["Dev-Serving"] - report.stack_totals()["Dev-Serving"] == Decimal("73.0")


def test_no_dev_shadow_when_the_context_says_none(tmp_path):
    app = new_app(outdir=str(tmp_path), context={CONTEXT_KEY: {"dev_shadow_instance_type": ""}})
    import app as reference_app

    stacks = reference_app.build(app)
    (stack,) = [s for s in stacks["delivery"].delivery.stages["Dev"].node.children if hasattr(s, "template_file")]
    configs = [r for r in cdk.assertions.Template.from_stack(stack).to_json()["Resources"].values()
               if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    assert configs and "ShadowProductionVariants" not in configs[0]["Properties"]


def _serving(app, **kwargs):
    return ServingStack(app, "Serving", model_package="arn:aws:sagemaker:us-east-1:111111111111:model-package/iris/1",
                        tooling_account="111111111111", tooling_region="us-east-1", instance_type="ml.m5.large",
                        env=cdk.Environment(account="222222222222", region="us-east-1"), **kwargs)


def test_a_graviton_shadow_needs_the_versions_artifacts(tmp_path):
    with pytest.raises(ValidationError, match="shadow_instance_type.*Graviton shadow serves the version's artifacts"):
        _serving(new_app(outdir=str(tmp_path)), model_artifacts="None", shadow_instance_type="ml.c7g.large")


def test_an_x86_shadow_serves_the_package_itself(tmp_path):
    stack = _serving(new_app(outdir=str(tmp_path)), model_artifacts="None", shadow_instance_type="ml.m5.large")
    template = cdk.assertions.Template.from_stack(stack).to_json()
    (config,) = _of_type(template, "AWS::SageMaker::EndpointConfig").values()
    assert config["ShadowProductionVariants"][0]["ModelName"] == config["ProductionVariants"][0]["ModelName"]
    assert len(_of_type(template, "AWS::SageMaker::Model")) == 1


def test_a_promoted_version_moves_both_the_production_and_the_shadow_model(tmp_path):
    """The pipeline's synth passes the approved version and its artifacts as context: both the
    package model (production variant) and the Graviton model (shadow) follow it."""
    import app as reference_app
    from sagemaker_constructs.mlops.delivery import APPROVED_ARTIFACTS_CONTEXT, APPROVED_VERSION_CONTEXT

    version = "arn:aws:sagemaker:us-east-1:111111111111:model-package/iris/7"
    artifacts = "s3://sagemaker-platform-data-placeholder/pipelines/iris/v7/model.tar.gz"
    app = new_app(outdir=str(tmp_path), context={APPROVED_VERSION_CONTEXT: version,
                                                 APPROVED_ARTIFACTS_CONTEXT: artifacts})
    stacks = reference_app.build(app)
    (stack,) = [s for s in stacks["delivery"].delivery.stages["Dev"].node.children if hasattr(s, "template_file")]
    models = _of_type(cdk.assertions.Template.from_stack(stack).to_json(), "AWS::SageMaker::Model")
    containers = [m["PrimaryContainer"] for m in models.values()]
    assert {c.get("ModelPackageName") for c in containers} == {version, None}
    assert {c.get("ModelDataUrl") for c in containers} == {artifacts, None}

"""The reference app's committed monthly cost stays at least 40 % below the $498 it was before
the cost work (README: Cost estimate), and the platform network pays only for what it uses."""

from __future__ import annotations

import json
from decimal import Decimal

from sagemaker_constructs import estimate_monthly_cost

BEFORE = Decimal("498.00")
#: The interface endpoints ``endpoints="auto"`` derives for the reference app (README).
AUTO_ENDPOINTS = {"sagemaker.api", "sagemaker.runtime", "sts", "sagemaker.featurestore-runtime",
                  "sagemaker.experiments"}


def test_reference_app_costs_at_least_40_percent_less(reference):
    """The three stacks the $498 was measured on (the platform, inference and MLOps stacks)."""
    report = estimate_monthly_cost(reference.outdir, region="us-east-1")
    totals = report.stack_totals()
    three = sum(totals[reference.stacks[key].stack_name] for key in ("platform", "inference", "mlops"))
    assert three <= BEFORE * Decimal("0.6"), report.to_text()


def test_reference_network_has_only_the_endpoints_its_features_use(reference):
    template = json.loads((reference.outdir / f"{reference.stacks['platform'].stack_name}.template.json").read_text())
    (vpc,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPC"]
    reasons = vpc["Metadata"]["sagemaker-constructs:interface-endpoints"]
    assert set(reasons) == AUTO_ENDPOINTS
    assert any("EndpointInvoker /SageMakerInference" in r or "EndpointInvoker SageMakerInference" in r
               for r in reasons["sagemaker.runtime"]), reasons
    interface = [r for r in template["Resources"].values()
                 if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == len(AUTO_ENDPOINTS)


def test_reference_endpoints_keep_office_hours(reference):
    template = json.loads((reference.outdir / f"{reference.stacks['inference'].stack_name}.template.json").read_text())
    targets = [r["Properties"] for r in template["Resources"].values()
               if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
               and r["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
               and any(n in json.dumps(r["Properties"]["ResourceId"]) for n in ("Realtime", "MultiModel"))]
    assert len(targets) == 2
    for target in targets:
        actions = {a["ScheduledActionName"]: a for a in target["ScheduledActions"]}
        assert actions["OfficeHoursStart"]["ScalableTargetAction"] == {"MinCapacity": 2}
        assert actions["OfficeHoursEnd"]["ScalableTargetAction"] == {"MinCapacity": 1}

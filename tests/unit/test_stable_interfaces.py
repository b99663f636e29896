"""Optional features of one reference stack never remove or change an export another imports.

CloudFormation refuses to delete or modify an export while another stack imports it, and CDK
deploys a stack before the stacks that depend on it. So for every pair of configurations (A
deployed, B being deployed), every ``Fn::ImportValue`` of the MLOps stack as deployed in A must
still be exported, with the same value, by the platform and inference stacks of B.
"""

from __future__ import annotations

import itertools
import json

import pytest

import app as reference_app
from stacks.config import CONTEXT_KEY
from tests.conftest import cdk_context, new_app

VARIANTS = {
    "default": {},
    "no-canary": {"inference_canary": False},
    "own-model-security-group": {"inference_dedicated_model_security_group": True},
    "both": {"inference_canary": False, "inference_dedicated_model_security_group": True},
}


def _imports(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            found.add(json.dumps(node["Fn::ImportValue"], sort_keys=True))
        for value in node.values():
            found |= _imports(value)
    elif isinstance(node, list):
        for value in node:
            found |= _imports(value)
    return found


def _synth(overrides: dict) -> dict[str, dict]:
    app = new_app(context={CONTEXT_KEY: {**cdk_context()[CONTEXT_KEY], **overrides}})
    stacks = reference_app.build(app, through="mlops")  # the delivery stack imports nothing of these
    assembly = app.synth()
    return {name: assembly.get_stack_by_name(stack.stack_name).template for name, stack in stacks.items()}


@pytest.fixture(scope="module")
def variants() -> dict[str, dict[str, dict]]:
    return {name: _synth(overrides) for name, overrides in VARIANTS.items()}


def _exports(templates: dict[str, dict]) -> dict[str, object]:
    return {
        json.dumps(output["Export"]["Name"], sort_keys=True): output["Value"]
        for name in ("platform", "inference")
        for output in templates[name].get("Outputs", {}).values()
        if "Export" in output
    }


def test_variants_differ_where_expected(variants):
    """The toggles really change the inference stack (else the test below proves nothing)."""
    default, no_canary, own_sg = (variants[v]["inference"] for v in ("default", "no-canary", "own-model-security-group"))
    endpoint = next(r for r in default["Resources"].values() if r["Type"] == "AWS::SageMaker::Endpoint")
    assert "DeploymentConfig" in endpoint["Properties"]
    endpoint = next(r for r in no_canary["Resources"].values() if r["Type"] == "AWS::SageMaker::Endpoint")
    assert "DeploymentConfig" not in endpoint["Properties"]
    assert any(lid.startswith("ModelSecurityGroup") for lid in own_sg["Resources"])
    assert not any(lid.startswith("ModelSecurityGroup") for lid in default["Resources"])


@pytest.mark.parametrize("deployed,updated", list(itertools.permutations(VARIANTS, 2)))
def test_mlops_imports_survive_an_inference_update(variants, deployed, updated):
    old_imports = _imports(variants[deployed]["mlops"])
    assert old_imports, "the MLOps stack imports nothing: is the test reading the right template?"
    before, after = _exports(variants[deployed]), _exports(variants[updated])
    missing = sorted(i for i in old_imports if i not in after)
    changed = sorted(i for i in old_imports if i in after and after[i] != before[i])
    assert missing == [], f"{updated} removes exports the deployed {deployed} MLOps stack imports: {missing}"
    assert changed == [], f"{updated} changes exports the deployed {deployed} MLOps stack imports: {changed}"


def test_rollback_alarms_are_referenced_by_name_not_export(variants):
    mlops = json.dumps(variants["default"]["mlops"])
    assert not [i for i in _imports(variants["default"]["mlops"]) if "Alarm" in i]
    assert "SageMakerInference-realtime-rollback-5xx" in mlops


def test_deployer_reads_the_model_vpc_config_from_ssm(variants):
    templates = variants["own-model-security-group"]
    params = templates["mlops"].get("Parameters", {})
    assert any(p.get("Type") == "AWS::SSM::Parameter::Value<String>"
               and p.get("Default") == "/SageMakerInference/realtime/model-vpc-config" for p in params.values())
    (ssm,) = [r for r in templates["inference"]["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"]
    assert ssm["Properties"]["Name"] == "/SageMakerInference/realtime/model-vpc-config"
    assert "ModelSecurityGroup" in json.dumps(ssm["Properties"]["Value"])

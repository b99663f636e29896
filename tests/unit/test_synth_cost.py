"""Synth at the speed of raw CloudFormation: no resource that grants nothing, CloudFormation's
template quotas at synth, no compliance bookkeeping without a pack."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from sagemaker_constructs import add_compliance_checks
from sagemaker_constructs.validation.quotas import (
    MAX_OUTPUTS,
    MAX_PARAMETERS,
    MAX_RESOURCES,
    MAX_TEMPLATE_BYTES,
    add_quota_checks,
    quota_violations,
)
from tests.conftest import new_app
from tests.harness.templates import only, template_of
from tests.unit.test_endpoints import Env

SERVICE_LINKED_ROLE = (
    ":role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def _roles_trusting_autoscaling(t):
    return [r for r in t["Resources"].values() if r["Type"] == "AWS::IAM::Role"
            and "application-autoscaling" in str(r["Properties"].get("AssumeRolePolicyDocument"))]


@pytest.mark.parametrize("kind", ["realtime", "serverless"])
def test_scalable_target_uses_the_service_linked_role_and_creates_no_role(stack, kind):
    env = Env(stack)
    if kind == "realtime":
        env.realtime(instance_count=1, max_instance_count=4)
    else:
        env.serverless(provisioned_concurrency=1, max_provisioned_concurrency=4)
    t = template_of(stack)
    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    parts = target["RoleARN"]["Fn::Join"][1]
    assert parts[0] == "arn:" and parts[1] == {"Ref": "AWS::Partition"} and parts[3] == {"Ref": "AWS::AccountId"}
    assert parts[-1].endswith(SERVICE_LINKED_ROLE)
    assert _roles_trusting_autoscaling(t) == []


# --- CloudFormation quotas -------------------------------------------------------------------

def test_quota_violations_pure_python():
    ok = {"Resources": {f"R{i}": {} for i in range(MAX_RESOURCES)}, "Outputs": {f"O{i}": {} for i in range(MAX_OUTPUTS)},
          "Parameters": {f"P{i}": {} for i in range(MAX_PARAMETERS)}}
    assert quota_violations("S", ok, MAX_TEMPLATE_BYTES) == []
    over = {k: {**v, "X": {}} for k, v in ok.items()}
    errors = quota_violations("S", over, MAX_TEMPLATE_BYTES + 1)
    assert [e.argument for e in errors] == ["resources", "outputs", "parameters", "template size"]
    assert all(e.construct_path == "S" and "split the stack" in str(e) for e in errors)
    assert errors[0].value == MAX_RESOURCES + 1


def _app_with(fill):
    app = new_app()
    stack = cdk.Stack(app, "Big")
    fill(stack)
    add_quota_checks(app)
    return app


def _resources(stack, n):
    for i in range(n):
        cdk.CfnWaitConditionHandle(stack, f"H{i}")


def test_more_than_500_resources_fails_synth_naming_the_stack():
    app = _app_with(lambda s: _resources(s, MAX_RESOURCES + 1))
    with pytest.raises(Exception, match=r"Big: invalid resources=501; CloudFormation allows at most 500 resources"):
        app.synth()


def test_500_resources_synthesize():
    _app_with(lambda s: _resources(s, MAX_RESOURCES)).synth()


def test_more_than_200_outputs_fails_synth():
    def fill(stack):
        for i in range(MAX_OUTPUTS + 1):
            cdk.CfnOutput(stack, f"O{i}", value="x")
    with pytest.raises(Exception, match=r"Big: invalid outputs=201;.*split the stack"):
        _app_with(fill).synth()


def test_more_than_200_parameters_fails_synth():
    def fill(stack):
        for i in range(MAX_PARAMETERS):  # and the synthesizer's BootstrapVersion: 201
            cdk.CfnParameter(stack, f"P{i}", default="x")
    with pytest.raises(Exception, match=r"Big: invalid parameters=201;.*split the stack"):
        _app_with(fill).synth()


def test_template_over_1_mb_fails_synth():
    def fill(stack):
        handle = cdk.CfnWaitConditionHandle(stack, "H")
        handle.add_metadata("padding", "x" * MAX_TEMPLATE_BYTES)
    with pytest.raises(Exception, match=r"Big: invalid template size='10\d{5} bytes'; .*at most 1 MB"):
        _app_with(fill).synth()


def test_add_compliance_checks_registers_the_quota_checks_once():
    app = new_app()
    _resources(cdk.Stack(app, "Big"), MAX_RESOURCES + 1)
    add_compliance_checks(app, packs=("SageMaker",))
    add_quota_checks(app)  # a second registration does nothing
    with pytest.raises(Exception, match=r"Big: invalid resources=501") as raised:
        app.synth()
    assert str(raised.value).count("invalid resources=501") == 1


# --- lazy exports ----------------------------------------------------------------------------

def test_import_loads_no_module_until_a_name_is_used():
    import subprocess
    import sys

    code = (
        "import sys, sagemaker_constructs as s\n"
        "assert 'aws_cdk' not in sys.modules and 'sagemaker_constructs.mlops.deploy' not in sys.modules\n"
        "assert set(s.__all__) <= set(dir(s))\n"
        "from sagemaker_constructs import RealtimeEndpoint\n"
        "assert RealtimeEndpoint.__module__.startswith('sagemaker_constructs.inference.endpoints')\n"
        "assert s.RealtimeEndpoint is RealtimeEndpoint\n"
        "try:\n    s.NoSuchName\nexcept AttributeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "has no attribute 'NoSuchName'" in out.stdout


# --- compliance bookkeeping ------------------------------------------------------------------

def _late_ack_app(packs):
    from sagemaker_constructs.compliance import acknowledge_iam_findings_at_synth
    from aws_cdk import aws_iam as iam

    app = new_app()
    stack = cdk.Stack(app, "S")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    acknowledge_iam_findings_at_synth(role, reason="Reads objects of its own bucket; object keys are only known at run time.")
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket/*"]))
    if packs:
        add_compliance_checks(app, packs=("SageMaker",))
    return app


@pytest.mark.parametrize("packs", [False, True])
def test_late_iam_findings_are_computed_at_synth_only_when_a_pack_is_registered(monkeypatch, packs):
    import sagemaker_constructs.compliance as compliance

    calls = []
    original = compliance._iam_findings
    monkeypatch.setattr(compliance, "_iam_findings", lambda c: calls.append(c) or original(c))
    # In a fresh process without a pack nothing could read them (test_deferred_compliance.py runs
    # that); here other tests have loaded cdk-nag, so the process-wide answer is set per case.
    monkeypatch.setattr(compliance, "packs_may_read_acknowledgements", lambda: packs)
    app = _late_ack_app(packs)
    calls.clear()  # the construction-time baseline
    assembly = app.synth()
    assert len(calls) == (1 if packs else 0)
    assert assembly.get_stack_by_name("S").template
    if packs:  # the late grant's finding was acknowledged on the policy
        policy = next(c for c in app.node.find_all() if isinstance(c, cdk.aws_iam.CfnPolicy))
        assert "IAM5[Resource::arn:aws:s3:::bucket/*]" in str([m.data for m in policy.node.metadata])


def test_bench_prints_the_last_whole_suite_run(tmp_path):
    """``make bench`` reports the suite's wall time from the record ``make test`` leaves
    (tests/conftest.py), and says how to get one when there is none."""
    import json
    import sys

    from tests.conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench import last_suite_run

    assert "no whole-suite run recorded" in last_suite_run(tmp_path / "missing.json")
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"seconds": 231.4, "exit_status": 0, "marks": "not typecheck",
                                  "counts": {"passed": 2175, "skipped": 2}, "finished": "2026-12-02T14:30:00+00:00"}))
    line = last_suite_run(record)
    assert "took 231 s wall" in line and "2175 passed" in line and "2 skipped" in line and "; passed;" in line
    record.write_text(json.dumps({"seconds": 10, "exit_status": 1, "counts": {"failed": 1}}))
    assert "exit status 1" in last_suite_run(record)


def _normalized(template: dict) -> dict:
    """A template with logical IDs renamed by type and order (``AWS::IAM::Role#1``) and every
    endpoint name and scaling policy name replaced by its order: what two ways of writing the
    same resources still differ in."""
    resources = template["Resources"]
    seen: dict[str, int] = {}
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        seen[resource["Type"]] = seen.get(resource["Type"], 0) + 1
        names[logical_id] = f"{resource['Type']}#{seen[resource['Type']]}"
    endpoints = [r["Properties"]["EndpointName"] for r in resources.values()
                 if r["Type"] == "AWS::SageMaker::Endpoint" and "EndpointName" in r["Properties"]]

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "Ref" and v in names:
                    out[k] = names[v]
                elif k == "Fn::GetAtt" and v[0] in names:
                    out[k] = [names[v[0]], v[1]]
                elif k == "DependsOn":
                    out[k] = sorted(names.get(d, d) for d in (v if isinstance(v, list) else [v]))
                elif k == "PolicyName" and isinstance(v, str):
                    out[k] = "<policy name>"
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            for j, name in enumerate(endpoints):
                node = node.replace(name, f"<endpoint {j}>")
            return node
        return node

    return {names[k]: walk(v) for k, v in resources.items()}


@pytest.mark.parametrize("kind", ["realtime", "serverless", "multi-model"])
def test_the_same_template_l1_baseline_writes_our_template(kind):
    """benchmarks/bench.py's ``l1_same`` (raw L1s written to match) makes our constructs' template,
    so its ratio measures the constructs' own cost, not what the template carries."""
    import sys

    from tests.conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench import l1_same, ours

    templates = []
    for build in (ours, l1_same):
        app = new_app()
        stack = cdk.Stack(app, "Bench")
        build(stack, kind, 2)
        templates.append(_normalized(app.synth().get_stack_by_name("Bench").template))
    mine, same = templates
    assert sorted(mine) == sorted(same)
    for name in mine:
        assert mine[name] == same[name], name


# The hot paths pass L1 property structs as plain mappings (_internal/l1.py): a generated struct
# class type-checks each field in Python and is turned back into that mapping before Node sees it.
_STRUCT_CLASSES = ("CfnModel.ContainerDefinitionProperty", "CfnModel.VpcConfigProperty",
                   "CfnEndpointConfig.ProductionVariantProperty", "CfnEndpointConfig.ServerlessConfigProperty",
                   "CfnEndpoint.VariantPropertyProperty")


def _count_struct_classes(monkeypatch) -> list[str]:
    from aws_cdk import aws_sagemaker as sm

    made: list[str] = []
    for path in _STRUCT_CLASSES:
        outer, inner = path.split(".")
        klass = getattr(getattr(sm, outer), inner)
        original = klass.__init__

        def counting(self, *args, __original=original, __path=path, **kwargs):
            made.append(__path)
            __original(self, *args, **kwargs)

        monkeypatch.setattr(klass, "__init__", counting)
    original_tag = cdk.CfnTag.__init__

    def counting_tag(self, *args, **kwargs):
        made.append("CfnTag")
        original_tag(self, *args, **kwargs)

    monkeypatch.setattr(cdk.CfnTag, "__init__", counting_tag)
    return made


@pytest.mark.parametrize("kind", ["realtime", "serverless", "vpc"])
def test_model_and_endpoint_hot_paths_build_no_struct_class(stack, monkeypatch, kind):
    from aws_cdk import aws_ec2 as ec2

    made = _count_struct_classes(monkeypatch)
    env = Env(stack)
    if kind == "realtime":
        endpoint = env.realtime(instance_count=1, max_instance_count=4)
        model = endpoint.model
    elif kind == "serverless":
        model = env.serverless().model
    else:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
            ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
        model = env.model(vpc=vpc)
    assert made == []
    # What users read back is still the struct class, and the template holds no unset field.
    assert model.cfn_model.primary_container.mode == "SingleModel"
    if kind == "vpc":
        assert len(model.cfn_model.vpc_config.subnets) == 2
        assert model.vpc_config["Subnets"] == model.cfn_model.vpc_config.subnets
    t = template_of(stack)
    assert set(only(t, "AWS::SageMaker::Model")["PrimaryContainer"]) == {"Image", "ModelDataUrl", "Mode"}
    assert ": null" not in json.dumps(t)


def test_struct_leaves_out_unset_fields():
    from sagemaker_constructs._internal.l1 import struct

    assert struct(variantName="AllTraffic", modelName=None, initialVariantWeight=0) == {
        "variantName": "AllTraffic", "initialVariantWeight": 0}

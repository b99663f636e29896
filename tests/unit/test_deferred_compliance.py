"""Compliance bookkeeping (acknowledgements, IAM finding ids) costs nothing when no pack reads it,
and is written in one pass per stack when one does (issue 11). Run in fresh interpreters: once a
pack exists in a process, every later app there writes its acknowledgements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, sys
    from bench import KernelCalls  # benchmarks/bench.py: the one call counter
    counter = KernelCalls(attribute_to="compliance.py")
    import aws_cdk as cdk
    from sagemaker_constructs import (ContainerImage, Model, ModelData, PlatformKey, RealtimeEndpoint,
                                      SageMakerChecks, SecureBucket)
    app = cdk.App(outdir=sys.argv[1])
    stack = cdk.Stack(app, "S")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    for i in range(3):
        model = Model(stack, f"M{i}", image=ContainerImage.from_uri(
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
            encryption_key=key, model_data=ModelData.from_bucket(bucket, f"m{i}/model.tar.gz"))
        RealtimeEndpoint(stack, f"E{i}", model=model, instance_type="ml.m5.large", max_instance_count=2,
                         encryption_key=key)
    if sys.argv[2] == "pack":  # a pack exists (registering it would also fail on the bare VPC-less models)
        SageMakerChecks(app)
    app.synth()
    print(json.dumps({"all": counter.count, "compliance": counter.made_by}))
''')


def _script(script: str, out: Path, mode: str) -> dict:
    """Run ``script`` in a fresh interpreter (no pack module loaded yet) and read its last line."""
    env = {**os.environ, "CDK_VALIDATION": "false", "PYTHONPATH": os.pathsep.join([str(REPO / "constructs"), str(REPO),
                                                                                  str(REPO / "benchmarks")])}
    proc = subprocess.run([sys.executable, "-c", script, str(out), mode], capture_output=True, text=True,
                          env=env, timeout=240, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "is deprecated" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run(tmp_path: Path, mode: str) -> tuple[dict, int]:
    out = tmp_path / mode
    calls = _script(SCRIPT, out, mode)
    manifest = json.loads((out / "manifest.json").read_text())
    acknowledged = 0
    for artifact in manifest["artifacts"].values():
        metadata = dict(artifact.get("metadata") or {})
        if "additionalMetadataFile" in artifact:
            metadata.update(json.loads((out / artifact["additionalMetadataFile"]).read_text()))
        acknowledged += sum(entry["type"] == "aws:cdk:acknowledged-rules" for entries in metadata.values() for entry in entries)
    return calls, acknowledged


@pytest.mark.slow
def test_bookkeeping_only_when_a_pack_reads_it(tmp_path):
    quiet, none_written = _run(tmp_path, "none")
    checked, written = _run(tmp_path, "pack")
    assert none_written == 0  # nothing reads them: nothing written
    assert written > 0  # with a pack, the endpoints' and roles' acknowledgements are there
    # Without a pack, compliance.py only adds the stack's one ledger (a validation: two calls),
    # looks up the app of a ledger it postpones and gives that app one validation (two calls each,
    # so a pack registered later by any means is served), and writes checkov's skips (checkov
    # reads the template): 10 calls for the key, the buckets and three endpoints when measured
    # (2 December 2026), against 96 when a pack reads them; may only go down.
    assert quiet["compliance"] <= 10, quiet
    assert checked["compliance"] >= 3 * quiet["compliance"], (quiet, checked)


def test_present_findings_of_a_recorded_policy_cost_no_call_and_cover_only_those(tmp_path):
    """``acknowledge_present_findings`` on a policy whose statements are recorded in Python asks
    Node nothing; at validation it acknowledges the findings of those statements, and a wildcard
    added to the policy afterwards stays reported."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench import KernelCalls

    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from sagemaker_constructs._internal.managed_role import service_role
    from sagemaker_constructs.compliance import acknowledge_present_findings
    from tests.conftest import new_app
    from tests.harness.reference import synth_checked

    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    _, policy = service_role(stack, "Role", "Policy", service="lambda.amazonaws.com", description="test role",
                             statements=[iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=["*"])])
    from sagemaker_constructs import acknowledge

    # The stack's one ledger (a validation added to the stack: two calls) is made before counting.
    acknowledge(cdk.CfnWaitConditionHandle(stack, "Other"), reason="nothing to acknowledge here, a test",
                nag=["AwsSolutions-IAM4"])
    counter = KernelCalls(attribute_to="compliance.py")
    acknowledge_present_findings(policy, reason="Log streams are named by Lambda at run time (test reason).")
    assert counter.made_by == 0
    policy.add_statements(iam.PolicyStatement(actions=["s3:Get*"], resources=["arn:aws:s3:::bucket/key"]))
    result = synth_checked(app, tmp_path)
    unacknowledged = [(rule, path) for rule, path, _ in result.unacknowledged_findings() if "IAM5" in rule]
    assert unacknowledged == [("AwsSolutions-IAM5[Action::s3:Get*]", "S/Policy/Resource")], unacknowledged
    acks = result.acknowledgements()["/S/Policy/Resource"]
    # Before aws-cdk-lib 2.269 the granular id is recorded under its bare rule name (make test-min).
    assert [a.removeprefix("AwsSolutions::") for a in acks] == ["AwsSolutions-IAM5[Resource::*]"]


NESTED_SCRIPT = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    from bench import KernelCalls
    counter = KernelCalls(attribute_to="compliance.py")
    import aws_cdk as cdk
    from sagemaker_constructs import (ContainerImage, Model, ModelData, PlatformKey, RealtimeEndpoint,
                                      SecureBucket, add_compliance_checks)
    out = Path(sys.argv[1])
    app = cdk.App(outdir=str(out), context={"@aws-cdk/core:validationReportJson": True})
    stage = cdk.Stage(app, "Dev")
    stack = cdk.Stack(stage, "Serving")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "M", image=ContainerImage.from_uri(
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
        encryption_key=key, model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"))
    RealtimeEndpoint(stack, "E", model=model, instance_type="ml.m5.large", encryption_key=key)
    stage.synth()  # as CDK Pipelines' addStage does while the app is built: validated now, no pack yet
    before = counter.made_by
    if sys.argv[2] == "late-pack":
        add_compliance_checks(app, packs=("AwsSolutions",))  # cdk-nag is imported only now
    elif sys.argv[2] == "by-hand":  # cdk-nag registered by hand; no top-level stack at all
        import cdk_nag
        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    elif sys.argv[2] == "own-registration":  # cdk-nag registered by hand, and a top-level stack of ours
        from sagemaker_constructs import acknowledge
        top = cdk.Stack(app, "Top")
        acknowledge(cdk.CfnWaitConditionHandle(top, "Handle"), reason="nothing to acknowledge here, a test",
                    nag=["AwsSolutions-IAM4"])
        import cdk_nag
        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    report = out / "validation-report.json"
    findings = []
    if report.exists():
        for plugin in json.loads(report.read_text())["pluginReports"]:
            for violation in plugin["violations"]:
                findings += [(violation["ruleName"], c["constructPath"]) for c in violation["violatingConstructs"]]
    print(json.dumps({"early": before, "compliance": counter.made_by, "modules": "cdk_nag" in sys.modules,
                      "error": error, "findings": findings}))
''')


def _run_nested(tmp_path: Path, mode: str) -> dict:
    return _script(NESTED_SCRIPT, tmp_path / mode, mode)


@pytest.mark.slow
def test_a_nested_stage_validated_before_any_pack_is_acknowledged_when_one_is_registered(tmp_path):
    """A nested stage (a CDK Pipelines stage) is validated while the app is built, before app.py
    registers the packs: its acknowledgements wait, cost no call without a pack, and are written
    when a pack is registered, before the app's validation reads them."""
    quiet = _run_nested(tmp_path, "none")
    late = _run_nested(tmp_path, "late-pack")
    assert not quiet["modules"] and quiet["error"] is None
    # Without a pack: checkov's skips, the stack's one ledger and the app's postponement hook; no
    # acknowledgement, no finding id.
    assert quiet["compliance"] <= 16, quiet
    assert late["modules"]
    iam5 = [f for f in late["findings"] if "IAM5" in f[0]]
    assert iam5 == [], iam5  # the role's wildcards (its log streams, image layers) were acknowledged
    assert late["error"] is None, late["error"]
    assert late["compliance"] > late["early"] + 10, late  # the postponed bookkeeping ran, once a pack existed
    # Packs registered without add_compliance_checks: the top-level stack's validation writes them.
    own = _run_nested(tmp_path, "own-registration")
    assert [f for f in own["findings"] if "IAM5" in f[0]] == [] and own["error"] is None, own
    # ... and with no stack of ours outside the stage: the app's own validation writes them.
    by_hand = _run_nested(tmp_path, "by-hand")
    assert [f for f in by_hand["findings"] if "IAM5" in f[0]] == [] and by_hand["error"] is None, by_hand


def test_a_task_added_after_the_bookkeeping_ran_runs_at_the_next_synth(monkeypatch):
    """The ledger remembers how many tasks it ran: an acknowledgement added after a synth (then
    ``app.synth(force=True)``) is written too."""
    import aws_cdk as cdk

    import sagemaker_constructs.compliance as compliance
    from sagemaker_constructs import acknowledge
    from tests.conftest import new_app

    monkeypatch.setattr(compliance, "packs_may_read_acknowledgements", lambda: True)
    app = new_app()
    stack = cdk.Stack(app, "S")
    handles = []
    for name in ("H1", "H2"):
        handles.append(cdk.CfnWaitConditionHandle(stack, name))
        acknowledge(handles[-1], reason="nothing to acknowledge here, a test", nag=["AwsSolutions-IAM4"])
        app.synth(force=True)
    for handle in handles:
        assert [m.data for m in handle.node.metadata if m.type == "aws:cdk:acknowledged-rules"], handle.node.path


def test_generated_findings_cover_only_the_statements_cdk_writes(tmp_path):
    """``acknowledge_generated_findings`` (the Provider framework's and Lambda roles' policies):
    the wildcard of a statement made of the named actions is acknowledged; a statement added with
    any other action keeps its finding."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from sagemaker_constructs.compliance import acknowledge_generated_findings
    from tests.conftest import new_app
    from tests.harness.reference import synth_checked

    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]))
    acknowledge_generated_findings(role, actions=("xray:Put*",), reason="X-Ray takes no resource ARN (a test reason).",
                                   managed_policies=("service-role/AWSLambdaBasicExecutionRole",))
    role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:Get*"], resources=["arn:aws:s3:::bucket/key"]))
    role.add_to_policy(iam.PolicyStatement(actions=["xray:PutTraceSegments", "s3:GetObject"], resources=["arn:aws:s3:::b/*"]))
    result = synth_checked(app, tmp_path)
    reported = sorted(rule for rule, path, _ in result.unacknowledged_findings() if rule.startswith("AwsSolutions-IAM"))
    assert reported == ["AwsSolutions-IAM5[Action::s3:Get*]", "AwsSolutions-IAM5[Resource::arn:aws:s3:::b/*]"], reported
    acks = {a.removeprefix("AwsSolutions::") for by_path in result.acknowledgements().values() for a in by_path}
    assert {"AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"} <= acks


@pytest.mark.parametrize("call", [
    "acknowledge_iam_findings", "acknowledge_statement_findings", "acknowledge_generated_findings",
    "acknowledge_present_findings", "acknowledge_iam_findings_at_synth", "acknowledge"])
@pytest.mark.parametrize("reason", ["ok", "   n/a    ", None])
def test_every_acknowledging_function_refuses_a_reason_that_is_not_specific(call, reason):
    """The reason is checked when the call is made, even where the acknowledgement is written only
    at validation (or never, without a pack), and even where the construct has no finding yet."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from sagemaker_constructs import compliance

    stack = cdk.Stack(cdk.App(), "Reasons")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    extra = {"acknowledge_statement_findings": {"statements": []},
             "acknowledge_generated_findings": {"actions": ["s3:*"]},
             "acknowledge": {"nag": ["AwsSolutions-IAM5"]}}.get(call, {})
    with pytest.raises(ValueError, match="specific reason"):
        getattr(compliance, call)(role, reason=reason, **extra)

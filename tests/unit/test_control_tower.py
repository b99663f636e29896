"""The ControlTower pack (cdk-validator-cfnguard) and its acknowledgement ids."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch

from sagemaker_constructs import ValidationError, acknowledge, add_compliance_checks
from sagemaker_constructs.compliance import control_tower_rule_id, nag_rule_id
from tests.conftest import new_app


@pytest.mark.parametrize("given", [
    "cloudwatch_alarm_action_check",
    "ControlTower-cloudwatch_alarm_action_check",
    "ControlTower::cloudwatch_alarm_action_check",
    "cdk-validator-cfnguard::cloudwatch_alarm_action_check",
])
def test_rule_ids(given):
    assert control_tower_rule_id(given) == "cdk-validator-cfnguard::cloudwatch_alarm_action_check"


def test_nag_ids_accept_control_tower_rules():
    assert nag_rule_id("ControlTower-sqs_dlq_check") == "cdk-validator-cfnguard::sqs_dlq_check"
    assert nag_rule_id("AwsSolutions-IAM5") == "AwsSolutions::AwsSolutions-IAM5"


@pytest.mark.parametrize("bad", ["CT.CLOUDWATCH.PR.1", "Alarm-Action", "", "ControlTower-"])
def test_rejects_what_is_not_a_guard_rule_name(bad):
    with pytest.raises(ValueError, match="Guard rule"):
        control_tower_rule_id(bad)


def test_rejects_unknown_packs():
    with pytest.raises(ValidationError, match="ControlTower"):
        add_compliance_checks(new_app(), packs=["NoSuchPack"])


def _alarm_app(tmp_path, *, acknowledged: bool):
    app = new_app(outdir=str(tmp_path))
    stack = Stack(app, "Alarms")
    metric = cloudwatch.Metric(namespace="Test", metric_name="Errors", period=Duration.minutes(1))
    alarm = cloudwatch.Alarm(stack, "Alarm", metric=metric, threshold=1, evaluation_periods=1)
    if acknowledged:
        acknowledge(alarm, reason="Test alarm read on a dashboard only; it pages nobody by design.",
                    control_tower=["cloudwatch_alarm_action_check"])
    add_compliance_checks(app, packs=["ControlTower"])
    return app


def test_pack_reports_an_alarm_without_action(tmp_path):
    app = _alarm_app(tmp_path, acknowledged=False)
    with pytest.raises(RuntimeError):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert rules == {"cloudwatch_alarm_action_check"}


def test_acknowledged_finding_passes(tmp_path):
    _alarm_app(tmp_path, acknowledged=True).synth()
    assert not (tmp_path / "validation-report.json").exists() or not any(
        p["violations"] for p in json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    )


# --- only the rules that can apply run (ControlTowerChecks) -----------------------------------------

def _guard_findings(tmp_path, name, plugin, build):
    """``{(rule, logical id)}`` the plugin reports on the stack ``build`` makes, acknowledged or not."""
    from aws_cdk import Validations

    outdir = tmp_path / name
    app = new_app(outdir=str(outdir))
    build(Stack(app, "Guarded"))
    Validations.of(app).add_plugins(plugin)
    try:
        app.synth()
    except RuntimeError:
        pass  # findings fail synth; the report is written first
    report = json.loads((outdir / "validation-report.json").read_text())
    return {
        (v["ruleName"], c["cloudFormationResource"]["logicalId"])
        for p in report["pluginReports"] if p["pluginName"] == "cdk-validator-cfnguard"
        for v in p["violations"] + (p.get("suppressedViolations") or []) for c in v["violatingConstructs"]
    }


def _non_compliant(stack):
    """L1 resources each failing several Control Tower controls (none acknowledged)."""
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sqs as sqs

    s3.CfnBucket(stack, "Bucket")
    sqs.CfnQueue(stack, "Queue")
    logs.CfnLogGroup(stack, "Logs")
    cloudwatch.CfnAlarm(stack, "Alarm", comparison_operator="GreaterThanThreshold", evaluation_periods=1,
                        metric_name="Errors", namespace="Test", period=60, statistic="Sum", threshold=1)
    lambda_.CfnFunction(stack, "Function", role="arn:aws:iam::111111111111:role/r", runtime="python3.12",
                        handler="index.handler", code=lambda_.CfnFunction.CodeProperty(zip_file="def handler(e, c): pass"))


def test_the_applicable_rules_find_what_every_rule_finds(tmp_path):
    from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

    from sagemaker_constructs.compliance import ControlTowerChecks

    ours = _guard_findings(tmp_path, "ours", ControlTowerChecks(), _non_compliant)
    every = _guard_findings(tmp_path, "every", CfnGuardValidator(control_tower_rules_enabled=True), _non_compliant)
    assert ours == every
    rules = {rule for rule, _ in ours}
    assert {"sqs_queue_encrypted_check", "cloudwatch_alarm_action_check", "lambda_inside_vpc_check",
            "cloudwatch_log_group_encrypted_check"} <= rules
    assert {logical_id for _, logical_id in ours} >= {"Bucket", "Queue", "Logs", "Alarm", "Function"}


def test_rules_naming_none_of_the_templates_types_are_skipped(tmp_path):
    from aws_cdk import aws_sqs as sqs

    from sagemaker_constructs.compliance import ControlTowerChecks, control_tower_rule_types

    known = control_tower_rule_types()
    assert len(known) >= 200 and all(known.values())  # a new bundle layout or a rule naming no type is noticed
    assert {"AWS::SQS::Queue", "AWS::KMS::Key"} <= known["ct-sqs-pr-2"]
    app = new_app(outdir=str(tmp_path))
    sqs.CfnQueue(Stack(app, "Queues"), "Queue")
    template = tmp_path / "Queues.template.json"
    app.synth()
    run, skipped = ControlTowerChecks().rules_for([str(template)])
    assert {"ct-sqs-pr-1", "ct-sqs-pr-2"} <= set(run)
    assert "ct-rds-pr-1" in skipped and "ct-sqs-pr-2" not in skipped
    assert sorted(run + skipped) == sorted(known)
    assert len(skipped) > 150  # the point of it: most of the 237 rules never start
    run, skipped = ControlTowerChecks(disabled_rules=["ct-sqs-pr-2", "ct-rds-pr-1"]).rules_for([str(template)])
    assert "ct-sqs-pr-2" not in run + skipped and "ct-rds-pr-1" not in run + skipped


def test_disabled_rules_are_honoured(tmp_path):
    from aws_cdk import aws_sqs as sqs

    from sagemaker_constructs.compliance import ControlTowerChecks

    def queue(stack):
        sqs.CfnQueue(stack, "Queue")

    assert "sqs_queue_encrypted_check" in {r for r, _ in _guard_findings(tmp_path, "all", ControlTowerChecks(), queue)}
    found = _guard_findings(tmp_path, "disabled", ControlTowerChecks(disabled_rules=["ct-sqs-pr-2"]), queue)
    assert "sqs_queue_encrypted_check" not in {r for r, _ in found} and found


def test_templates_no_rule_can_apply_to_pass_without_guard(tmp_path):
    from aws_cdk import aws_ssm as ssm

    from sagemaker_constructs.compliance import ControlTowerChecks

    app = new_app(outdir=str(tmp_path))
    ssm.CfnParameter(Stack(app, "Params"), "Param", type="String", value="v")
    plugin = ControlTowerChecks()
    app.synth()
    run, skipped = plugin.rules_for([str(tmp_path / "Params.template.json")])
    assert run == [] and len(skipped) == 237
    # and synth with the plugin registered passes (no cfn-guard run without a rule to give it)
    app = new_app(outdir=str(tmp_path / "checked"))
    ssm.CfnParameter(Stack(app, "Params"), "Param", type="String", value="v")
    from aws_cdk import Validations

    Validations.of(app).add_plugins(plugin)
    app.synth()
    report = tmp_path / "checked" / "validation-report.json"
    assert not report.exists() or not any(
        p["pluginName"] == "cdk-validator-cfnguard" for p in json.loads(report.read_text())["pluginReports"])

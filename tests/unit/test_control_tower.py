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

"""MlflowTrackingServer.add_running_schedule: EventBridge Scheduler starts and stops the server
(universal targets), a role limited to this server, validation, and the cost estimate by running hours."""

from __future__ import annotations

import json
from decimal import Decimal

import aws_cdk as cdk
import pytest

from sagemaker_constructs import MlflowTrackingServer, PlatformKey, SecureBucket, ValidationError, estimate_monthly_cost
from tests.harness.templates import only, resources, template_of

WEEKDAYS_8 = "cron(0 8 ? * MON-FRI *)"
WEEKDAYS_18 = "cron(0 18 ? * MON-FRI *)"
#: Weekdays 08:00-18:00: 50 of the week's 168 hours, x 730 h/month.
OFFICE_HOURS = Decimal(50) / Decimal(168) * Decimal(730)


def _server(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Artifacts", encryption_key=key)
    return MlflowTrackingServer(stack, "Mlflow", artifact_bucket=bucket, encryption_key=key, **kwargs)


def _logical_id(stack, construct) -> str:
    return stack.resolve(construct.logical_id)


def test_start_and_stop_schedules_call_the_universal_targets(stack):
    server = _server(stack, tracking_server_name="team")
    start, stop = server.add_running_schedule(start=WEEKDAYS_8, stop=WEEKDAYS_18, time_zone="Europe/Berlin")
    assert (start.node.id, stop.node.id) == ("OfficeHoursStart", "OfficeHoursStop")
    t = template_of(stack)
    schedules = resources(t, "AWS::Scheduler::Schedule")
    assert len(schedules) == 2
    server_id = _logical_id(stack, server.cfn_tracking_server)
    policy_id = next(k for k in resources(t, "AWS::IAM::ManagedPolicy") if k.startswith("MlflowOfficeHoursPolicy"))
    for schedule, action, expression in ((start, "start", WEEKDAYS_8), (stop, "stop", WEEKDAYS_18)):
        res = schedules[_logical_id(stack, schedule)]
        props = res["Properties"]
        assert props["ScheduleExpression"] == expression
        assert props["ScheduleExpressionTimezone"] == "Europe/Berlin"
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert props["KmsKeyArn"] == {"Fn::GetAtt": [_logical_id(stack, server.encryption_key.node.default_child), "Arn"]}
        target = props["Target"]
        assert target["Arn"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                   f":scheduler:::aws-sdk:sagemaker:{action}MlflowTrackingServer"]]}
        assert json.loads(target["Input"]) == {"TrackingServerName": "team"}
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
        assert set(res["DependsOn"]) >= {server_id, policy_id}


def test_the_scheduler_role_may_only_start_and_stop_this_server(stack):
    server = _server(stack)
    server.add_running_schedule("Nights", start=WEEKDAYS_8, stop=WEEKDAYS_18)
    t = template_of(stack)
    role = next(v for k, v in resources(t, "AWS::IAM::Role").items() if k.startswith("MlflowNightsRole"))
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert principal["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in json.dumps(principal["Condition"])
    policy = next(v for k, v in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("MlflowNightsPolicy"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    server_arn = {"Fn::GetAtt": [_logical_id(stack, server.cfn_tracking_server), "TrackingServerArn"]}
    key_arn = {"Fn::GetAtt": [_logical_id(stack, server.encryption_key.node.default_child), "Arn"]}
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["sagemaker:StartMlflowTrackingServer", "sagemaker:StopMlflowTrackingServer"], server_arn),
        (["kms:Decrypt", "kms:GenerateDataKey"], key_arn),
    ]
    # No time zone: Scheduler's default (UTC).
    assert all("ScheduleExpressionTimezone" not in r["Properties"]
               for r in resources(t, "AWS::Scheduler::Schedule").values())


@pytest.mark.parametrize("kwargs, argument", [
    ({"start": "cron(0 8 * *)", "stop": WEEKDAYS_18}, "start"),           # 4 fields
    ({"start": WEEKDAYS_8, "stop": "at(2026-12-24T18:00:00)"}, "stop"),   # one-time: not office hours
    ({"start": WEEKDAYS_8, "stop": "every evening"}, "stop"),
    ({"start": "rate(12 hours)", "stop": WEEKDAYS_18}, "start"),          # valid for Scheduler, not here
    ({"start": WEEKDAYS_8, "stop": "rate(1 day)"}, "stop"),
    ({"start": WEEKDAYS_8, "stop": WEEKDAYS_8}, "stop"),                  # start == stop
    ({"start": WEEKDAYS_8, "stop": WEEKDAYS_18, "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"start": None, "stop": WEEKDAYS_18}, "start"),
])
def test_bad_schedules_are_refused(stack, kwargs, argument):
    server = _server(stack)
    with pytest.raises(ValidationError, match=f"invalid {argument}="):
        server.add_running_schedule(**kwargs)


def test_rate_is_refused_with_a_reason(stack):
    with pytest.raises(ValidationError, match="rate\\(\\) schedule cannot name the times of day"):
        _server(stack).add_running_schedule(start="rate(12 hours)", stop=WEEKDAYS_18)


def test_the_same_id_twice_is_refused(stack):
    server = _server(stack)
    server.add_running_schedule(start=WEEKDAYS_8, stop=WEEKDAYS_18)
    with pytest.raises(ValidationError, match="not yet used by add_running_schedule"):
        server.add_running_schedule(start="cron(0 9 ? * SAT *)", stop="cron(0 13 ? * SAT *)")
    # Another id is another pair of schedules (weekends, say), with its own role.
    server.add_running_schedule("Saturdays", start="cron(0 9 ? * SAT *)", stop="cron(0 13 ? * SAT *)")
    assert len(resources(template_of(stack), "AWS::Scheduler::Schedule")) == 4


@pytest.mark.parametrize("bad_id", ["", "Office Hours", "9am", "Office/Hours"])
def test_a_bad_id_is_refused(stack, bad_id):
    with pytest.raises(ValidationError, match="invalid id="):
        _server(stack).add_running_schedule(bad_id, start=WEEKDAYS_8, stop=WEEKDAYS_18)


def test_tokens_pass(stack):
    name = cdk.CfnParameter(stack, "ServerName").value_as_string
    start = cdk.CfnParameter(stack, "Start").value_as_string
    server = _server(stack, tracking_server_name=name)
    server.add_running_schedule(start=start, stop=WEEKDAYS_18, time_zone=cdk.Aws.REGION)
    schedules = list(resources(template_of(stack), "AWS::Scheduler::Schedule").values())
    assert {json.dumps(s["Properties"]["Target"]["Input"]) for s in schedules} == {
        json.dumps({"Fn::Join": ["", ['{"TrackingServerName":"', {"Ref": "ServerName"}, '"}']]})}
    assert schedules[0]["Properties"]["ScheduleExpression"] == {"Ref": "Start"}


def test_the_estimate_prices_the_server_by_its_running_hours(stack):
    server = _server(stack)
    server.add_running_schedule(start=WEEKDAYS_8, stop=WEEKDAYS_18)
    unpriced = estimate_monthly_cost(stack, region="us-east-1")
    (item,) = [u for u in unpriced.unknown if u.resource_type == "AWS::SageMaker::MlflowTrackingServer"]
    assert "running 217.26 h/month on its schedule" in item.note and "in UTC" in item.note
    priced = estimate_monthly_cost(stack, region="us-east-1", mlflow_prices={"Small": "0.5"})
    (line,) = [li for li in priced.lines if li.resource_type == "AWS::SageMaker::MlflowTrackingServer"]
    assert line.quantity == OFFICE_HOURS and line.monthly == OFFICE_HOURS * Decimal("0.5")


def test_the_estimate_matches_a_server_named_by_a_parameter(stack):
    name = cdk.CfnParameter(stack, "ServerName").value_as_string
    _server(stack, tracking_server_name=name).add_running_schedule(start=WEEKDAYS_8, stop=WEEKDAYS_18)
    report = estimate_monthly_cost(stack, region="us-east-1", mlflow_prices={"Small": "1"})
    (line,) = [li for li in report.lines if li.resource_type == "AWS::SageMaker::MlflowTrackingServer"]
    assert line.quantity == OFFICE_HOURS


def test_the_reference_platform_server_keeps_the_inference_office_hours():
    from stacks.inference import OFFICE_HOURS_END, OFFICE_HOURS_START
    from stacks.platform import PlatformStack
    from tests.conftest import new_app

    platform = PlatformStack(new_app(), "Platform")
    schedules = resources(template_of(platform), "AWS::Scheduler::Schedule")
    assert sorted(s["Properties"]["ScheduleExpression"] for s in schedules.values()) == sorted(
        [OFFICE_HOURS_START, OFFICE_HOURS_END])
    assert {k[:len("MlflowOfficeHoursSt")] for k in schedules} == {"MlflowOfficeHoursSt"}
    assert only(template_of(platform), "AWS::SageMaker::MlflowTrackingServer")["TrackingServerSize"] == "Small"


def test_time_zone_on_a_machine_without_a_tz_database(stack, no_tz_database):
    """The one time-zone check (validation.schedules.check_time_zone): a valid name is not refused
    because the synthesizing machine has no tz database."""
    server = _server(stack)
    start, _ = server.add_running_schedule(start=WEEKDAYS_8, stop=WEEKDAYS_18, time_zone="Europe/Berlin")
    assert start.schedule_expression_timezone == "Europe/Berlin"

"""Canvas idle shutdown (CanvasSettings.idle_timeout): a scheduled hardened function, least privilege, validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration

from sagemaker_constructs import (
    CanvasSettings, IsolatedNetwork, PlatformKey, SecureBucket, StudioDomain, ValidationError,
)
from tests.harness.templates import resources, template_of


def _domain(stack, **canvas):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    return StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, data_buckets=[bucket],
                        endpoint_security_group=net.endpoint_security_group,
                        canvas=CanvasSettings(workspace_bucket=bucket, **canvas))


def _idle(t, type_):
    return {k: v["Properties"] for k, v in resources(t, type_).items() if k.startswith("StudioCanvasIdleShutdown")}


def test_default_two_hours_every_fifteen_minutes(stack):
    domain = _domain(stack)
    assert domain.canvas_idle_shutdown is not None and domain.canvas_idle_shutdown.node.path == "Test/Studio/CanvasIdleShutdown"
    t = template_of(stack)
    (function,) = _idle(t, "AWS::Lambda::Function").values()
    assert function["Handler"] == "canvas_idle_shutdown.handler"
    assert function["Environment"]["Variables"]["IDLE_TIMEOUT_SECONDS"] == "7200"
    assert function["Environment"]["Variables"]["DOMAIN_ID"] == {"Fn::GetAtt": [stack.resolve(domain.cfn_domain.logical_id), "DomainId"]}
    assert function["ReservedConcurrentExecutions"] == 1 and function["TracingConfig"] == {"Mode": "Active"}
    assert "KmsKeyArn" in function and "DeadLetterConfig" in function
    (rule,) = _idle(t, "AWS::Events::Rule").values()
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    (invoke,) = _idle(t, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke["MaximumRetryAttempts"] == 2
    assert _idle(t, "AWS::CloudWatch::Alarm"), "the dead-letter queue is alarmed"


def test_policy_deletes_only_this_domains_canvas_apps(stack):
    domain = _domain(stack, idle_timeout=Duration.hours(3))
    t = template_of(stack)
    assert next(iter(_idle(t, "AWS::Lambda::Function").values()))["Environment"]["Variables"][
        "IDLE_TIMEOUT_SECONDS"] == "10800"
    (policy,) = _idle(t, "AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    delete = statements["DeleteIdleCanvasApps"]
    assert delete["Action"] == "sagemaker:DeleteApp"
    text = json.dumps(delete["Resource"])
    assert text.count(stack.resolve(domain.cfn_domain.logical_id)) == 2 and "/*/canvas/*" in text and "/*/Canvas/*" in text
    assert statements["ListApps"]["Resource"] == "*" and statements["ReadCanvasActivity"]["Resource"] == "*"
    everything = json.dumps(policy)
    assert "sagemaker:*" not in everything and "DeleteApp" not in json.dumps(
        [s for sid, s in statements.items() if sid != "DeleteIdleCanvasApps"])


def test_idle_timeout_none_builds_nothing(stack):
    domain = _domain(stack, idle_timeout=None)
    assert domain.canvas_idle_shutdown is None
    assert not _idle(template_of(stack), "AWS::Lambda::Function")


@pytest.mark.parametrize("timeout", [Duration.minutes(59), Duration.days(366), Duration.seconds(3630), "2h", 7200])
def test_idle_timeout_out_of_range_raises(stack, timeout):
    with pytest.raises(ValidationError, match="canvas.idle_timeout"):
        _domain(stack, idle_timeout=timeout)


@pytest.mark.parametrize("timeout", [Duration.hours(1), Duration.days(365)])
def test_idle_timeout_limits_accepted(stack, timeout):
    assert _domain(stack, idle_timeout=timeout).canvas_idle_shutdown is not None

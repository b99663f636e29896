"""Durations that are not a whole number of the unit an AWS property takes (days, minutes, seconds),
and parameters in another unit: our ValidationError naming the argument, never jsii's RuntimeError
(``validation.checks.duration_in``)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from sagemaker_constructs import AuditTrail, EndpointInvoker, PlatformKey, SecureBucket, StudioDomain, ValidationError
from tests.unit.test_invoke import FakeEndpoint
from tests.unit.test_pipeline_steps import _train
from tests.unit.test_pipelines import _pipeline
from tests.unit.test_token_durations import _deploy

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _key(stack):
    return kms.Key.from_key_arn(stack, "TeamKey", KEY_ARN)


def _domain(stack, idle_timeout):
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.20.0.0/16",
                                      availability_zones=["us-east-1a", "us-east-1b"],
                                      isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    StudioDomain(stack, "Studio", vpc=vpc, encryption_key=_key(stack), teardown=False, idle_timeout=idle_timeout)


@pytest.mark.parametrize("build, argument", [
    (lambda s: PlatformKey(s, "Key", pending_window=cdk.Duration.hours(200)), "pending_window"),
    (lambda s: PlatformKey(s, "Key", rotation_period=cdk.Duration.hours(24 * 100 + 1)), "rotation_period"),
    (lambda s: SecureBucket(s, "Data", encryption_key=_key(s), noncurrent_version_expiration=cdk.Duration.hours(36)),
     "noncurrent_version_expiration"),
    (lambda s: SecureBucket(s, "Data", encryption_key=_key(s), access_logs_retention=cdk.Duration.hours(36)),
     "access_logs_retention"),
    (lambda s: AuditTrail(s, "Trail", encryption_key=_key(s), object_lock_retention=cdk.Duration.hours(36)),
     "object_lock_retention"),
    (lambda s: _domain(s, cdk.Duration.seconds(90 * 60 + 30)), "idle_timeout"),
])
def test_a_duration_that_is_not_whole_units_is_a_validation_error(stack, build, argument):
    with pytest.raises(ValidationError, match=rf"{argument}.*whole number of"):
        build(stack)


def test_a_parameter_in_another_unit_is_a_validation_error(stack):
    hours = cdk.CfnParameter(stack, "Hours", type="Number").value_as_number
    with pytest.raises(ValidationError, match=r"idle_timeout.*Duration.minutes\(<parameter>\)"):
        _domain(stack, cdk.Duration.hours(hours))


@pytest.mark.parametrize("build, argument", [
    (lambda s: _train(max_runtime=cdk.Duration.millis(1500)), "max_runtime"),
    (lambda s: _pipeline(s, max_runtime=cdk.Duration.millis(1500)), "max_runtime"),
    (lambda s: _deploy(s, _key(s), cdk.Duration.millis(90500)), "approval_age_alarm"),
    (lambda s: EndpointInvoker(s, "Invoker", endpoint=FakeEndpoint(s), read_timeout=cdk.Duration.millis(1500)),
     "read_timeout"),
])
def test_a_fraction_of_a_second_is_a_validation_error(stack, build, argument):
    with pytest.raises(ValidationError, match=rf"{argument}.*whole number of seconds"):
        build(stack)

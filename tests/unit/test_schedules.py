"""scale_on_schedule on every instance-backed endpoint: scheduled actions and their validation."""

from __future__ import annotations

import pytest
from aws_cdk import aws_applicationautoscaling as appscaling

from sagemaker_constructs import ContainerImage, ModelData, MultiModelEndpoint, ValidationError
from sagemaker_constructs.inference.endpoints.schedules import check_schedule
from tests.harness.templates import only, template_of
from tests.unit.test_endpoints import IMAGE, Env


@pytest.fixture
def env(stack):
    return Env(stack)


def _actions(stack):
    return only(template_of(stack), "AWS::ApplicationAutoScaling::ScalableTarget")["ScheduledActions"]


def test_realtime_office_hours(env, stack):
    endpoint = env.realtime(instance_count=2, max_instance_count=4)
    endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1,
                               time_zone="Europe/Berlin")
    endpoint.scale_on_schedule("Mornings", schedule=appscaling.Schedule.cron(minute="0", hour="7", week_day="MON-FRI"),
                               min_capacity=2, max_capacity=4)
    assert _actions(stack) == [
        {"ScalableTargetAction": {"MinCapacity": 1}, "Schedule": "cron(0 19 ? * MON-FRI *)",
         "ScheduledActionName": "Evenings", "Timezone": "Europe/Berlin"},
        {"ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 4}, "Schedule": "cron(0 7 ? * MON-FRI *)",
         "ScheduledActionName": "Mornings"},
    ]


def test_multi_model_schedule(env, stack):
    endpoint = MultiModelEndpoint(stack, "Multi", image=ContainerImage.from_uri(IMAGE),
                                  model_data_prefix=ModelData.from_bucket(env.bucket, "models/"),
                                  instance_type="ml.m5.large", max_instance_count=3)
    endpoint.scale_on_schedule("Weekend", schedule="cron(0 0 ? * SAT *)", min_capacity=1, max_capacity=1)
    assert _actions(stack)[0]["ScalableTargetAction"] == {"MinCapacity": 1, "MaxCapacity": 1}


@pytest.mark.parametrize("expression", [
    "at(2030-01-31T08:00:00)", "rate(1 hour)", "rate(15 minutes)", "rate(2 days)",
    "cron(0 8 ? * MON-FRI *)", "cron(30 6 1 * ? *)", "cron(0/15 * ? * * *)", "cron(0 0 ? * 6#3 2030)",
])
def test_valid_schedules(expression):
    assert check_schedule("Test", expression) == expression


@pytest.mark.parametrize("expression", [
    "cron(0 8 * * MON-FRI)",  # five fields (classic cron)
    "cron(0 8 * * MON-FRI *)",  # neither day field is '?'
    "cron(0 8 ? * ? *)",  # both day fields '?'
    "rate(0 hours)", "rate(1 week)", "rate(1hour)",
    "at(2030-13-01T08:00:00)", "at(2030-01-31 08:00:00)",
    "every day at 8", "",
])
def test_invalid_schedule(env, expression):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="schedule"):
        endpoint.scale_on_schedule("Bad", schedule=expression, min_capacity=2)


def test_realtime_cannot_scale_to_zero(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="cannot scale to zero"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=0)


def test_schedule_above_the_autoscaling_maximum(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="max_capacity=5"):
        endpoint.scale_on_schedule("Peak", schedule="cron(0 9 ? * * *)", max_capacity=5)


def test_schedule_min_above_max(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="at most max_capacity"):
        endpoint.scale_on_schedule("Peak", schedule="cron(0 9 ? * * *)", min_capacity=3, max_capacity=2)


def test_schedule_needs_autoscaling(env):
    endpoint = env.realtime()
    with pytest.raises(ValidationError, match="max_instance_count"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=1)


def test_schedule_sets_something(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="min_capacity, max_capacity or both"):
        endpoint.scale_on_schedule("Nothing", schedule="cron(0 19 ? * * *)")


def test_schedule_ids_unique_and_valid(env):
    endpoint = env.realtime(max_instance_count=4)
    endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=1)
    with pytest.raises(ValidationError, match="unique"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 20 ? * * *)", min_capacity=1)
    with pytest.raises(ValidationError, match="scheduled action name"):
        endpoint.scale_on_schedule("a:b", schedule="cron(0 20 ? * * *)", min_capacity=1)


def test_schedule_time_zone_is_iana(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="IANA"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=1, time_zone="Mars/Olympus")

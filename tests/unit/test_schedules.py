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
    # botocore application-autoscaling ScheduledActionName: no space at either end (it synthesized
    # and Application Auto Scaling refused it at deploy time)
    for name in ("Nights ", " Nights"):
        with pytest.raises(ValidationError, match="no space at either end"):
            endpoint.scale_on_schedule(name, schedule="cron(0 20 ? * * *)", min_capacity=1)
    endpoint.scale_on_schedule("Late nights", schedule="cron(0 22 ? * * *)", min_capacity=1)


def test_schedule_time_zone_is_iana(env):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="IANA"):
        endpoint.scale_on_schedule("Nights", schedule="cron(0 19 ? * * *)", min_capacity=1, time_zone="Mars/Olympus")


# --- cron fields: the ranges and wildcards of the EventBridge syntax Application Auto Scaling reads
# (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html)

@pytest.mark.parametrize("expression,fragment", [
    ("cron(0 25 ? * MON-FRI *)", "hours field '25'.*0-23"),
    ("cron(75 7 ? * MON-FRI *)", "minutes field '75'.*0-59"),
    ("cron(0 7 ? * FOO *)", "day-of-week field 'FOO'.*SUN-SAT"),
    ("cron(0 7 ? 13 MON *)", "month field '13'.*JAN-DEC"),
    ("cron(0 7 32 * ? *)", "day-of-month field '32'.*1-31"),
    ("cron(0 7 0 * ? *)", "day-of-month field '0'"),
    ("cron(0 7 ? * 8 *)", "day-of-week field '8'"),
    ("cron(0 7 ? * 0 *)", "day-of-week field '0'"),
    ("cron(0 7 ? * MON *0)", "year field"),
    ("cron(0 7 ? * MON 1969)", "year field '1969'.*1970-2199"),
    ("cron(0 7 ? * MON 2200)", "year field '2200'"),
    ("cron(0 7-24 ? * MON *)", "hours field '7-24'"),
    ("cron(0,60 7 ? * MON *)", "minutes field '0,60'"),
    ("cron(0/0 7 ? * MON *)", "minutes field '0/0'"),
    ("cron(0 7 ? * 2#6 *)", "day-of-week field '2#6'"),
    ("cron(0 7 ? * 2#1,3 *)", "day-of-week field '2#1,3'"),
    ("cron(0 7 32W * ? *)", "day-of-month field '32W'"),
    ("cron(0 7 ? * 8L *)", "day-of-week field '8L'"),
    ("cron(0 ? ? * MON *)", "hours field '\\?'"),
    ("cron(0 7 1W ? * *)", "month field '\\?'"),
    ("cron(0 7 L * 1 *)", "exactly one of day-of-month and day-of-week"),
])
def test_cron_fields_out_of_range(env, expression, fragment):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match=rf"schedule=.*{fragment}.*scheduled-scaling-using-cron-expressions"):
        endpoint.scale_on_schedule("Bad", schedule=expression, min_capacity=2)


@pytest.mark.parametrize("expression", [
    "cron(59 23 31 12 ? 2199)", "cron(0 0 1 1 ? 1970)", "cron(0 8 ? JAN,JUL,dec mon-fri *)",
    "cron(*/10 8-18 ? * 2-6 *)", "cron(5/15 0 ? * * *)", "cron(0 9 L * ? *)", "cron(0 9 15W * ? *)",
    "cron(0 9 ? * 6L *)", "cron(0 9 ? * FRI#2 *)", "cron(0 9 ? * L *)", "cron(0 09 ? * 1,7 2030-2035)",
    "cron(0 22 ? * FRI-MON *)",  # a reversed range: the page does not say, so it is not refused
])
def test_cron_fields_in_range(expression):
    assert check_schedule("Test", expression) == expression


def test_cron_field_values_is_the_shared_parser():
    from sagemaker_constructs.validation.schedules import DAY_NAMES, cron_field_values

    assert cron_field_values("5/15", 0, 59) == {5, 20, 35, 50}
    assert cron_field_values("5/1", 0, 9) == set(range(5, 10))
    assert cron_field_values("MON-FRI", 1, 7, DAY_NAMES) == {2, 3, 4, 5, 6}
    assert cron_field_values("*", 0, 23) == set(range(24))
    for unread in ("60", "FRI-MON", "6L", "2#3", "1/0", "", "٣"):
        assert cron_field_values(unread, 0, 59, DAY_NAMES) is None


def test_cost_reads_cron_fields_with_the_same_parser():
    from sagemaker_constructs.cost.schedules import UnsupportedSchedule, weekly_fire_minutes

    # "30/1": from minute 30 on, every minute (it was read as minute 30 alone)
    assert weekly_fire_minutes("cron(30/1 9 ? * MON *)") == set(range(9 * 60 + 30, 10 * 60))
    with pytest.raises(UnsupportedSchedule):
        weekly_fire_minutes("cron(0 25 ? * MON *)")


# --- one-bound actions Application Auto Scaling cannot apply: "you must include both sizes ..."
# (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html)

def test_max_only_below_the_targets_minimum(env):
    endpoint = env.realtime(instance_count=2, max_instance_count=4)
    with pytest.raises(ValidationError, match=r"max_capacity=1; at least 2 instances, or give 'NightCap' min_capacity "
                                              r"as well: the scalable target's MinCapacity is 2.*include both sizes"):
        endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)


def test_max_only_below_a_minimum_another_action_sets(env):
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=3, max_capacity=4)
    with pytest.raises(ValidationError, match=r"max_capacity=2.*'Mornings' sets min_capacity=3"):
        endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=2)


def test_min_only_above_a_maximum_another_action_sets(env):
    """The README's office hours with a hard night cap: the morning action raises only the minimum."""
    endpoint = env.realtime(instance_count=2, max_instance_count=4)
    endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, max_capacity=1)
    with pytest.raises(ValidationError, match=r"min_capacity=2; at most 1 instances, or give 'Mornings' max_capacity "
                                              r"as well: scheduled action 'Evenings' sets max_capacity=1"):
        endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2)


def test_a_later_minimum_above_an_earlier_max_only_action(env):
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)
    with pytest.raises(ValidationError, match=r"min_capacity=2.*give scheduled action 'NightCap' min_capacity"):
        endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2, max_capacity=4)


def test_a_later_maximum_below_an_earlier_min_only_action(env):
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=3)
    with pytest.raises(ValidationError, match=r"max_capacity=2.*give scheduled action 'Mornings' max_capacity"):
        endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, max_capacity=2)


def test_a_refused_action_is_not_remembered(env, stack):
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)
    with pytest.raises(ValidationError):
        endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=1, max_capacity=4)
    assert [a["ScheduledActionName"] for a in _actions(stack)] == ["NightCap", "Mornings"]


@pytest.mark.parametrize("actions", [
    # the README's office hours: minimums only, no maximum set by any action
    [("Evenings", 1, None), ("Mornings", 2, None)],
    # both bounds in every action that would conflict
    [("Evenings", 1, 1), ("Mornings", 2, 4)],
    [("NightCap", 1, 1), ("DayCap", 2, 4), ("Peak", 4, 4)],
    # one bound, but never across another action's bound
    [("Evenings", 1, 2), ("Mornings", 2, None), ("Lunch", None, 3)],
    [("Cap", None, 2), ("Floor", 2, None)],
])
def test_schedules_application_auto_scaling_can_apply(env, stack, actions):
    endpoint = env.realtime(instance_count=2, max_instance_count=4)
    for name, low, high in actions:
        endpoint.scale_on_schedule(name, schedule="cron(0 7 ? * MON-FRI *)", min_capacity=low, max_capacity=high)
    assert len(_actions(stack)) == len(actions)


def test_bounds_are_per_target(env, stack):
    """A cap on one variant is not compared with another variant's minimum."""
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=3, max_capacity=4)
    variant = endpoint.add_variant("B", model=env.model("ModelB"), instance_type="ml.m5.large",
                                   max_instance_count=2)
    variant.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)
    with pytest.raises(ValidationError, match="'Mornings' sets min_capacity=3"):
        endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)


def test_bounds_skip_tokens(env, stack):
    from aws_cdk import CfnParameter

    floor = CfnParameter(stack, "Floor", type="Number").value_as_number
    endpoint = env.realtime(instance_count=1, max_instance_count=4)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=floor)
    endpoint.scale_on_schedule("NightCap", schedule="cron(0 20 ? * MON-FRI *)", max_capacity=1)
    assert len(_actions(stack)) == 2


# --- time zones: checked against the tz database zoneinfo finds; a machine without one checks the form
# (https://docs.python.org/3/library/zoneinfo.html#data-sources)

@pytest.mark.parametrize("name", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+9", "UTC"])
def test_time_zone_without_a_tz_database(env, stack, no_tz_database, name):
    endpoint = env.realtime(max_instance_count=4)
    endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, time_zone=name)
    assert _actions(stack)[0]["Timezone"] == name


@pytest.mark.parametrize("name", ["Europe Berlin", "Europe/", "/Berlin", "../etc/passwd", "Europe//Berlin", "9/Z"])
def test_time_zone_form_without_a_tz_database(env, no_tz_database, name):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match="IANA.*no time zone database.*only the name's form"):
        endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, time_zone=name)


@pytest.mark.parametrize("name", ["europe/berlin", "localtime", "Europe/Berlin/", "Mars/Olympus"])
def test_time_zone_not_in_the_tz_database(env, name):
    endpoint = env.realtime(max_instance_count=4)
    with pytest.raises(ValidationError, match=r"time_zone=.*IANA time zone name, e\.g\. Europe/Berlin"):
        endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, time_zone=name)


def test_a_parameter_maximum_bounds_no_schedule(env, stack):
    """A CfnParameter max_instance_count / max_copies is no bound at synth: its number encoding
    (-1.9e289) refused every scheduled capacity ("allowed: 1 to -1.88815e+289")."""
    from aws_cdk import CfnParameter

    from sagemaker_constructs import AsyncEndpoint, InferenceComponentEndpoint

    ceiling = CfnParameter(stack, "Ceiling", type="Number").value_as_number
    endpoint = env.realtime(instance_count=1, max_instance_count=ceiling)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=3)
    queued = AsyncEndpoint(stack, "Async", model=env.model("AsyncModel"), instance_type="ml.m5.large",
                           output_bucket=env.bucket, encryption_key=env.key, max_instance_count=ceiling)
    queued.scale_on_schedule("Nights", schedule="cron(0 19 ? * MON-FRI *)", max_capacity=0)
    components = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2)
    component = components.add_component("Component", model=env.model("IcModel"), max_copies=ceiling)
    component.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=1)
    targets = [t for t in template_of(stack)["Resources"].values()
               if t["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]
    assert sorted(a["ScalableTargetAction"].get("MinCapacity", a["ScalableTargetAction"].get("MaxCapacity"))
                  for t in targets for a in t["Properties"]["ScheduledActions"]) == [0, 1, 3]
    # literal bounds are still checked
    literal = AsyncEndpoint(stack, "Async2", model=env.model("AsyncModel2"), instance_type="ml.m5.large",
                            output_bucket=env.bucket, encryption_key=env.key, max_instance_count=2)
    with pytest.raises(ValidationError, match="max_capacity=3"):
        literal.scale_on_schedule("Peak", schedule="rate(1 hour)", max_capacity=3)

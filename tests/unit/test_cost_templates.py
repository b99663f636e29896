"""estimate_monthly_cost on what a template can say beyond what the library writes: scheduled
actions in several time zones, serverless provisioned concurrency from a parameter, conditions and
intrinsic functions where the estimate reads counts and variants, suspended and ended scheduled
actions, instance pools. None of them may crash the estimate or leave a cost out silently."""

from __future__ import annotations

import copy
from decimal import Decimal

import aws_cdk as cdk
import pytest

from sagemaker_constructs import RealtimeEndpoint, ServerlessEndpoint, estimate_monthly_cost
from sagemaker_constructs.cost.schedules import running_fraction, weekly_fire_minutes
from tests.unit.test_cost import HOURS, by_logical_id, endpoint_template, hosting, scalable_target
from tests.unit.test_cost_environments import component, copy_target, ic_template
from tests.unit.test_endpoints import Env

WEEK = Decimal(7 * 24)
IF = {"Fn::If": ["Blue", 1, 2]}

# 07:00 in Los Angeles (UTC-8 in January) is 15:00 UTC; 19:00 in Tokyo (UTC+9) is 10:00 UTC.
MIXED_ZONES = [
    {"ScheduledActionName": "Mornings", "Schedule": "cron(0 7 ? * MON-FRI *)", "Timezone": "America/Los_Angeles",
     "ScalableTargetAction": {"MinCapacity": 2}},
    {"ScheduledActionName": "Evenings", "Schedule": "cron(0 19 ? * MON-FRI *)", "Timezone": "Asia/Tokyo",
     "ScalableTargetAction": {"MinCapacity": 1}},
]
# In UTC: up Monday-Friday 15:00, down Monday-Friday 10:00: 4 x 19 h and Friday 15:00 to Monday
# 10:00 (67 h) at 2, the other 25 h at 1.
MIXED_ZONES_MEAN = Decimal(143 * 2 + 25 * 1) / WEEK


def test_fire_minutes_are_shifted_to_utc():
    assert weekly_fire_minutes("cron(0 7 ? * MON *)", -8 * 60) == {15 * 60}
    assert weekly_fire_minutes("cron(0 1 ? * MON *)", 9 * 60) == {7 * 1440 - 8 * 60}  # Sunday 16:00 UTC


def test_actions_of_one_target_in_different_time_zones_are_converted_to_utc():
    template = endpoint_template(count=1, name="ep", resources={
        "Target": scalable_target("endpoint/ep/variant/AllTraffic", 1, 4, MIXED_ZONES)})
    report = estimate_monthly_cost(template, region="us-east-1")
    line = by_logical_id(report)["Endpoint"]
    assert report.total == MIXED_ZONES_MEAN * HOURS * hosting("ml.m5.large")  # read in one zone it was 1.36
    assert "America/Los_Angeles and Asia/Tokyo converted to UTC" in line.detail


def test_actions_in_one_time_zone_keep_their_weekly_hours():
    same = [{**action, "Timezone": "Europe/Berlin"} for action in MIXED_ZONES]
    template = endpoint_template(count=1, name="ep", resources={
        "Target": scalable_target("endpoint/ep/variant/AllTraffic", 1, 4, same)})
    report = estimate_monthly_cost(template, region="us-east-1")
    # 07:00-19:00 on weekdays at 2 (60 h), the rest at 1, in any zone
    assert report.total == Decimal(60 * 2 + 108) / WEEK * HOURS * hosting("ml.m5.large")
    assert "converted" not in by_logical_id(report)["Endpoint"].detail


def test_library_endpoint_with_office_hours_in_two_zones(stack):
    env = Env(stack)
    endpoint = RealtimeEndpoint(stack, "Office", model=env.model(), instance_type="ml.m5.large", instance_count=1,
                                max_instance_count=4, encryption_key=env.key)
    endpoint.scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2,
                               time_zone="America/Los_Angeles")
    endpoint.scale_on_schedule("Evenings", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1, time_zone="Asia/Tokyo")
    (line,) = [x for x in estimate_monthly_cost(stack, region="us-east-1").lines
               if x.resource_type == "AWS::SageMaker::Endpoint"]
    assert line.monthly == MIXED_ZONES_MEAN * HOURS * hosting("ml.m5.large")


def test_components_schedules_in_different_zones_are_combined_in_utc():
    # One component up 08:00-18:00 Berlin (UTC+1: 07:00-17:00 UTC), the other 08:00-18:00 New York
    # (UTC-5: 13:00-23:00 UTC): one instance holds both, so the endpoint runs 07:00-23:00 UTC.
    def office(zone):
        return [{"ScheduledActionName": "up", "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": zone,
                 "ScalableTargetAction": {"MinCapacity": 1}},
                {"ScheduledActionName": "down", "Schedule": "cron(0 18 ? * MON-FRI *)", "Timezone": zone,
                 "ScalableTargetAction": {"MinCapacity": 0}}]

    template = ic_template({"A": component("a"), "ATarget": copy_target("a", 0, actions=office("Europe/Berlin")),
                            "B": component("b"), "BTarget": copy_target("b", 0, actions=office("America/New_York"))})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == Decimal(5 * 16) / WEEK * HOURS * hosting("ml.m5.xlarge")  # one zone: 10 h a day
    assert "converted to UTC" in by_logical_id(report)["Endpoint"].detail


def test_running_fraction_in_two_zones():
    # started 08:00 Berlin (07:00 UTC), stopped 18:00 UTC: 11 h each weekday
    assert running_fraction([("cron(0 8 ? * MON-FRI *)", "Europe/Berlin")],
                            [("cron(0 18 ? * MON-FRI *)", None)]) == Decimal(55) / WEEK


# --- serverless --------------------------------------------------------------------------------


def test_serverless_provisioned_concurrency_from_a_parameter_is_unknown(stack):
    env = Env(stack)
    warm = cdk.CfnParameter(stack, "Warm", type="Number", default=2)
    ServerlessEndpoint(stack, "Serverless", model=env.model(network_isolation=False),
                       provisioned_concurrency=warm.value_as_number)
    report = estimate_monthly_cost(stack, region="us-east-1")
    (unknown,) = [u for u in report.unknown if u.resource_type == "AWS::SageMaker::Endpoint"]
    assert unknown.note.startswith("provisioned concurrency not known at synth (${Warm}) x 2048 MB")


# --- conditions and intrinsic functions --------------------------------------------------------


def _config(template):
    return template["Resources"]["Config"]["Properties"]


def _variant(template):
    return _config(template)["ProductionVariants"][0]


def _action(template):
    return template["Resources"]["Target"]["Properties"]["ScheduledActions"][0]


CONDITIONAL = {
    "variant list": lambda t: _config(t).update(ProductionVariants={"Fn::If": ["Blue", _config(t)["ProductionVariants"], []]}),
    "one variant": lambda t: _config(t)["ProductionVariants"].__setitem__(0, {"Fn::If": ["Blue", _variant(t), {"Ref": "AWS::NoValue"}]}),
    "shadow list": lambda t: _config(t).update(ShadowProductionVariants={"Fn::If": ["Blue", [_variant(t)], []]}),
    "config properties": lambda t: t["Resources"]["Config"].update(Properties={"Fn::If": ["Blue", _config(t), {}]}),
    "serverless or not": lambda t: _variant(t).update(ServerlessConfig={"Fn::If": [
        "Blue", {"MemorySizeInMB": 1024, "MaxConcurrency": 1}, {"Ref": "AWS::NoValue"}]}),
    "managed scaling": lambda t: _variant(t).update(ManagedInstanceScaling={"Fn::If": [
        "Blue", {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}, {"Ref": "AWS::NoValue"}]}),
    "scheduled actions": lambda t: t["Resources"]["Target"]["Properties"].update(ScheduledActions={"Fn::If": ["Blue", [], []]}),
    "one action": lambda t: t["Resources"]["Target"]["Properties"]["ScheduledActions"].__setitem__(0, {"Fn::If": ["Blue", _action(t), {"Ref": "AWS::NoValue"}]}),
    "action bounds": lambda t: _action(t).update(ScalableTargetAction={"Fn::If": ["Blue", {"MinCapacity": 2}, {"MinCapacity": 1}]}),
    "suspension": lambda t: t["Resources"]["Target"]["Properties"].update(SuspendedState={"Fn::If": ["Blue", {}, {}]}),
    "zones": lambda t: (_action(t).update(Timezone={"Ref": "Zone"}),
                        t["Resources"]["Target"]["Properties"]["ScheduledActions"].append(
                            {"ScheduledActionName": "b", "Schedule": "cron(0 18 ? * MON-FRI *)",
                             "ScalableTargetAction": {"MinCapacity": 1}})),
    "end time": lambda t: _action(t).update(EndTime={"Ref": "End"}),
}


def _scheduled_template():
    actions = [{"ScheduledActionName": "a", "Schedule": "cron(0 8 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 2}}]
    return endpoint_template(count=2, name="ep", resources={
        "Target": scalable_target("endpoint/ep/variant/AllTraffic", 1, 3, actions)})


@pytest.mark.parametrize("where", CONDITIONAL)
def test_what_a_condition_decides_is_unknown_not_guessed_or_a_crash(where):
    template = _scheduled_template()
    CONDITIONAL[where](template)
    report = estimate_monthly_cost(template, region="us-east-1")  # raised AttributeError for the lists
    assert [u.logical_id for u in report.unknown] == ["Endpoint"], report.unknown
    assert "not known at synth" in report.unknown[0].note
    # a shadow the condition may add is unknown; the production variant is still priced
    assert report.total == (2 * HOURS * hosting("ml.m5.large") if where == "shadow list" else 0)


def test_a_zone_one_parameter_sets_for_every_action_keeps_the_weekly_hours():
    template = _scheduled_template()
    actions = template["Resources"]["Target"]["Properties"]["ScheduledActions"]
    actions.append({"ScheduledActionName": "b", "Schedule": "cron(0 18 ? * MON-FRI *)",
                    "ScalableTargetAction": {"MinCapacity": 1}})
    for action in actions:
        action["Timezone"] = {"Ref": "Zone"}
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == Decimal(50 * 2 + 118) / WEEK * HOURS * hosting("ml.m5.large")


def test_a_resource_under_a_condition_is_priced_and_says_so():
    template = endpoint_template(count=1)
    template["Resources"]["Endpoint"]["Condition"] = "Blue"
    line = by_logical_id(estimate_monthly_cost(template, region="us-east-1"))["Endpoint"]
    assert line.monthly == HOURS * hosting("ml.m5.large")
    assert line.detail.endswith("created only where condition Blue holds")


# --- suspended and ended scheduled actions ----------------------------------------------------


def test_suspended_scheduled_scaling_does_not_count_its_actions():
    template = _scheduled_template()  # the action raises the minimum to 2 for good
    template["Resources"]["Target"]["Properties"]["SuspendedState"] = {"ScheduledScalingSuspended": True}
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 1 * HOURS * hosting("ml.m5.large")
    assert "scheduled scaling suspended" in by_logical_id(report)["Endpoint"].detail


def test_an_action_past_its_end_time_does_not_count():
    office = [
        {"ScheduledActionName": "up", "Schedule": "cron(0 8 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 2}},
        {"ScheduledActionName": "down", "Schedule": "cron(0 18 ? * MON-FRI *)", "EndTime": "2020-01-01T00:00:00Z",
         "ScalableTargetAction": {"MinCapacity": 1}},
    ]
    template = endpoint_template(count=1, name="ep", resources={
        "Target": scalable_target("endpoint/ep/variant/AllTraffic", 1, 4, office)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 2 * HOURS * hosting("ml.m5.large")  # nothing lowers the minimum any more
    assert "scheduled action down ended at 2020-01-01T00:00:00Z" in by_logical_id(report)["Endpoint"].detail
    later = copy.deepcopy(template)
    later["Resources"]["Target"]["Properties"]["ScheduledActions"][1]["EndTime"] = "2199-01-01T00:00:00Z"
    assert estimate_monthly_cost(later, region="us-east-1").total == Decimal(50 * 2 + 118) / WEEK * HOURS * hosting(
        "ml.m5.large")


def test_instance_pools_are_unknown_and_named():
    template = endpoint_template(count=1)
    variant = _variant(template)
    del variant["InstanceType"]
    variant["InstancePools"] = [{"InstanceType": "ml.m5.large", "Priority": 1},
                                {"InstanceType": "ml.c5.xlarge", "Priority": 2}]
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0
    assert "instance pools (ml.m5.large, ml.c5.xlarge)" in report.unknown[0].note


# --- inference components whose endpoint is not priced here ------------------------------------


def test_a_component_on_an_endpoint_not_read_is_unknown():
    template = ic_template({"Other": component("other", endpoint="somewhere-else"), "OtherTarget": copy_target("other", 1)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0  # the endpoint of this template has no component: nothing committed
    (unknown,) = report.unknown
    assert (unknown.logical_id, unknown.item) == ("Other", "inference component other")
    assert "runs on endpoint somewhere-else, which is not among the templates read" in unknown.note


def test_a_component_whose_endpoint_is_imported_is_unknown():
    imported = {"Fn::ImportValue": "Serving:ExportsOutputFnGetAttEndpointEndpointName"}
    template = ic_template({"Iris": component("iris", endpoint=imported), "IrisTarget": copy_target("iris", 1)})
    report = estimate_monthly_cost(template, region="us-east-1")
    (unknown,) = report.unknown
    assert unknown.logical_id == "Iris" and "its endpoint is not known at synth" in unknown.note


def test_a_component_whose_variant_a_parameter_names_still_keeps_an_instance():
    iris = component("iris")
    iris["Properties"]["VariantName"] = {"Ref": "Variant"}
    report = estimate_monthly_cost(ic_template({"Iris": iris, "IrisTarget": copy_target("iris", 1)}), region="us-east-1")
    assert report.total == HOURS * hosting("ml.m5.xlarge") and not report.unknown  # it was 0: the copy was ignored

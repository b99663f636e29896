"""estimate_monthly_cost: inference-component endpoints priced by their components' copies,
scalable targets matched only within their account and region, and counts that are not
literals listed as unknown instead of guessed."""

from __future__ import annotations

from decimal import Decimal

import aws_cdk as cdk
import pytest

from sagemaker_constructs import AsyncEndpoint, InferenceComponentEndpoint, RealtimeEndpoint, estimate_monthly_cost
from tests.conftest import new_app
from tests.unit.test_cost import HOURS, by_logical_id, endpoint_template, hosting, scalable_target
from tests.unit.test_endpoints import Env

WEEK = Decimal(7 * 24)
OFFICE_HOURS = [  # weekdays 08:00-18:00 UTC: 50 of 168 hours a week
    {"ScheduledActionName": "Office", "Schedule": "cron(0 8 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 1}},
    {"ScheduledActionName": "AfterHours", "Schedule": "cron(0 18 ? * MON-FRI *)",
     "ScalableTargetAction": {"MinCapacity": 0}},
]


# --- inference-component endpoints -----------------------------------------------------------


def copy_target(component_name, minimum, maximum=4, actions=None) -> dict:
    props = {"ServiceNamespace": "sagemaker", "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
             "ResourceId": f"inference-component/{component_name}", "MinCapacity": minimum, "MaxCapacity": maximum}
    if actions:
        props["ScheduledActions"] = actions
    return {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": props}


def component(name, *, copies=1, cpus=None, memory=1024, endpoint=None) -> dict:
    requirements = {"MinMemoryRequiredInMb": memory}
    if cpus is not None:
        requirements["NumberOfCpuCoresRequired"] = cpus
    return {"Type": "AWS::SageMaker::InferenceComponent", "Properties": {
        "EndpointName": endpoint or {"Fn::GetAtt": ["Endpoint", "EndpointName"]}, "VariantName": "AllTraffic",
        "InferenceComponentName": name, "RuntimeConfig": {"CopyCount": copies},
        "Specification": {"ModelName": "m", "ComputeResourceRequirements": requirements}}}


def ic_template(resources, *, instance_type="ml.m5.xlarge", minimum=0, maximum=4) -> dict:
    return endpoint_template(instance_type=instance_type, count=1, resources=resources, extra_variant={
        "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": minimum, "MaxInstanceCount": maximum}})


def test_a_component_that_keeps_a_copy_keeps_an_instance():
    template = ic_template({"Iris": component("iris"), "IrisTarget": copy_target("iris", 1)})
    report = estimate_monthly_cost(template, region="us-east-1")
    line = by_logical_id(report)["Endpoint"]
    assert report.total == HOURS * hosting("ml.m5.xlarge")
    assert line.item == "inference-component ml.m5.xlarge x1"
    assert "minimum copies: iris 1" in line.detail and "committed instances 1" in line.detail


def test_components_that_scale_to_zero_still_commit_nothing():
    template = ic_template({"Iris": component("iris"), "IrisTarget": copy_target("iris", 0)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0
    assert "scales to zero" in by_logical_id(report)["Endpoint"].detail


def test_a_component_without_copy_autoscaling_keeps_its_copy_count():
    template = ic_template({"Iris": component("iris", copies=2, cpus=3)})
    # 3 of the 4 vCPUs of an ml.m5.xlarge per copy: one copy per instance
    assert estimate_monthly_cost(template, region="us-east-1").total == 2 * HOURS * hosting("ml.m5.xlarge")


def test_copy_count_schedules_are_time_weighted():
    template = ic_template({"Iris": component("iris"), "IrisTarget": copy_target("iris", 0, actions=OFFICE_HOURS)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == Decimal(50) / WEEK * HOURS * hosting("ml.m5.xlarge")
    assert "time-weighted minimum 0.30" in by_logical_id(report)["Endpoint"].detail


def test_components_schedules_are_combined_minute_by_minute():
    # One component warm 08:00-12:00, the other 12:00-18:00: one instance 50 h a week, not 20 + 30 apart.
    morning = [{**OFFICE_HOURS[0]}, {**OFFICE_HOURS[1], "Schedule": "cron(0 12 ? * MON-FRI *)"}]
    afternoon = [{**OFFICE_HOURS[0], "Schedule": "cron(0 12 ? * MON-FRI *)"}, {**OFFICE_HOURS[1]}]
    template = ic_template({"A": component("a"), "ATarget": copy_target("a", 0, actions=morning),
                            "B": component("b"), "BTarget": copy_target("b", 0, actions=afternoon)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == Decimal(50) / WEEK * HOURS * hosting("ml.m5.xlarge")


def test_minimum_copies_are_fitted_to_the_instance_size_up_to_the_maximum():
    # Each copy reserves 3 of an ml.m5.xlarge's 4 vCPUs: two components at one copy each need two instances.
    resources = {"A": component("a", cpus=3), "ATarget": copy_target("a", 1),
                 "B": component("b", cpus=3), "BTarget": copy_target("b", 1)}
    report = estimate_monthly_cost(ic_template(resources), region="us-east-1")
    assert report.total == 2 * HOURS * hosting("ml.m5.xlarge")
    assert "copies fitted to ml.m5.xlarge" in by_logical_id(report)["Endpoint"].detail
    # By memory: 3 copies of 6 GiB on 16 GiB instances take two (two fit one).
    resources = {"A": component("a", memory=6144), "ATarget": copy_target("a", 3)}
    assert estimate_monthly_cost(ic_template(resources), region="us-east-1").total == 2 * HOURS * hosting("ml.m5.xlarge")
    # Never more than ManagedInstanceScaling.MaxInstanceCount, never fewer than MinInstanceCount.
    resources = {"A": component("a", cpus=3), "ATarget": copy_target("a", 5)}
    assert estimate_monthly_cost(ic_template(resources, maximum=3), region="us-east-1").total == (
        3 * HOURS * hosting("ml.m5.xlarge"))
    resources = {"A": component("a"), "ATarget": copy_target("a", 1)}
    assert estimate_monthly_cost(ic_template(resources, minimum=2), region="us-east-1").total == (
        2 * HOURS * hosting("ml.m5.xlarge"))


def test_an_instance_size_without_cpu_and_memory_figures_keeps_at_least_one_instance_and_says_so():
    resources = {"A": component("a", cpus=3), "ATarget": copy_target("a", 3)}
    report = estimate_monthly_cost(ic_template(resources, instance_type="ml.t2.medium"), region="us-east-1")
    assert report.total == HOURS * hosting("ml.t2.medium")
    assert "copies per instance not computed" in by_logical_id(report)["Endpoint"].detail


def test_components_of_another_endpoint_do_not_count():
    template = ic_template({"Other": component("other", endpoint={"Fn::GetAtt": ["OtherEndpoint", "EndpointName"]}),
                            "OtherTarget": copy_target("other", 1)})
    assert estimate_monthly_cost(template, region="us-east-1").total == 0


def test_inference_component_endpoint_with_a_component_that_cannot_scale_to_zero(stack):
    env = Env(stack)
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key)
    endpoint.add_component("Iris", model=env.model(), copies=1, max_copies=2, number_of_cpu_cores_required=1,
                           scale_to_zero=False)
    endpoint.add_component("Other", model=env.model("Other"), copies=1, max_copies=2, number_of_cpu_cores_required=1)
    report = estimate_monthly_cost(stack, region="us-east-1")
    (line,) = [x for x in report.lines if x.resource_type == "AWS::SageMaker::Endpoint"]
    assert line.monthly == HOURS * hosting("ml.m5.xlarge")


def test_inference_component_endpoint_warm_on_office_hours(stack):
    env = Env(stack)
    endpoint = InferenceComponentEndpoint(stack, "IC", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=env.key)
    endpoint.add_component("Iris", model=env.model(), copies=1, max_copies=2, number_of_cpu_cores_required=1)
    endpoint.scale_on_schedule("Office", schedule="cron(0 8 ? * MON-FRI *)", min_capacity=1)
    endpoint.scale_on_schedule("AfterHours", schedule="cron(0 18 ? * MON-FRI *)", min_capacity=0)
    report = estimate_monthly_cost(stack, region="us-east-1")
    (line,) = [x for x in report.lines if x.resource_type == "AWS::SageMaker::Endpoint"]
    assert line.monthly == Decimal(50) / WEEK * HOURS * hosting("ml.m5.xlarge")


# --- environments ----------------------------------------------------------------------------


def raw_stack(scope, id, resources, *, account=None, region=None, stack_name=None) -> cdk.Stack:
    env = cdk.Environment(account=account, region=region) if account or region else None
    stack = cdk.Stack(scope, id, env=env, stack_name=stack_name)
    for logical_id, res in resources.items():
        cdk.CfnResource(stack, logical_id, type=res["Type"], properties=res.get("Properties"))
    return stack


def endpoint_resources(count, name="team-endpoint", target=None) -> dict:
    resources = endpoint_template(count=count, name=name)["Resources"]
    if target is not None:
        resources["Target"] = scalable_target(f"endpoint/{name}/variant/AllTraffic", target, 6)
    return resources


def serving_lines(report) -> dict:
    return {line.stack: line.monthly for line in report.lines if line.resource_type == "AWS::SageMaker::Endpoint"}


def test_same_named_endpoints_in_two_regions_keep_their_own_autoscaling(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    raw_stack(app, "Use1", endpoint_resources(1, target=1), account="111122223333", region="us-east-1")
    raw_stack(app, "Euw1", endpoint_resources(3, target=3), account="111122223333", region="eu-west-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path)) == {
        "Use1": HOURS * hosting("ml.m5.large"), "Euw1": 3 * HOURS * hosting("ml.m5.large", "eu-west-1")}


def test_same_named_endpoints_in_two_accounts_keep_their_own_autoscaling(tmp_path):
    """Dev and prod stages, one region, the same stack name and endpoint name in both accounts."""
    app = cdk.App(outdir=str(tmp_path))
    for stage_name, account, count in (("Dev", "111111111111", 1), ("Prod", "444444444444", 3)):
        stage = cdk.Stage(app, stage_name, env=cdk.Environment(account=account, region="us-east-1"))
        raw_stack(stage, "Serving", endpoint_resources(count, name="iris", target=count), stack_name="Serving")
    app.synth()
    report = estimate_monthly_cost(tmp_path)
    assert sorted(line.monthly for line in report.lines if line.resource_type == "AWS::SageMaker::Endpoint") == [
        HOURS * hosting("ml.m5.large"), 3 * HOURS * hosting("ml.m5.large")]


def test_library_endpoints_in_dev_and_prod_accounts(tmp_path):
    app = new_app(outdir=str(tmp_path))
    for stage_name, account, count in (("Dev", "111111111111", 1), ("Prod", "444444444444", 3)):
        stage = cdk.Stage(app, stage_name, env=cdk.Environment(account=account, region="us-east-1"))
        stack = cdk.Stack(stage, "Serving")
        env = Env(stack)
        RealtimeEndpoint(stack, "Rt", model=env.model(), instance_type="ml.m5.large", instance_count=count,
                         max_instance_count=6, encryption_key=env.key, endpoint_name="iris")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path)) == {
        "Dev-Serving": HOURS * hosting("ml.m5.large"), "Prod-Serving": 3 * HOURS * hosting("ml.m5.large")}


def test_autoscaling_in_another_stack_of_the_same_environment_still_applies(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    env = {"account": "111122223333", "region": "us-east-1"}
    raw_stack(app, "Serving", endpoint_resources(3), **env)
    raw_stack(app, "Scaling", {"Target": scalable_target("endpoint/team-endpoint/variant/AllTraffic", 1, 6)}, **env)
    raw_stack(app, "Elsewhere", {"Target": scalable_target("endpoint/team-endpoint/variant/AllTraffic", 5, 6)},
              account="444444444444", region="us-east-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path)) == {"Serving": HOURS * hosting("ml.m5.large")}


def test_environment_agnostic_stacks_match_only_environment_agnostic_stacks(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    raw_stack(app, "Serving", endpoint_resources(3))
    raw_stack(app, "Scaling", {"Target": scalable_target("endpoint/team-endpoint/variant/AllTraffic", 1, 6)})
    raw_stack(app, "Pinned", {"Target": scalable_target("endpoint/team-endpoint/variant/AllTraffic", 0, 6)},
              account="111122223333", region="us-east-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path, region="us-east-1")) == {
        "Serving": HOURS * hosting("ml.m5.large")}


def test_a_reference_in_a_resource_id_matches_only_its_own_template(tmp_path):
    """Two stacks built from one class: the same logical IDs, so the same rendered
    ``endpoint/${Endpoint.EndpointName}/...`` in both, naming two different endpoints."""
    app = cdk.App(outdir=str(tmp_path))
    own = {"Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": ["Endpoint", "EndpointName"]}, "/variant/AllTraffic"]]}
    for id, minimum in (("A", 1), ("B", 3)):
        resources = endpoint_template(count=2)["Resources"]
        resources["Target"] = scalable_target(own, minimum, 6)
        raw_stack(app, id, resources, account="111122223333", region="us-east-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path)) == {
        "A": HOURS * hosting("ml.m5.large"), "B": 3 * HOURS * hosting("ml.m5.large")}


def test_components_match_their_endpoint_only_in_its_environment(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    endpoint = ic_template({}, minimum=0)["Resources"]
    endpoint["Endpoint"]["Properties"]["EndpointName"] = "shared"
    raw_stack(app, "Use1", endpoint, account="111122223333", region="us-east-1")
    elsewhere = {"Iris": component("iris", endpoint="shared"), "IrisTarget": copy_target("iris", 1)}
    raw_stack(app, "Euw1", elsewhere, account="111122223333", region="eu-west-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path)) == {"Use1": Decimal(0)}
    # ... and in another stack of the same environment they count.
    app = cdk.App(outdir=str(tmp_path / "same"))
    raw_stack(app, "Use1", endpoint, account="111122223333", region="us-east-1")
    raw_stack(app, "Components", elsewhere, account="111122223333", region="us-east-1")
    app.synth()
    assert serving_lines(estimate_monthly_cost(tmp_path / "same")) == {"Use1": HOURS * hosting("ml.m5.xlarge")}


# --- counts that are not literals ------------------------------------------------------------


def _only_unknown(report, logical_id="Endpoint"):
    assert report.total == 0 and not [line for line in report.lines if line.logical_id == logical_id]
    (item,) = [u for u in report.unknown if u.logical_id == logical_id]
    return item


@pytest.mark.parametrize("template, shown", [
    (endpoint_template(count={"Ref": "Count"}), "InitialInstanceCount ${Count}"),
    (endpoint_template(count=1, name="ep", resources={
        "Target": scalable_target("endpoint/ep/variant/AllTraffic", {"Ref": "Min"}, 4)}),
     "autoscaling MinCapacity ${Min}"),
    (endpoint_template(count=1, name="ep", resources={"Target": scalable_target(
        "endpoint/ep/variant/AllTraffic", 2, 4, [{"ScheduledActionName": "Night", "Schedule": "cron(0 20 ? * * *)",
                                                 "ScalableTargetAction": {"MinCapacity": {"Ref": "Night"}}}])}),
     "scheduled action Night MinCapacity ${Night}"),
    (ic_template({}, minimum={"Ref": "MinInstances"}), "ManagedInstanceScaling.MinInstanceCount ${MinInstances}"),
    (ic_template({"Iris": component("iris"), "IrisTarget": copy_target("iris", {"Ref": "Copies"})}),
     "component iris autoscaling MinCapacity ${Copies}"),
    (ic_template({"Iris": component("iris", copies={"Ref": "Copies"})}), "component iris RuntimeConfig.CopyCount ${Copies}"),
])
def test_a_count_that_is_not_a_literal_is_unknown(template, shown):
    item = _only_unknown(estimate_monthly_cost(template, region="us-east-1"))
    assert item.note == f"instance count not known at synth (variant AllTraffic: {shown})"
    assert item.item in ("ml.m5.large", "inference-component ml.m5.xlarge")


def test_a_count_that_is_not_a_whole_number_is_unknown():
    item = _only_unknown(estimate_monthly_cost(endpoint_template(count=1.5), region="us-east-1"))
    assert item.note == "instance count not a whole number (variant AllTraffic: InitialInstanceCount 1.5)"
    assert estimate_monthly_cost(endpoint_template(count=2.0), region="us-east-1").total == (
        2 * HOURS * hosting("ml.m5.large"))


def test_a_parameter_initial_count_does_not_matter_under_a_literal_autoscaling_minimum():
    template = endpoint_template(count={"Ref": "Count"}, name="ep",
                                resources={"Target": scalable_target("endpoint/ep/variant/AllTraffic", 2, 4)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 2 * HOURS * hosting("ml.m5.large") and not report.unknown


def test_autoscaling_matches_an_endpoint_named_by_a_parameter():
    resource_id = {"Fn::Join": ["", ["endpoint/", {"Ref": "AsyncName"}, "/variant/AllTraffic"]]}
    template = endpoint_template(count=1, name={"Ref": "AsyncName"},
                                 config_extra={"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o"}}},
                                 resources={"Target": scalable_target(resource_id, 0, 2)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0 and by_logical_id(report)["Endpoint"].quantity == 0


def test_library_endpoints_with_parameter_counts_and_names(stack):
    env = Env(stack)
    count = cdk.CfnParameter(stack, "InstanceCount", type="Number", default=4)
    name = cdk.CfnParameter(stack, "AsyncName", type="String", default="team-async")
    RealtimeEndpoint(stack, "Rt", model=env.model(), instance_type="ml.m5.large",
                     instance_count=count.value_as_number, encryption_key=env.key)
    AsyncEndpoint(stack, "Async", model=env.model("AsyncModel"), instance_type="ml.m5.large", output_bucket=env.bucket,
                  encryption_key=env.key, endpoint_name=name.value_as_string)
    report = estimate_monthly_cost(stack, region="us-east-1")
    (async_line,) = [x for x in report.lines if x.resource_type == "AWS::SageMaker::Endpoint"]
    assert async_line.item == "async ml.m5.large x0" and async_line.monthly == 0
    (unknown,) = [u for u in report.unknown if u.resource_type == "AWS::SageMaker::Endpoint"]
    assert unknown.note == "instance count not known at synth (variant AllTraffic: InitialInstanceCount ${InstanceCount})"

"""estimate_monthly_cost: hand-built templates whose expected totals come from the price table's
entries, the reference app's three stacks, and the CLI."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms

from sagemaker_constructs import CostReport, ValidationError, estimate_monthly_cost
from sagemaker_constructs.cost import prices as P
from sagemaker_constructs.cost.__main__ import OUTPUT_FILE, main
from sagemaker_constructs.cost.schedules import UnsupportedSchedule, weekly_fire_minutes
from tests.conftest import new_app

HOURS = Decimal(730)


def hosting(instance_type: str, region: str = "us-east-1") -> Decimal:
    return P.PRICES[region][P.SAGEMAKER_HOSTING][instance_type].usd


def unit(key: str, region: str = "us-east-1") -> Decimal:
    return P.PRICES[region][key].usd


def endpoint_template(*, instance_type="ml.m5.large", count=2, name=None, extra_variant=None, config_extra=None,
                      resources=None) -> dict:
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": instance_type,
               "InitialInstanceCount": count, **(extra_variant or {})}
    endpoint_props = {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}
    if name:
        endpoint_props["EndpointName"] = name
    return {"Resources": {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig",
                   "Properties": {"ProductionVariants": [variant], **(config_extra or {})}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": endpoint_props},
        **(resources or {}),
    }}


def scalable_target(resource_id, minimum, maximum, actions=None) -> dict:
    props = {"ServiceNamespace": "sagemaker", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
             "ResourceId": resource_id, "MinCapacity": minimum, "MaxCapacity": maximum}
    if actions:
        props["ScheduledActions"] = actions
    return {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": props}


def by_logical_id(report: CostReport) -> dict:
    return {line.logical_id: line for line in report.lines}


# --- the price table -------------------------------------------------------------------------


def test_price_table_is_dated_and_every_price_names_an_aws_pricing_page():
    datetime.date.fromisoformat(P.PRICE_DATE)
    assert {"us-east-1", "eu-west-1"} <= set(P.PRICES)
    for region, table in P.PRICES.items():
        entries = [*table[P.SAGEMAKER_HOSTING].values(), *(v for v in table.values() if isinstance(v, P.Price))]
        assert entries, region
        for entry in entries:
            assert entry.source.startswith("https://aws.amazon.com/"), (region, entry)
            assert entry.usd > 0 and entry.unit


# --- instance-backed endpoints ---------------------------------------------------------------


def test_real_time_endpoint_is_priced_at_its_initial_instance_count():
    report = estimate_monthly_cost(endpoint_template(count=3), region="us-east-1")
    line = by_logical_id(report)["Endpoint"]
    assert (line.quantity, line.unit_price) == (3 * HOURS, hosting("ml.m5.large"))
    assert report.total == 3 * HOURS * hosting("ml.m5.large")
    assert report.region == "us-east-1" and report.price_date == P.PRICE_DATE


def test_region_changes_the_price():
    report = estimate_monthly_cost(endpoint_template(count=1), region="eu-west-1")
    assert report.total == HOURS * hosting("ml.m5.large", "eu-west-1")
    assert hosting("ml.m5.large", "eu-west-1") != hosting("ml.m5.large")


def test_autoscaling_minimum_overrides_the_initial_count():
    resource_id = {"Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": ["Endpoint", "EndpointName"]}, "/variant/AllTraffic"]]}
    template = endpoint_template(count=3, resources={"Target": scalable_target(resource_id, 1, 4)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 1 * HOURS * hosting("ml.m5.large")
    assert "autoscaling minimum 1" in by_logical_id(report)["Endpoint"].detail


def test_autoscaling_matches_a_literal_endpoint_name_and_can_raise_the_floor():
    template = endpoint_template(count=1, name="my-endpoint",
                                 resources={"Target": scalable_target("endpoint/my-endpoint/variant/AllTraffic", 2, 4)})
    assert estimate_monthly_cost(template, region="us-east-1").total == 2 * HOURS * hosting("ml.m5.large")


def test_autoscaling_of_another_endpoint_does_not_apply():
    template = endpoint_template(count=2, name="my-endpoint",
                                 resources={"Target": scalable_target("endpoint/other/variant/AllTraffic", 0, 4)})
    assert estimate_monthly_cost(template, region="us-east-1").total == 2 * HOURS * hosting("ml.m5.large")


def test_scheduled_actions_are_time_weighted_over_a_week():
    # Office hours: 2 instances from 08:00 to 18:00 Monday to Friday, 0 otherwise.
    actions = [
        {"ScheduledActionName": "up", "Schedule": "cron(0 8 ? * MON-FRI *)",
         "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 4}},
        {"ScheduledActionName": "down", "Schedule": "cron(0 18 ? * MON-FRI *)",
         "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 4}},
    ]
    template = endpoint_template(
        count=1, name="ep", resources={"Target": scalable_target("endpoint/ep/variant/AllTraffic", 1, 4, actions)})
    report = estimate_monthly_cost(template, region="us-east-1")
    instance_hours_a_week = Decimal(2 * 10 * 5)
    expected = instance_hours_a_week / Decimal(7 * 24) * HOURS * hosting("ml.m5.large")
    assert report.total == expected
    assert "time-weighted" in by_logical_id(report)["Endpoint"].detail


def test_a_schedule_that_is_not_weekly_cron_is_priced_at_the_lowest_scheduled_minimum():
    actions = [{"ScheduledActionName": "x", "Schedule": "rate(1 day)", "ScalableTargetAction": {"MinCapacity": 1}}]
    template = endpoint_template(
        count=3, name="ep", resources={"Target": scalable_target("endpoint/ep/variant/AllTraffic", 2, 4, actions)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 1 * HOURS * hosting("ml.m5.large")
    assert "not evaluated" in by_logical_id(report)["Endpoint"].detail


def test_weekly_cron_parsing():
    assert len(weekly_fire_minutes("cron(0 8 ? * MON-FRI *)")) == 5
    assert len(weekly_fire_minutes("cron(30 */6 ? * * *)")) == 7 * 4
    assert weekly_fire_minutes("cron(0 0 ? * SUN *)") == {6 * 1440}  # Sunday is day 6 of a Monday week
    for expression in ("cron(0 8 1 * ? *)", "rate(5 minutes)", "cron(0 8 ? * 2#1 *)", "at(2026-01-01T00:00:00)"):
        with pytest.raises(UnsupportedSchedule):
            weekly_fire_minutes(expression)


def test_async_endpoint_that_scales_to_zero_commits_nothing():
    template = endpoint_template(
        count=1, name="async-ep", config_extra={"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o"}}},
        resources={"Target": scalable_target("endpoint/async-ep/variant/AllTraffic", 0, 2)})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0
    assert by_logical_id(report)["Endpoint"].item.startswith("async ")
    assert any(i.item == "async inference" for i in report.usage_based)


@pytest.mark.parametrize("minimum", [0, 1])
def test_inference_component_endpoint_is_priced_at_its_managed_minimum(minimum):
    template = endpoint_template(
        instance_type="ml.g5.xlarge", count=1,
        extra_variant={"ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": minimum,
                                                  "MaxInstanceCount": 4}},
        resources={"Component": {"Type": "AWS::SageMaker::InferenceComponent", "Properties": {}}})
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == minimum * HOURS * hosting("ml.g5.xlarge")
    assert by_logical_id(report)["Endpoint"].item.startswith("inference-component ml.g5.xlarge")
    assert not report.unknown


def test_unknown_instance_type_is_reported_not_raised():
    report = estimate_monthly_cost(endpoint_template(instance_type="ml.x99.large"), region="us-east-1")
    assert report.total == 0 and not report.lines
    assert [u.logical_id for u in report.unknown] == ["Endpoint"]
    assert "ml.x99.large" in report.unknown[0].note


def test_serverless_is_usage_based_and_provisioned_concurrency_without_a_price_is_unknown():
    template = {"Resources": {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": "m",
             "ServerlessConfig": {"MaxConcurrency": 5, "MemorySizeInMB": 2048, "ProvisionedConcurrency": 2}}]}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint",
                     "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
    }}
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0
    assert any("serverless" in i.item for i in report.usage_based)
    assert any("provisioned concurrency 2" in i.note for i in report.unknown)


# --- network, keys, alarms, secrets ----------------------------------------------------------


def test_interface_endpoints_are_priced_per_az_and_gateway_endpoints_are_free():
    subnets = [{"Ref": f"Subnet{i}"} for i in range(3)]
    template = {"Resources": {
        "Kms": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcEndpointType": "Interface", "VpcId": "vpc-1", "SubnetIds": subnets,
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".kms"]]}}},
        "Sts": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcEndpointType": "Interface", "VpcId": "vpc-1", "SubnetIds": subnets[:2], "ServiceName": "x.sts"}},
        "S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcId": "vpc-1", "ServiceName": "x.s3"}},
    }}
    report = estimate_monthly_cost(template, region="eu-west-1")
    assert report.total == (3 + 2) * HOURS * unit(P.INTERFACE_ENDPOINT_AZ_HOUR, "eu-west-1")
    assert by_logical_id(report)["Kms"].item == "interface endpoint com.amazonaws.eu-west-1.kms"
    assert "S3" not in by_logical_id(report)


def test_interface_endpoint_with_unknown_subnets_is_unknown():
    template = {"Resources": {"E": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcEndpointType": "Interface", "ServiceName": "x", "SubnetIds": {"Fn::Split": [",", {"Fn::ImportValue": "s"}]}}}}}
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == 0 and "subnets" in report.unknown[0].note


def test_nat_gateways_keys_alarms_and_secrets():
    metric = {"Metric": {"MetricName": "m", "Namespace": "n"}, "Period": 60, "Stat": "Sum"}
    template = {"Resources": {
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": "s"}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "DisabledKey": {"Type": "AWS::KMS::Key", "Properties": {"Enabled": False}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "m", "Period": 300}},
        "FastAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "m", "Period": 10}},
        "MathAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
            {"Id": "e", "Expression": "MAX([a, b])"}, {"Id": "a", "MetricStat": metric}, {"Id": "b", "MetricStat": metric}]}},
        "Composite": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {"AlarmRule": "ALARM(a)"}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
    }}
    report = estimate_monthly_cost(template, region="us-east-1")
    expected = (HOURS * unit(P.NAT_GATEWAY_HOUR) + unit(P.KMS_KEY_MONTH)
                + (1 + 2) * unit(P.ALARM_STANDARD_METRIC_MONTH) + unit(P.ALARM_HIGH_RESOLUTION_METRIC_MONTH)
                + unit(P.COMPOSITE_ALARM_MONTH) + unit(P.SECRET_MONTH))
    assert report.total == expected
    assert "DisabledKey" not in by_logical_id(report)
    assert "rotation" in by_logical_id(report)["Key"].detail


# --- usage-based and unknown items -----------------------------------------------------------


def test_usage_based_items_are_listed_not_priced():
    template = endpoint_template(count=1, config_extra={"DataCaptureConfig": {"EnableCapture": True,
                                                                              "InitialSamplingPercentage": 20}},
                                 resources={
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {}},
        "Pipeline": {"Type": "AWS::SageMaker::Pipeline", "Properties": {"PipelineDefinition": {
            "PipelineDefinitionBody": json.dumps({"Steps": [
                {"Arguments": {"ResourceConfig": {"InstanceType": "ml.m5.xlarge"}}},
                {"Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.c5.large"}}}}]})}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    })
    report = estimate_monthly_cost(template, region="us-east-1")
    assert report.total == HOURS * hosting("ml.m5.large")  # only the endpoint is committed
    listed = {i.logical_id: i for i in report.usage_based if i.logical_id != "Endpoint"}
    assert set(listed) == {"Bucket", "Fn", "Queue", "Topic", "Trail", "Pipeline"}
    assert listed["Pipeline"].item == "ml.c5.large, ml.m5.xlarge"
    assert any(i.item == "data capture" and "20%" in i.note for i in report.usage_based)
    assert not report.unknown


def _mlflow(size=None):
    props = {"TrackingServerName": "t", "ArtifactStoreUri": "s3://b/mlflow", "RoleArn": "arn:aws:iam::1:role/r"}
    if size is not None:
        props["TrackingServerSize"] = size
    return {"Resources": {"Mlflow": {"Type": "AWS::SageMaker::MlflowTrackingServer", "Properties": props}}}


def test_mlflow_tracking_server_without_a_confirmed_price_is_unknown_by_size():
    assert not any(P.mlflow_price(region, size) for region in P.PRICES for size in ("Small", "Medium", "Large"))
    report = estimate_monthly_cost(_mlflow("Medium"), region="us-east-1")
    assert not report.lines and report.total == 0
    assert [(u.logical_id, u.item) for u in report.unknown] == [("Mlflow", "MLflow tracking server (Medium)")]


def test_mlflow_tracking_server_is_priced_around_the_clock_once_its_size_has_a_price(monkeypatch):
    fixture = P.Price(Decimal("1.25"), "server-hour", P.SAGEMAKER_PRICING, "test fixture, not a real price")
    monkeypatch.setitem(P.PRICES["us-east-1"], P.SAGEMAKER_MLFLOW, {"Small": fixture})
    report = estimate_monthly_cost(_mlflow(), region="us-east-1")  # Small by default
    (line,) = report.lines
    assert (line.item, line.quantity, line.monthly) == ("MLflow tracking server (Small)", P.HOURS_PER_MONTH,
                                                        Decimal("1.25") * P.HOURS_PER_MONTH)
    assert estimate_monthly_cost(_mlflow("Large"), region="us-east-1").unknown  # another size: still unknown


def test_a_resource_type_outside_the_cost_model_is_unknown():
    report = estimate_monthly_cost({"Resources": {"X": {"Type": "AWS::Redshift::Cluster", "Properties": {}}}},
                                   region="us-east-1")
    assert [(u.logical_id, u.note) for u in report.unknown] == [("X", "resource type not in the cost model")]


# --- regions ---------------------------------------------------------------------------------


def test_a_region_without_price_data_raises_naming_it():
    with pytest.raises(ValidationError, match="mars-east-1") as exc:
        estimate_monthly_cost(endpoint_template(), region="mars-east-1")
    assert exc.value.argument == "region"


def test_an_environment_agnostic_template_without_a_region_raises():
    with pytest.raises(ValidationError, match="region"):
        estimate_monthly_cost(endpoint_template())


def test_a_pinned_stack_is_priced_in_its_own_region_with_construct_paths():
    app = new_app()
    stack = cdk.Stack(app, "Pinned", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    kms.Key(stack, "Key")
    report = estimate_monthly_cost(stack, region="us-east-1")
    assert report.region == "eu-west-1"
    assert [(line.path, line.monthly) for line in report.lines] == [
        ("/Pinned/Key/Resource", unit(P.KMS_KEY_MONTH, "eu-west-1"))]
    assert report.stack_totals() == {"Pinned": unit(P.KMS_KEY_MONTH, "eu-west-1")}


def test_a_source_that_is_not_a_cloud_assembly_raises(tmp_path):
    with pytest.raises(ValidationError, match="manifest.json"):
        estimate_monthly_cost(tmp_path, region="us-east-1")
    with pytest.raises(ValidationError, match="source"):
        estimate_monthly_cost(tmp_path / "missing", region="us-east-1")


# --- output forms ----------------------------------------------------------------------------


def test_text_and_json_forms():
    report = estimate_monthly_cost(endpoint_template(count=2), region="us-east-1")
    monthly = float(2 * HOURS * hosting("ml.m5.large"))
    text = report.to_text()
    assert "ml.m5.large x2" in text and f"Total: ${monthly:,.2f}/month" in text and P.PRICE_DATE in text
    data = json.loads(report.to_json())
    assert data["total_monthly_usd"] == round(monthly, 2)
    assert data["stacks"] == {"template": round(monthly, 2)}
    assert data["lines"][0]["unit_price_usd"] == float(hosting("ml.m5.large"))
    assert data["region"] == "us-east-1" and data["price_date"] == P.PRICE_DATE


# --- the reference app and the CLI -----------------------------------------------------------


def test_reference_app_committed_cost(reference):
    report = estimate_monthly_cost(reference.outdir, region="us-east-1")
    names = {key: reference.stacks[key].stack_name for key in ("platform", "inference", "mlops")}
    totals = report.stack_totals()
    # The three reference stacks, plus the delivery example (its pipeline and dev/prod serving stacks).
    assert set(names.values()) <= set(totals)
    assert set(totals) - set(names.values()) <= {"SageMakerDelivery", "Dev-Serving", "Prod-Serving"}
    assert Decimal(100) < report.total < Decimal(1000), report.to_text()
    # Every priced line names its construct path, and nothing is silently dropped.
    assert all(line.path.startswith("/") for line in report.lines)
    kinds = {line.resource_type for line in report.lines}
    assert {"AWS::KMS::Key", "AWS::EC2::VPCEndpoint", "AWS::CloudWatch::Alarm"} <= kinds
    print(report.to_text())


def test_cli_prints_the_table_and_writes_json(reference, capsys):
    output = reference.outdir / OUTPUT_FILE
    try:
        assert main([str(reference.outdir), "--region", "us-east-1", "--write"]) == 0
        written = json.loads(output.read_text())
    finally:  # the session's reference assembly is shared with other tests
        output.unlink(missing_ok=True)
    out = capsys.readouterr().out
    report = estimate_monthly_cost(reference.outdir, region="us-east-1")
    assert f"Total: ${float(report.total.quantize(Decimal('0.01'))):,.2f}/month" in out
    assert written == report.to_dict()
    assert main([str(reference.outdir), "--region", "mars-east-1"]) == 2
    assert "mars-east-1" in capsys.readouterr().err
    assert main([str(reference.outdir), "--region", "us-east-1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_monthly_usd"] == written["total_monthly_usd"]


# --- MLflow tracking servers on a start/stop schedule (MlflowTrackingServer.add_running_schedule) ---

def _running_schedule(action, expression, name="t", **props):
    target = {"Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                        f":scheduler:::aws-sdk:sagemaker:{action}MlflowTrackingServer"]]},
              "RoleArn": "arn:aws:iam::1:role/s", "Input": json.dumps({"TrackingServerName": name})}
    return {"Type": "AWS::Scheduler::Schedule",
            "Properties": {"ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": target,
                           **props}}


def _scheduled_mlflow(start="cron(0 8 ? * MON-FRI *)", stop="cron(0 18 ? * MON-FRI *)", **props):
    template = _mlflow()
    template["Resources"]["Start"] = _running_schedule("start", start, **props)
    template["Resources"]["Stop"] = _running_schedule("stop", stop, **props)
    return template


def test_running_fraction_of_weekday_office_hours():
    from sagemaker_constructs.cost.schedules import running_fraction

    assert running_fraction(["cron(0 8 ? * MON-FRI *)"], ["cron(0 18 ? * MON-FRI *)"]) == Decimal(50) / Decimal(168)
    assert running_fraction([], ["cron(0 18 ? * FRI *)"]) == 0  # stopped once, never started again
    assert running_fraction(["cron(0 8 ? * MON *)"], []) == 1
    with pytest.raises(UnsupportedSchedule):
        running_fraction(["cron(0 8 1 * ? *)"], ["cron(0 18 ? * MON-FRI *)"])


def test_mlflow_on_weekdays_8_to_18_utc_runs_217_hours_a_month():
    report = estimate_monthly_cost(_scheduled_mlflow(), region="us-east-1", mlflow_prices={"Small": "2"})
    (line,) = report.lines
    hours = Decimal(50) / Decimal(168) * HOURS
    assert (line.item, line.quantity, line.monthly) == ("MLflow tracking server (Small)", hours, hours * 2)
    assert line.source == "supplied by the caller (mlflow_prices=)"
    assert "running 217.26 h/month on its schedule (50 of 168 h a week" in line.detail and "in UTC" in line.detail


def test_unpriced_mlflow_on_a_schedule_states_its_running_hours():
    report = estimate_monthly_cost(_scheduled_mlflow(), region="us-east-1")
    assert not report.lines
    (item,) = [u for u in report.unknown if u.logical_id == "Mlflow"]
    assert "running 217.26 h/month on its schedule" in item.note and "mlflow_prices=" in item.note
    assert {u.logical_id for u in report.usage_based} == {"Start", "Stop"}  # Scheduler invocations: usage-based


def test_mlflow_without_a_schedule_runs_730_hours():
    report = estimate_monthly_cost(_mlflow(), region="us-east-1", mlflow_prices={"Small": "2"})
    (line,) = report.lines
    assert line.quantity == HOURS and "around the clock (730 h/month)" in line.detail
    (item,) = estimate_monthly_cost(_mlflow(), region="us-east-1").unknown
    assert "running around the clock (730 h/month)" in item.note


def test_mlflow_schedules_of_another_server_or_disabled_ones_do_not_count():
    other = _mlflow()
    other["Resources"]["Start"] = _running_schedule("start", "cron(0 8 ? * MON-FRI *)", name="other")
    other["Resources"]["Stop"] = _running_schedule("stop", "cron(0 18 ? * MON-FRI *)", name="other")
    disabled = _scheduled_mlflow(State="DISABLED")
    for template in (other, disabled):
        (line,) = estimate_monthly_cost(template, region="us-east-1", mlflow_prices={"Small": "1"}).lines
        assert line.quantity == HOURS


def test_mlflow_schedule_in_a_time_zone_keeps_its_weekly_hours_and_says_so():
    template = _scheduled_mlflow(ScheduleExpressionTimezone="Europe/Berlin")
    (line,) = estimate_monthly_cost(template, region="us-east-1", mlflow_prices={"Small": "1"}).lines
    assert line.quantity == Decimal(50) / Decimal(168) * HOURS
    assert "in Europe/Berlin" in line.detail and "daylight-saving weeks not modelled" in line.detail


def test_mlflow_schedule_that_is_not_weekly_is_priced_around_the_clock():
    template = _scheduled_mlflow(start="cron(0 8 1 * ? *)")
    (line,) = estimate_monthly_cost(template, region="us-east-1", mlflow_prices={"Small": "1"}).lines
    assert line.quantity == HOURS and line.detail.startswith("schedule not evaluated")


def _nested_endpoint_app(tmp_path):
    """An app whose only endpoint (two ml.m5.large) is in a NestedStack inside a NestedStack."""
    from aws_cdk import aws_sagemaker as sm

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Parent", env=cdk.Environment(account="111111111111", region="us-east-1"))
    inner = cdk.NestedStack(cdk.NestedStack(stack, "Outer"), "Inner")
    config = sm.CfnEndpointConfig(inner, "Config", production_variants=[sm.CfnEndpointConfig.ProductionVariantProperty(
        variant_name="AllTraffic", model_name="m", instance_type="ml.m5.large", initial_instance_count=2)])
    sm.CfnEndpoint(inner, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
    return app, stack


def test_resources_of_a_nested_stack_are_priced(tmp_path):
    """A NestedStack's resources are in its own template, which the parent names only through an
    AWS::CloudFormation::Stack: an endpoint there was priced at $0 (and the review's cost gate missed it)."""
    app, stack = _nested_endpoint_app(tmp_path)
    expected = 2 * HOURS * hosting("ml.m5.large")
    from_stack = estimate_monthly_cost(stack)
    assert from_stack.total == expected
    app.synth()
    from_assembly = estimate_monthly_cost(str(tmp_path))
    assert from_assembly.total == expected
    (line,) = [line for line in from_assembly.lines if line.monthly]
    # named by construct path (Parent/Outer/Inner) where aws-cdk-lib records each template's path,
    # else by the nested template's file (Parent/ParentOuterInner<hash>)
    assert line.stack.startswith("Parent/") and "Inner" in line.stack and line.logical_id == "Endpoint"

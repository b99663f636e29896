"""ModelMonitor: data-quality job definition, schedule and drift alarm."""

from __future__ import annotations

import pytest
from aws_cdk import Duration

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    IsolatedNetwork,
    Model,
    ModelData,
    ModelMonitor,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ValidationError,
)
from tests.harness.templates import only, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
FEATURES = ["sepal_length_cm", "petal_width_cm"]


def _setup(stack, capture=True):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="inference")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE),
                  model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large",
                                data_capture=DataCapture(bucket) if capture else None)
    return key, net, bucket, endpoint


def _monitor(stack, **kwargs):
    key, net, bucket, endpoint = _setup(stack)
    kwargs.setdefault("features", FEATURES)
    monitor = ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                           output_bucket=bucket, encryption_key=key, vpc=net.vpc, **kwargs)
    return monitor, template_of(stack)


def test_job_is_isolated_encrypted_and_in_the_vpc(stack):
    _, t = _monitor(stack)
    job = only(t, "AWS::SageMaker::DataQualityJobDefinition")
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert job["NetworkConfig"]["VpcConfig"]["Subnets"]
    assert "VolumeKmsKeyId" in job["JobResources"]["ClusterConfig"]
    assert "KmsKeyId" in job["DataQualityJobOutputConfig"]
    assert job["DataQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == "s3://baseline-bucket/iris/constraints.json"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert job["DataQualityAppSpecification"]["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}


def test_hourly_schedule(stack):
    monitor, t = _monitor(stack)
    schedule = only(t, "AWS::SageMaker::MonitoringSchedule")
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "DataQuality"
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert schedule["MonitoringScheduleName"] == monitor.schedule_name


def test_alarm_on_drift_notifies_an_encrypted_topic(stack):
    _, t = _monitor(stack)
    alarm = only(t, "AWS::CloudWatch::Alarm")
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {f"feature_baseline_drift_{f}" for f in FEATURES}
    assert alarm["Threshold"] == 0.1
    assert len(alarm["AlarmActions"]) == 1
    topic = only(t, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic


def test_rejects_endpoint_without_data_capture(stack):
    key, net, bucket, endpoint = _setup(stack, capture=False)
    with pytest.raises(ValidationError, match="data_capture"):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris", output_bucket=bucket,
                     encryption_key=key, features=FEATURES)


@pytest.mark.parametrize("kwargs,match", [
    ({"baseline_uri": "https://example.com/x"}, "baseline_uri"),
    ({"features": []}, "features"),
    ({"schedule_expression": "hourly"}, "schedule_expression"),
    ({"max_runtime": Duration.hours(25)}, "max_runtime"),
    ({"instance_type": "large"}, "instance_type"),
])
def test_rejects_bad_input(stack, kwargs, match):
    key, net, bucket, endpoint = _setup(stack)
    args = {"baseline_uri": "s3://baseline-bucket/iris", "features": FEATURES, **kwargs}
    with pytest.raises(ValidationError, match=match):
        ModelMonitor(stack, "Monitor", endpoint=endpoint, output_bucket=bucket, encryption_key=key, **args)

"""Deploy rehearsal of the inference stack, after the platform stack whose exports it imports,
in one moto session (its own module: a module-scoped mock must not overlap another).

moto skips the types listed below silently; each is covered by template assertions instead.
"""

from __future__ import annotations

import pytest

from tests.harness.reference import rehearse_reference
from tests.harness.rehearsal import skipped_types
from tests.harness.templates import resources

EXPECTED_SKIPPED = {}


EXPECTED_SKIPPED["inference"] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": "tests/unit/test_endpoints.py::test_autoscaling_target_tracking_and_retained_count",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "tests/unit/test_endpoints.py::test_autoscaling_target_tracking_and_retained_count",
    "AWS::EC2::SecurityGroupEgress": "tests/unit/test_invoke.py (HTTPS to the endpoint security group only)",
    "AWS::CloudWatch::Alarm": "tests/unit/test_endpoints.py::test_canary_guardrail_with_default_rollback_alarms",
    "AWS::Lambda::EventInvokeConfig": "tests/unit/test_invoke.py (async retry attempts)",
    "AWS::SQS::QueuePolicy": "tests/unit/test_invoke.py (the dead-letter queue's TLS-only policy)",
    "AWS::SNS::TopicPolicy": "tests/unit/test_retention.py (the alarm topic, TLS-only by enforce_ssl)",
}


@pytest.fixture(scope="module")
def inference_rehearsal(reference):
    with rehearse_reference(reference, "inference", prerequisites=("platform",)) as r:
        yield reference.template("inference"), r


def test_inference_stack_creates(inference_rehearsal):
    _, r = inference_rehearsal
    assert r.status == "CREATE_COMPLETE", r.status_reason


def test_inference_skipped_types_are_the_known_ones(inference_rehearsal):
    template, r = inference_rehearsal
    assert skipped_types(template, r) == set(EXPECTED_SKIPPED["inference"])


def _config_by_endpoint(template, r, prefix):
    sm = r.client("sagemaker")
    (endpoint_id,) = [k for k in resources(template, "AWS::SageMaker::Endpoint") if k.startswith(prefix)]
    # moto names the endpoint itself (it ignores EndpointName): read the name from its ARN.
    endpoint = sm.describe_endpoint(EndpointName=r.physical_id(endpoint_id).split("/")[-1])
    return endpoint, sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])


def test_inference_serverless_config_is_what_we_meant(inference_rehearsal):
    template, r = inference_rehearsal
    _, config = _config_by_endpoint(template, r, "Serverless")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 20}
    assert "InstanceType" not in variant


def test_inference_realtime_config_is_what_we_meant(inference_rehearsal):
    template, r = inference_rehearsal
    endpoint, config = _config_by_endpoint(template, r, "Realtime")
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 2)
    assert config["KmsKeyId"].startswith("arn:aws:kms:")
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 20
    assert endpoint["EndpointStatus"] == "InService"


def test_inference_models_are_isolated_and_in_the_vpc(inference_rehearsal):
    template, r = inference_rehearsal
    sm = r.client("sagemaker")
    models = {lid: sm.describe_model(ModelName=r.physical_id(lid).split("/")[-1]) for lid in resources(template, "AWS::SageMaker::Model")}
    by_prefix = {lid.split("Resource")[0]: m for lid, m in models.items()}
    # moto ignores EnableNetworkIsolation from CloudFormation: tests/unit/test_models.py asserts it.
    realtime = next(m for k, m in by_prefix.items() if k.startswith("IrisModel"))
    assert len(realtime["VpcConfig"]["Subnets"]) == 2
    assert realtime["PrimaryContainer"]["ModelDataUrl"].startswith("s3://cdk-hnb659fds-assets-")
    serverless = next(m for k, m in by_prefix.items() if k.startswith("IrisServerlessModel"))
    assert not serverless.get("VpcConfig")  # moto returns an empty VpcConfig
    mme = next(m for k, m in by_prefix.items() if k.startswith("MultiModel"))
    assert mme["PrimaryContainer"]["Mode"] == "MultiModel"


def test_inference_invoker_function(inference_rehearsal):
    template, r = inference_rehearsal
    lam = r.client("lambda")
    (fn_id,) = [k for k, v in resources(template, "AWS::Lambda::Function").items()
                if v["Properties"].get("Handler") == "invoke_endpoint.handler"]
    config = lam.get_function(FunctionName=r.physical_id(fn_id))["Configuration"]
    assert config["Runtime"] == "python3.14"
    assert config["VpcConfig"]["SubnetIds"]
    assert config["Environment"]["Variables"]["ENDPOINT_NAME"]

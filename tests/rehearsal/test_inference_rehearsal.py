"""Deploy rehearsal of the inference stack, after the platform stack whose exports it imports,
in one moto session (its own module: a module-scoped mock must not overlap another).

moto skips the types listed below silently; each is covered by template assertions instead.
"""

from __future__ import annotations

import json

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

#: Resources left out of the rehearsal because moto cannot create them, and what covers them:
#: moto's CreateEndpointConfig requires a ModelName in every production variant, which an
#: inference-component endpoint's variant has none of, so the component endpoint's config, the
#: endpoint, its component and what refers to them are rehearsed by template assertions instead.
NOT_REHEARSED = {
    "AWS::SageMaker::EndpointConfig": "tests/unit/test_components.py::test_endpoint_defaults_scale_to_zero_instances",
    "AWS::SageMaker::Endpoint": "tests/unit/test_components.py::test_endpoint_defaults_scale_to_zero_instances",
    "AWS::SageMaker::InferenceComponent": "tests/unit/test_components.py::test_component_copies_autoscale_to_zero_and_wake_up",
    "AWS::ApplicationAutoScaling::ScalableTarget": "tests/unit/test_components.py::test_component_copies_autoscale_to_zero_and_wake_up",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "tests/unit/test_components.py::test_component_copies_autoscale_to_zero_and_wake_up",
    "AWS::CloudWatch::Alarm": "tests/unit/test_components.py::test_component_copies_autoscale_to_zero_and_wake_up",
}


def _component_endpoint_resources(template):
    """The inference-component endpoint's config (variants without a ModelName) and every resource
    that refers to it, transitively."""
    res = template["Resources"]
    dropped = {lid for lid, r in resources(template, "AWS::SageMaker::EndpointConfig").items()
               if all("ModelName" not in v for v in r["Properties"].get("ProductionVariants", []))}
    while True:
        more = {lid for lid, r in res.items() if lid not in dropped and any(
            f'"Ref": "{d}"' in json.dumps(r) or f'["{d}",' in json.dumps(r) or d in (r.get("DependsOn") or [])
            for d in dropped)}
        if not more:
            return dropped
        dropped |= more


def test_not_rehearsed_resources_are_the_component_endpoint(reference):
    template = reference.template("inference")
    dropped = _component_endpoint_resources(template)
    assert {template["Resources"][d]["Type"] for d in dropped} == set(NOT_REHEARSED)
    assert any(d.startswith("Components") and template["Resources"][d]["Type"] == "AWS::SageMaker::Endpoint"
               for d in dropped)


@pytest.fixture(scope="module")
def inference_rehearsal(reference):
    template = json.loads(json.dumps(reference.template("inference")))
    for lid in _component_endpoint_resources(template):
        del template["Resources"][lid]
    with rehearse_reference(_WithTemplate(reference, "inference", template), "inference",
                            prerequisites=("platform",)) as r:
        yield template, r


class _WithTemplate:
    """``reference`` with one stack's template replaced (what ``rehearse_reference`` reads)."""

    def __init__(self, reference, name, template):
        self._reference, self._name, self._template = reference, name, template
        self.stacks, self.outdir = reference.stacks, reference.outdir

    def template(self, name):
        return self._template if name == self._name else self._reference.template(name)


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

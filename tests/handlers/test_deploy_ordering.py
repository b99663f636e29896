"""deploy_on_approval: approvals never go backwards; rolling back is explicit (``"force": true``).

The endpoint is a small state machine (config served, config pending, status) played through a
botocore Stubber on a real client, so each request is checked against SageMaker's service model.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import load_handler

doa = load_handler("deploy_on_approval")

ACCOUNT, REGION = "123456789012", "us-east-1"
GROUP, ENDPOINT = "churn-model", "churn-endpoint"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/model-execution"
TEMPLATE_CONFIG = "EndpointConfig-AbC123dEf456"  # created by CloudFormation: no version
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def arn(version: int) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/{version}"


def name(version: int) -> str:
    return doa.resource_name(GROUP, version, arn(version), ENDPOINT)


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for key, value in {"ENDPOINT_NAME": ENDPOINT, "MODEL_PACKAGE_GROUP_NAME": GROUP, "EXECUTION_ROLE_ARN": ROLE}.items():
        monkeypatch.setenv(key, value)
    for key in ("VARIANT_NAME", "VPC_CONFIG", "ENABLE_NETWORK_ISOLATION", "KMS_KEY_ARN", "DATA_CAPTURE_CONFIG",
                "DEPLOYMENT_CONFIG"):
        monkeypatch.delenv(key, raising=False)


class Endpoint:
    """The endpoint's state, and the SageMaker answers it implies, queued on a Stubber."""

    def __init__(self, stub: Stubber) -> None:
        self.stub = stub
        self.current, self.pending, self.status = TEMPLATE_CONFIG, None, "InService"

    def finish_rollout(self) -> None:
        self.current, self.pending, self.status = self.pending or self.current, None, "InService"

    def expect_describe(self, version: int) -> None:
        self.stub.add_response("describe_model_package", {
            "ModelPackageName": GROUP, "ModelPackageGroupName": GROUP, "ModelPackageVersion": version,
            "ModelPackageArn": arn(version), "CreationTime": NOW, "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []}, "ModelApprovalStatus": "Approved",
            "InferenceSpecification": {"Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1",
                                                       "ModelDataUrl": f"s3://models/churn/{version}/model.tar.gz"}],
                                       "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        }, {"ModelPackageName": arn(version)})
        self.stub.add_response("describe_endpoint", {
            "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": self.current, "EndpointStatus": self.status, "CreationTime": NOW,
            "LastModifiedTime": NOW,
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 2, "DesiredInstanceCount": 2,
                                    "CurrentWeight": 1.0, "DesiredWeight": 1.0}],
            **({"PendingDeploymentSummary": {"EndpointConfigName": self.pending, "StartTime": NOW}}
               if self.pending else {}),
        }, {"EndpointName": ENDPOINT})

    def expect_deploy(self, version: int) -> None:
        """The calls of a deployment of ``version``; afterwards the endpoint is Updating to it."""
        target = name(version)
        self.stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": self.current, "CreationTime": NOW,
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{self.current.lower()}",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 2,
                                    "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        }, {"EndpointConfigName": self.current})
        self.stub.add_response("create_model", {"ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{target}"})
        self.stub.add_response("create_endpoint_config",
                               {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{target}"})
        self.stub.add_response("update_endpoint", {"EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/e"},
                               {"EndpointName": ENDPOINT, "EndpointConfigName": target,
                                "RetainAllVariantProperties": False})
        self.pending, self.status = target, "Updating"


@pytest.fixture
def endpoint(monkeypatch):
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stub:
        monkeypatch.setattr(doa, "_client", lambda service: {"sagemaker": client}[service])
        yield Endpoint(stub)
        stub.assert_no_pending_responses()


def approval(version: int, **extra) -> dict:
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change", **extra,
            "detail": {"ModelPackageGroupName": GROUP, "ModelPackageVersion": version,
                       "ModelPackageArn": arn(version), "ModelApprovalStatus": "Approved"}}


def sqs(*events: dict) -> dict:
    return {"Records": [{"messageId": f"m{i}", "body": json.dumps(e)} for i, e in enumerate(events)]}


def test_version_of_reads_only_configs_this_function_named():
    assert doa.version_of(GROUP, name(7)) == 7
    assert doa.version_of(GROUP, name(12)) == 12
    assert doa.version_of(GROUP, TEMPLATE_CONFIG) is None
    assert doa.version_of(GROUP, None) is None
    assert doa.version_of(GROUP, doa.resource_name("other-group", 9, arn(9), ENDPOINT)) is None


def test_v7_during_rollout_then_v8_then_v7_retried_ends_serving_v8(endpoint):
    # v7 approved: deployed (the endpoint starts a blue/green rollout).
    endpoint.expect_describe(7)
    endpoint.expect_deploy(7)
    assert doa.handler(sqs(approval(7)), None)["batchItemFailures"] == []
    # v8 approved during that rollout: the endpoint is busy, the approval goes back to the queue.
    endpoint.expect_describe(8)
    assert doa.handler(sqs(approval(8)), None)["batchItemFailures"] == [{"itemIdentifier": "m0"}]
    # The rollout ends; v8 is retried and deployed.
    endpoint.finish_rollout()
    endpoint.expect_describe(8)
    endpoint.expect_deploy(8)
    assert doa.handler(sqs(approval(8)), None)["results"][0]["decision"] == "deployed"
    # v7 arrives again (a redelivery, a redrive from the dead-letter queue) during v8's rollout...
    endpoint.expect_describe(7)
    result = doa.handler(sqs(approval(7)), None)
    assert result["batchItemFailures"] == [] and result["results"][0]["decision"] == "superseded"
    assert result["results"][0]["pending_version"] == 8
    # ... and after it: still superseded, nothing created or updated.
    endpoint.finish_rollout()
    endpoint.expect_describe(7)
    assert doa.handler(approval(7), None)["decision"] == "superseded"
    assert (endpoint.current, endpoint.pending) == (name(8), None)


def test_newer_version_replaces_an_older_one_and_the_template_config(endpoint):
    endpoint.expect_describe(3)
    endpoint.expect_deploy(3)  # over the template's config: no version to compare with
    assert doa.handler(approval(3), None)["decision"] == "deployed"
    endpoint.finish_rollout()
    endpoint.expect_describe(4)
    endpoint.expect_deploy(4)
    assert doa.handler(approval(4), None)["decision"] == "deployed"


def test_rollback_is_explicit_with_force(endpoint, capsys):
    endpoint.current = name(8)
    endpoint.expect_describe(7)
    assert doa.handler(approval(7), None)["decision"] == "superseded"
    endpoint.expect_describe(7)
    endpoint.expect_deploy(7)
    result = doa.handler(sqs(approval(7, force=True)), None)
    assert result["results"][0]["decision"] == "deployed" and endpoint.pending == name(7)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["decision"] for line in lines] == ["superseded", "rollback-forced", "deployed"]


@pytest.mark.parametrize("force", ["true", 1, "yes"])
def test_only_a_literal_true_forces(endpoint, force):
    endpoint.current = name(8)
    endpoint.expect_describe(7)
    assert doa.handler(approval(7, force=force), None)["decision"] == "superseded"

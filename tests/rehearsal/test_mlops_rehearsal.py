"""Deploy rehearsal of the MLOps stack after the platform and inference stacks it imports from,
in one moto session. moto skips the types listed below; each is covered by template assertions."""

from __future__ import annotations

import json

import pytest

from tests.harness.reference import rehearse_reference
from tests.harness.rehearsal import skipped_types
from tests.harness.templates import resources

EXPECTED_SKIPPED = {
    "AWS::SageMaker::ModelPackageGroup": "tests/unit/test_pipelines.py::test_model_package_group_defaults",
    "AWS::SageMaker::Pipeline": "tests/unit/test_pipelines.py (the parsed definition)",
    "AWS::SageMaker::DataQualityJobDefinition": "tests/unit/test_monitoring.py",
    "AWS::SageMaker::MonitoringSchedule": "tests/unit/test_monitoring.py",
    "AWS::Scheduler::Schedule": "tests/unit/test_pipelines.py::test_schedule_starts_the_pipeline",
    "AWS::CloudWatch::Alarm": "tests/unit/test_monitoring.py::test_alarm_on_drift_notifies_an_encrypted_topic",
    "AWS::EC2::SecurityGroupEgress": "tests/unit/test_pipelines.py, tests/unit/test_monitoring.py",
    "AWS::Lambda::EventInvokeConfig": "tests/unit/test_deploy.py",
    "AWS::SQS::QueuePolicy": "tests/unit/test_deploy.py",
    "AWS::SNS::TopicPolicy": "tests/unit/test_monitoring.py",
}


@pytest.fixture(scope="module")
def mlops_rehearsal(reference):
    # The inference stack as its own rehearsal creates it: without the inference-component endpoint,
    # which moto cannot create (see tests/rehearsal/test_inference_rehearsal.py).
    from tests.rehearsal.test_inference_rehearsal import _component_endpoint_resources, _WithTemplate

    inference = json.loads(json.dumps(reference.template("inference")))
    for lid in _component_endpoint_resources(inference):
        del inference["Resources"][lid]
    with rehearse_reference(_WithTemplate(reference, "inference", inference), "mlops",
                            prerequisites=("platform", "inference")) as r:
        yield reference.template("mlops"), r


def test_mlops_stack_creates(mlops_rehearsal):
    _, r = mlops_rehearsal
    assert r.status == "CREATE_COMPLETE", r.status_reason


def test_mlops_skipped_types_are_the_known_ones(mlops_rehearsal):
    template, r = mlops_rehearsal
    assert skipped_types(template, r) == set(EXPECTED_SKIPPED)


def test_mlops_deploy_rule_targets_the_approval_queue(mlops_rehearsal):
    template, r = mlops_rehearsal
    events = r.client("events")
    # The approval rule (the stack's other rules: the recommender's schedule, the retraining trigger).
    (rule_id,) = [lid for lid in resources(template, "AWS::Events::Rule") if lid.startswith("DeployOnApproval")]
    rule_name = r.physical_id(rule_id).split("/")[-1].split("|")[0]
    rule = events.describe_rule(Name=rule_name)
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"]["ModelApprovalStatus"] == ["Approved"]
    (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    assert target["Arn"].startswith("arn:aws:sqs:")  # approvals are buffered, then retried while the endpoint is busy
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_mlops_approval_queue_feeds_the_deployer(mlops_rehearsal):
    template, r = mlops_rehearsal
    lam = r.client("lambda")
    (fn_id,) = [k for k, v in resources(template, "AWS::Lambda::Function").items()
                if v["Properties"].get("Handler") == "deploy_on_approval.handler"]
    mappings = lam.list_event_source_mappings(FunctionName=r.physical_id(fn_id))["EventSourceMappings"]
    assert len(mappings) == 1 and mappings[0]["BatchSize"] == 1
    assert mappings[0]["EventSourceArn"].startswith("arn:aws:sqs:")


def test_mlops_deployer_function_is_configured_for_the_endpoint(mlops_rehearsal):
    template, r = mlops_rehearsal
    lam = r.client("lambda")
    (fn_id,) = [k for k, v in resources(template, "AWS::Lambda::Function").items()
                if v["Properties"].get("Handler") == "deploy_on_approval.handler"]
    config = lam.get_function(FunctionName=r.physical_id(fn_id))["Configuration"]
    variables = config["Environment"]["Variables"]
    assert variables["MODEL_PACKAGE_GROUP_NAME"] == "iris"
    assert json.loads(variables["DEPLOYMENT_CONFIG"])["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert variables["ENABLE_NETWORK_ISOLATION"] == "true"
    assert config["VpcConfig"]["SubnetIds"]
